"""Observed bad rates with 95 % intervals: a count of bad among applicants is a binomial share.

Small counts are the rule here (a dozen bad among a few hundred pre-approved applicants), so
the intervals are score intervals, which stay inside [0, 1] and keep their coverage with few
events, not the normal approximation ``p ± 1.96·sqrt(p(1-p)/n)``:

- :func:`wilson_interval`: Wilson's score interval of one share;
- :func:`difference_interval`: Newcombe's hybrid score interval of the difference of two
  independent shares, built from their two Wilson intervals (Newcombe 1998, method 10);
- :func:`standardised_difference`: the same over strata (e.g. months) whose mix differs
  between the two groups — the second group's rates weighted by the first's applicants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from puhui.domain.errors import InvalidInput

Z95 = 1.959963984540054
"""The standard normal quantile of 0.975: a two-sided 95 % interval."""


@dataclass(frozen=True)
class BadRate:
    """``bad`` of ``applicants`` with the Wilson interval of the share."""

    applicants: int
    bad: int

    def __post_init__(self) -> None:
        _check(self.bad, self.applicants)

    @property
    def rate(self) -> float:
        """The observed share; NaN with no applicants."""
        return self.bad / self.applicants if self.applicants else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.bad, self.applicants)

    def __add__(self, other: BadRate) -> BadRate:
        return BadRate(self.applicants + other.applicants, self.bad + other.bad)


def _check(bad: int, applicants: int) -> None:
    if applicants < 0 or bad < 0 or bad > applicants:
        raise InvalidInput(
            f"a count of {bad} bad among {applicants} applicants is not a share: "
            "both must be ≥ 0 and bad ≤ applicants"
        )


def wilson_interval(bad: int, applicants: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of ``bad / applicants``; (NaN, NaN) with no applicants."""
    _check(bad, applicants)
    if applicants == 0:
        return (math.nan, math.nan)
    n = float(applicants)
    p = bad / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 or n events one bound is exactly 0 or 1; rounding must not move it across.
    low = 0.0 if bad == 0 else max(0.0, centre - half)
    high = 1.0 if bad == applicants else min(1.0, centre + half)
    return (low, high)


def difference_interval(first: BadRate, second: BadRate) -> tuple[float, float, float]:
    """``first.rate - second.rate`` and Newcombe's 95 % interval of it: (difference, low, high).

    The two groups are taken as independent samples. NaN throughout when either is empty.
    """
    if first.applicants == 0 or second.applicants == 0:
        return (math.nan, math.nan, math.nan)
    return _mover(first.rate, first.interval, second.rate, second.interval)


def standardised_rate(
    strata: Sequence[BadRate], weights: Sequence[float], z: float = Z95
) -> tuple[float, float, float]:
    """The rate of ``strata`` weighted by ``weights`` (e.g. another group's applicants in each
    stratum): (rate, low, high), the interval normal — meant for large strata.

    A stratum of zero weight is left out; one with weight but no applicants makes it NaN.
    """
    if len(strata) != len(weights) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidInput("standardising needs one weight ≥ 0 per stratum, not all of them 0")
    total = float(sum(weights))
    rate = variance = 0.0
    for stratum, weight in zip(strata, weights, strict=True):
        if weight == 0:
            continue
        if stratum.applicants == 0:
            return (math.nan, math.nan, math.nan)
        share = weight / total
        p = stratum.rate
        rate += share * p
        variance += share * share * p * (1 - p) / stratum.applicants
    half = z * math.sqrt(variance)
    return (rate, max(0.0, rate - half), min(1.0, rate + half))


def standardised_difference(
    first: Sequence[BadRate], second: Sequence[BadRate]
) -> tuple[float, float, float]:
    """Stratified ``first − second``: the pooled rate of ``first`` against ``second``'s rates
    weighted by ``first``'s applicants in each stratum (what ``second`` would show with
    ``first``'s mix of strata), with a 95 % interval: (difference, low, high).

    The pooled share of ``first`` has its Wilson interval, the weighted rate of ``second`` a
    normal one; they are combined as Newcombe combines two Wilson intervals (MOVER).
    """
    pooled = sum(first, BadRate(0, 0))
    if pooled.applicants == 0:
        return (math.nan, math.nan, math.nan)
    rate, low, high = standardised_rate(second, [float(s.applicants) for s in first])
    if math.isnan(rate):
        return (math.nan, math.nan, math.nan)
    return _mover(pooled.rate, pooled.interval, rate, (low, high))


def _mover(
    p1: float, interval1: tuple[float, float], p2: float, interval2: tuple[float, float]
) -> tuple[float, float, float]:
    """``p1 − p2`` with the interval recovered from the two shares' own intervals."""
    l1, u1 = interval1
    l2, u2 = interval2
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (difference, low, high)
