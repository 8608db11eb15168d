"""The 2023 classification rules over a loan's history: one table row per rule, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidInput
from puhui.domain.lending.delinquency import FiveCategory, classify
from puhui.domain.lending.loan_changes import (
    ChangeKind,
    ContractChange,
    LoanHistory,
    Reason,
    classify_with_history,
    missed_repayment,
    observation_end,
)
from puhui.domain.lending.schedule import add_months

P = FiveCategory.PASS
SM = FiveCategory.SPECIAL_MENTION
SS = FiveCategory.SUBSTANDARD
D = FiveCategory.DOUBTFUL
L = FiveCategory.LOSS

CHANGE_DAY = date(2024, 1, 10)
MONTHLY = tuple(add_months(date(2024, 1, 15), i) for i in range(36))
QUARTERLY = tuple(add_months(date(2024, 3, 31), 3 * i) for i in range(12))


def restructuring(on: date = CHANGE_DAY) -> ContractChange:
    return ContractChange(ChangeKind.RESTRUCTURING, on, in_difficulty=True)


def history(
    dpd: int = 0,
    changes: tuple[ContractChange, ...] = (),
    previous: FiveCategory | None = None,
    missed: frozenset[date] = frozenset(),
    dates: tuple[date, ...] = MONTHLY,
) -> LoanHistory:
    return LoanHistory(
        days_past_due=dpd,
        changes=changes,
        repayment_dates=dates,
        missed_dates=missed,
        previous=previous,
    )


AS_OF = date(2024, 6, 1)


@pytest.mark.parametrize(
    ("rule", "loan", "expected"),
    [
        ("current loan is pass", history(), P),
        ("overdue is at least special mention", history(dpd=1), SM),
        ("90 days is still special mention", history(dpd=90), SM),
        ("more than 90 days is at least substandard", history(dpd=91), SS),
        ("270 days is still substandard", history(dpd=270), SS),
        ("more than 270 days is at least doubtful", history(dpd=271), D),
        ("360 days is still doubtful", history(dpd=360), D),
        ("more than 360 days is loss", history(dpd=361), L),
        (
            "restructuring a performing loan makes it at least special mention",
            history(changes=(restructuring(),), previous=P),
            SM,
        ),
        (
            "a non-performing restructured loan is not upgraded in observation",
            history(dpd=0, changes=(restructuring(),), previous=SS),
            SS,
        ),
        (
            "a doubtful restructured loan stays doubtful in observation",
            history(dpd=5, changes=(restructuring(),), previous=D),
            D,
        ),
        (
            "a restructured loan still follows a worse DPD floor",
            history(dpd=300, changes=(restructuring(),), previous=SM),
            D,
        ),
        (
            "a second restructuring inside observation is at least doubtful",
            history(changes=(restructuring(), restructuring(date(2024, 5, 1))), previous=SM),
            D,
        ),
        (
            "an extension for a debtor in difficulty is a restructuring",
            history(changes=(ContractChange(ChangeKind.EXTENSION, CHANGE_DAY, True),)),
            SM,
        ),
        (
            "a renewal for a debtor not in difficulty is not downgraded",
            history(changes=(ContractChange(ChangeKind.RENEWAL, CHANGE_DAY, False),)),
            P,
        ),
        (
            "an extension for a debtor not in difficulty is not downgraded",
            history(changes=(ContractChange(ChangeKind.EXTENSION, CHANGE_DAY, False),)),
            P,
        ),
        (
            "a restructuring after the as-of date does not count yet",
            history(changes=(restructuring(date(2024, 7, 1)),)),
            P,
        ),
    ],
)
def test_rule(rule: str, loan: LoanHistory, expected: FiveCategory) -> None:
    assert classify_with_history(loan, AS_OF).category is expected, rule


def test_observation_starts_on_first_repayment_date_and_lasts_at_least_a_year() -> None:
    # first due date after 10 Jan is 15 Jan; monthly dates make the one-year floor bind
    assert observation_end(CHANGE_DAY, MONTHLY, frozenset()) == date(2025, 1, 15)


def test_observation_lasts_at_least_two_periods_when_periods_are_long() -> None:
    annual = tuple(date(2024 + i, 3, 31) for i in range(5))
    # starts 31 Mar 2024; two periods later is 31 Mar 2026, later than one year
    assert observation_end(CHANGE_DAY, annual, frozenset()) == date(2026, 3, 31)


def test_missed_payment_restarts_observation_from_next_repayment_date() -> None:
    missed = frozenset({date(2024, 4, 15)})
    assert observation_end(CHANGE_DAY, MONTHLY, missed) == date(2025, 5, 15)


def test_missed_payment_after_observation_does_not_restart_it() -> None:
    missed = frozenset({date(2025, 2, 15)})
    assert observation_end(CHANGE_DAY, MONTHLY, missed) == date(2025, 1, 15)


def test_observation_not_started_without_a_later_repayment_date() -> None:
    assert observation_end(date(2030, 1, 1), MONTHLY, frozenset()) is None


def test_after_observation_a_cured_restructured_loan_can_be_upgraded() -> None:
    loan = history(changes=(restructuring(),), previous=SS)
    result = classify_with_history(loan, date(2025, 1, 16))
    assert result.category is P
    assert result.in_observation is False
    assert result.observation_ends_on == date(2025, 1, 15)


def test_missed_payment_keeps_non_performing_loan_in_observation_longer() -> None:
    loan = history(changes=(restructuring(),), previous=SS, missed=frozenset({date(2024, 4, 15)}))
    assert classify_with_history(loan, date(2025, 2, 1)).category is SS


def test_second_restructuring_after_observation_is_not_doubtful() -> None:
    loan = history(changes=(restructuring(), restructuring(date(2025, 3, 1))), previous=P)
    result = classify_with_history(loan, date(2025, 3, 2))
    assert result.category is SM
    assert Reason.RESTRUCTURED_AGAIN_IN_OBSERVATION not in result.reasons


def test_reasons_name_each_trigger() -> None:
    loan = history(dpd=100, changes=(restructuring(),), previous=SS)
    assert classify_with_history(loan, AS_OF).reasons == (
        Reason.DAYS_PAST_DUE,
        Reason.RESTRUCTURED,
        Reason.NO_UPGRADE_IN_OBSERVATION,
    )


def test_missed_date_must_be_a_repayment_date() -> None:
    with pytest.raises(InvalidInput):
        classify_with_history(history(missed=frozenset({date(2024, 2, 1)})), AS_OF)


def test_negative_days_past_due_refused() -> None:
    with pytest.raises(InvalidInput):
        classify_with_history(history(dpd=-1), AS_OF)


# --- properties -------------------------------------------------------------------------

categories = st.sampled_from(list(FiveCategory))
change_days = st.dates(min_value=date(2023, 6, 1), max_value=date(2026, 6, 1))
changes = st.builds(ContractChange, st.sampled_from(list(ChangeKind)), change_days, st.booleans())


@st.composite
def histories(draw: st.DrawFn) -> LoanHistory:
    dates = tuple(sorted(set(draw(st.lists(change_days, max_size=30)))))
    missed = frozenset(draw(st.lists(st.sampled_from(dates), max_size=5))) if dates else frozenset()
    return LoanHistory(
        days_past_due=draw(st.integers(min_value=0, max_value=800)),
        changes=tuple(draw(st.lists(changes, max_size=4))),
        repayment_dates=dates,
        missed_dates=missed,
        previous=draw(st.none() | categories),
    )


as_of_days = st.dates(min_value=date(2023, 6, 1), max_value=date(2028, 1, 1))


@given(histories(), as_of_days)
def test_never_better_than_the_dpd_floor(loan: LoanHistory, as_of: date) -> None:
    result = classify_with_history(loan, as_of)
    assert result.category.rank >= classify(loan.days_past_due).rank
    assert result.dpd_floor is classify(loan.days_past_due)


@given(histories(), as_of_days)
def test_restructuring_never_upgrades_inside_observation(loan: LoanHistory, as_of: date) -> None:
    result = classify_with_history(loan, as_of)
    if result.in_observation:
        assert result.category.rank >= SM.rank
        if loan.previous is not None and loan.previous.is_non_performing:
            assert result.category.rank >= loan.previous.rank


@given(histories(), as_of_days)
def test_changes_for_debtors_not_in_difficulty_do_not_downgrade(
    loan: LoanHistory, as_of: date
) -> None:
    benign = tuple(
        ContractChange(c.kind, c.changed_on, False)
        for c in loan.changes
        if c.kind is not ChangeKind.RESTRUCTURING
    )
    plain = LoanHistory(
        loan.days_past_due, benign, loan.repayment_dates, loan.missed_dates, loan.previous
    )
    assert classify_with_history(plain, as_of).category is classify(loan.days_past_due)


@given(histories(), as_of_days, st.integers(min_value=0, max_value=400))
def test_more_days_past_due_never_improves_the_category(
    loan: LoanHistory, as_of: date, extra_days: int
) -> None:
    worse = LoanHistory(
        loan.days_past_due + extra_days,
        loan.changes,
        loan.repayment_dates,
        loan.missed_dates,
        loan.previous,
    )
    before = classify_with_history(loan, as_of).category
    assert classify_with_history(worse, as_of).category.rank >= before.rank


@given(change_days, st.lists(change_days, min_size=1, max_size=30), st.data())
def test_observation_is_at_least_a_year_and_two_periods(
    changed_on: date, raw_dates: list[date], data: st.DataObject
) -> None:
    dates = tuple(sorted(set(raw_dates)))
    missed = frozenset(data.draw(st.lists(st.sampled_from(dates), max_size=4)))
    end = observation_end(changed_on, dates, missed)
    later = [d for d in dates if d > changed_on]
    if not later:
        assert end is None
        return
    if end is None:  # a missed repayment restarted it after the last repayment date
        assert any(m >= later[0] for m in missed)
        return
    assert end >= later[0] + timedelta(days=365)
    if len(later) >= 3:
        assert end >= later[2]


def test_the_repayment_missed_is_the_latest_date_on_or_before_the_arrears() -> None:
    dates = (date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 2))
    # Servicing marks arrears from the day after the date missed.
    assert missed_repayment(date(2026, 2, 3), dates) == date(2026, 2, 2)
    assert missed_repayment(date(2026, 3, 20), dates) == date(2026, 3, 2)
    assert missed_repayment(date(2026, 2, 1), dates) is None
    assert missed_repayment(None, dates) is None
