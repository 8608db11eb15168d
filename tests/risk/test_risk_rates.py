"""Bad rates' intervals against the worked examples of Newcombe (1998)."""

from __future__ import annotations

import math

import pytest

from puhui.domain.errors import InvalidInput
from puhui.risk.rates import (
    BadRate,
    difference_interval,
    standardised_difference,
    standardised_rate,
    wilson_interval,
)


def test_wilson_interval_matches_the_published_example() -> None:
    # Newcombe 1998 (single proportion), 81 of 263: score interval 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


def test_wilson_interval_is_bounded_at_zero_and_all_events() -> None:
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=5e-5))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=5e-5), 1.0)


def test_wilson_interval_narrows_as_the_sample_grows_around_the_same_share() -> None:
    small = wilson_interval(12, 700)
    large = wilson_interval(120, 7000)
    assert small[0] < large[0] < 12 / 700 < large[1] < small[1]


def test_difference_interval_matches_newcombes_method_10() -> None:
    # Newcombe 1998 (difference of independent proportions), 56/70 - 48/80: 0.0524 to 0.3339,
    # and 9/10 - 3/10: 0.1705 to 0.8090.
    difference, low, high = difference_interval(BadRate(70, 56), BadRate(80, 48))
    assert difference == pytest.approx(0.2)
    assert (low, high) == (pytest.approx(0.0524, abs=5e-5), pytest.approx(0.3339, abs=5e-5))
    _, low, high = difference_interval(BadRate(10, 9), BadRate(10, 3))
    assert (low, high) == (pytest.approx(0.1705, abs=5e-5), pytest.approx(0.8090, abs=5e-5))


def test_difference_interval_is_antisymmetric() -> None:
    first, second = BadRate(707, 12), BadRate(5902, 97)
    forward = difference_interval(first, second)
    backward = difference_interval(second, first)
    assert backward == pytest.approx((-forward[0], -forward[2], -forward[1]))
    assert forward[1] < 0 < forward[2]  # 1.70 % against 1.64 %: not told apart


def test_bad_rates_pool_by_adding_counts() -> None:
    pooled = BadRate(700, 12) + BadRate(300, 3)
    assert pooled == BadRate(1000, 15)
    assert pooled.rate == pytest.approx(0.015)


def test_an_empty_group_has_no_rate_and_no_interval() -> None:
    assert math.isnan(BadRate(0, 0).rate)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert all(math.isnan(v) for v in difference_interval(BadRate(0, 0), BadRate(10, 1)))


@pytest.mark.parametrize(("applicants", "bad"), [(10, 11), (-1, 0), (10, -1)])
def test_counts_that_are_not_a_share_are_refused(applicants: int, bad: int) -> None:
    with pytest.raises(InvalidInput, match="not a share"):
        BadRate(applicants, bad)
    with pytest.raises(InvalidInput, match="not a share"):
        wilson_interval(bad, applicants)


def test_standardised_rate_weights_each_stratum_by_the_other_groups_mix() -> None:
    strata = [BadRate(1000, 10), BadRate(1000, 40)]  # 1 % and 4 %
    rate, low, high = standardised_rate(strata, [3.0, 1.0])
    assert rate == pytest.approx(0.75 * 0.01 + 0.25 * 0.04)
    half = 1.959963984540054 * math.sqrt(
        0.75**2 * 0.01 * 0.99 / 1000 + 0.25**2 * 0.04 * 0.96 / 1000
    )
    assert (low, high) == (pytest.approx(rate - half), pytest.approx(rate + half))
    # A stratum the first group never reached does not count, even when empty.
    assert standardised_rate([*strata, BadRate(0, 0)], [3.0, 1.0, 0.0])[0] == pytest.approx(rate)
    assert math.isnan(standardised_rate([BadRate(0, 0)], [1.0])[0])
    with pytest.raises(InvalidInput, match="weight"):
        standardised_rate(strata, [0.0, 0.0])


def test_standardised_difference_removes_a_difference_that_is_only_the_mix() -> None:
    # Same rate as the second group in each month, but most applicants in its good month:
    # pooled crudely the first group looks better; standardised, the difference is 0.
    first = [BadRate(900, 9), BadRate(100, 4)]  # 1 % and 4 %
    second = [BadRate(1000, 10), BadRate(3000, 120)]  # 1 % and 4 %
    crude, _, _ = difference_interval(sum(first, BadRate(0, 0)), sum(second, BadRate(0, 0)))
    assert crude == pytest.approx(0.013 - 0.0325)
    difference, low, high = standardised_difference(first, second)
    assert difference == pytest.approx(0.0, abs=1e-12)
    assert low < 0 < high


def test_standardised_difference_of_one_stratum_is_close_to_newcombes() -> None:
    first, second = BadRate(707, 12), BadRate(5902, 97)
    one = standardised_difference([first], [second])
    newcombe = difference_interval(first, second)
    assert one[0] == pytest.approx(newcombe[0])
    assert one[1:] == (pytest.approx(newcombe[1], abs=5e-4), pytest.approx(newcombe[2], abs=5e-4))
