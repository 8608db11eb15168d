"""Extension and restructuring policy limits, and the four-eyes rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidInput
from puhui.domain.lending.loan_changes import (
    ChangePolicy,
    ExtensionBeyondPolicy,
    SameApprover,
    TooManyChanges,
    check_four_eyes,
)

POLICY = ChangePolicy()


@pytest.mark.parametrize(
    ("original", "allowed"),
    [(6, 6), (12, 12), (13, 6), (24, 12), (60, 30), (61, 36), (120, 36)],
)
def test_extension_limit_by_original_term(original: int, allowed: int) -> None:
    assert POLICY.max_extension_months(original) == allowed
    POLICY.check_extension(original, allowed, 0)
    with pytest.raises(ExtensionBeyondPolicy) as refused:
        POLICY.check_extension(original, allowed + 1, 0)
    assert refused.value.code == "extension_beyond_policy"
    assert refused.value.details["max_extension_months"] == allowed


def test_too_many_changes_refused() -> None:
    POLICY.check_extension(12, 3, 1)
    with pytest.raises(TooManyChanges):
        POLICY.check_extension(12, 3, 2)


def test_policy_is_configurable() -> None:
    strict = ChangePolicy(max_changes=1, short_term_factor_pct=50)
    assert strict.max_extension_months(12) == 6
    with pytest.raises(TooManyChanges):
        strict.check_count(1)


@pytest.mark.parametrize("months", [0, -1, True])
def test_extension_must_be_a_positive_number_of_months(months: int) -> None:
    with pytest.raises(InvalidInput):
        POLICY.check_extension(12, months, 0)


def test_negative_policy_refused() -> None:
    with pytest.raises(InvalidInput):
        ChangePolicy(max_changes=-1)


def test_requester_may_not_approve() -> None:
    check_four_eyes("alice", "bob")
    with pytest.raises(SameApprover) as refused:
        check_four_eyes("alice", "alice")
    assert refused.value.code == "four_eyes_violation"


@given(st.integers(min_value=1, max_value=600))
def test_extension_never_exceeds_original_term_or_three_years(original: int) -> None:
    allowed = POLICY.max_extension_months(original)
    assert 0 <= allowed <= min(original, 36)
