"""Schedules of term loans: broken periods, month ends, re-amortisation, invariants."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, InvalidRate
from puhui.domain.lending.errors import MethodNotSupported
from puhui.domain.lending.product import EarlyRepaymentMode, RepaymentMethod
from puhui.domain.lending.schedule import (
    Instalment,
    add_months,
    build_schedule,
    due_dates,
    is_regular_period,
    reamortise,
    span_interest_exact,
)
from puhui.domain.money import Rounding, round_fen

RATE = Decimal("0.0435")
EI = RepaymentMethod.EQUAL_INSTALMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
TERM_METHODS = [EI, EP, RepaymentMethod.INTEREST_FIRST, RepaymentMethod.BULLET]


def test_due_dates_keep_the_start_day_after_short_months() -> None:
    assert due_dates(date(2025, 1, 31), 4) == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)


def test_month_end_periods_are_regular_and_charged_annual_over_twelve() -> None:
    rows = build_schedule(10_000_000, RATE, 3, RepaymentMethod.INTEREST_FIRST, date(2025, 1, 31))
    # 28, 31 and 30 days alike: annual/12 for a regular month.
    assert [r.interest_fen for r in rows] == [36250, 36250, 36250]


def test_broken_first_period_accrues_actual_days_on_the_basis() -> None:
    start, first_due = date(2025, 1, 10), date(2025, 2, 20)
    rows = build_schedule(10_000_000, RATE, 12, EI, start, first_due_date=first_due)
    regular = build_schedule(10_000_000, RATE, 12, EI, start)
    # 41 days at 0.0435/360 on 100,000.00 = 495.4166… → 495.42
    assert rows[0].interest_fen == 49542
    # Principal follows the regular split; only the first payment carries the stub.
    assert rows[0].principal_fen == regular[0].principal_fen == 816849
    assert rows[0].payment_fen == 816849 + 49542
    assert [r.due_date for r in rows[:3]] == [
        date(2025, 2, 20),
        date(2025, 3, 20),
        date(2025, 4, 20),
    ]
    assert rows[1].interest_fen == round_fen(Decimal(rows[0].balance_fen) * RATE / 12)


@pytest.mark.parametrize(
    ("basis", "expected_fen"),
    [
        (DayCountBasis.ACT_360, 49542),  # 41/360
        (DayCountBasis.ACT_365F, 48863),  # 41/365 = 488.630…
        (DayCountBasis.THIRTY_360, 48333),  # 40/360 = 483.333…
    ],
)
def test_broken_first_period_uses_the_basis(basis: DayCountBasis, expected_fen: int) -> None:
    rows = build_schedule(
        10_000_000,
        RATE,
        6,
        RepaymentMethod.INTEREST_FIRST,
        date(2025, 1, 10),
        basis=basis,
        first_due_date=date(2025, 2, 20),
    )
    assert rows[0].interest_fen == expected_fen


def test_short_broken_first_period() -> None:
    rows = build_schedule(
        10_000_000, RATE, 2, EP, date(2025, 1, 25), first_due_date=date(2025, 2, 20)
    )
    # 26 days: 100000 × 0.0435 × 26 / 360 = 314.166… → 314.17
    assert rows[0].interest_fen == 31417
    assert rows[0].principal_fen == 5_000_000


def test_bullet_pays_principal_and_simple_interest_once_at_maturity() -> None:
    rows = build_schedule(10_000_000, RATE, 12, RepaymentMethod.BULLET, date(2025, 1, 15))
    assert rows == [Instalment(1, date(2026, 1, 15), 10_000_000, 435_000, 10_435_000, 0)]


def test_bullet_interest_equals_the_interest_first_total_rounded_once() -> None:
    start, first_due = date(2025, 1, 10), date(2025, 2, 20)
    rows = build_schedule(
        10_000_000, RATE, 3, RepaymentMethod.BULLET, start, first_due_date=first_due
    )
    assert rows[0].due_date == date(2025, 4, 20)
    # A 41-day broken first period, then two regular months: 495.4166… + 725.00.
    expected = Decimal(10_000_000) * RATE * 41 / 360 + Decimal(10_000_000) * RATE * 2 / 12
    assert rows[0].interest_fen == round_fen(expected) == 122042
    interest_first = build_schedule(
        10_000_000, RATE, 3, RepaymentMethod.INTEREST_FIRST, start, first_due_date=first_due
    )
    assert abs(sum(r.interest_fen for r in interest_first) - rows[0].interest_fen) <= 1


def test_span_interest_of_whole_months_ignores_days() -> None:
    exact = span_interest_exact(
        10_000_000, RATE, date(2025, 1, 31), date(2025, 3, 31), DayCountBasis.ACT_360
    )
    assert exact == Decimal(10_000_000) * RATE * 2 / 12


def test_zero_rate_equal_instalment_splits_principal() -> None:
    rows = build_schedule(1000, Decimal(0), 3, EI, date(2025, 1, 1))
    assert [r.principal_fen for r in rows] == [333, 333, 334]
    assert all(r.interest_fen == 0 for r in rows)


def test_tiny_loan_never_makes_principal_negative() -> None:
    rows = build_schedule(7, Decimal("0.24"), 12, EP, date(2025, 1, 1))
    assert [r.principal_fen for r in rows] == [1] * 7 + [0] * 5
    assert rows[-1].balance_fen == 0


def test_last_instalment_absorbs_rounding_remainder() -> None:
    rows = build_schedule(10_000_000, RATE, 12, EI, date(2025, 1, 15))
    assert {r.payment_fen for r in rows[:-1]} == {853099}
    assert rows[-1].payment_fen == 853101
    assert sum(r.principal_fen for r in rows) == 10_000_000


def test_daily_revolving_has_no_schedule() -> None:
    with pytest.raises(MethodNotSupported) as info:
        build_schedule(100, RATE, 1, RepaymentMethod.DAILY_REVOLVING, date(2025, 1, 1))
    assert info.value.code == "method_not_supported"


@pytest.mark.parametrize(
    ("principal", "rate", "months", "error"),
    [
        (0, RATE, 12, InvalidAmount),
        (-5, RATE, 12, InvalidAmount),
        (100, Decimal("-0.01"), 12, InvalidRate),
        (100, Decimal("1.5"), 12, InvalidRate),
        (100, RATE, 0, InvalidInput),
        (100, RATE, 601, InvalidInput),
    ],
)
def test_bad_inputs_are_refused_with_named_errors(
    principal: int, rate: Decimal, months: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        build_schedule(principal, rate, months, EI, date(2025, 1, 1))


@pytest.mark.parametrize("first_due", [date(2025, 1, 1), date(2024, 12, 1), date(2025, 3, 2)])
def test_first_due_date_must_follow_the_start_within_two_months(first_due: date) -> None:
    with pytest.raises(InvalidDate):
        build_schedule(100_00, RATE, 3, EI, date(2025, 1, 1), first_due_date=first_due)


def _vector_a_after_third_payment() -> tuple[list[Instalment], int, list[date]]:
    original = build_schedule(10_000_000, RATE, 12, EI, date(2025, 1, 15))
    balance_after_prepayment = original[2].balance_fen - 2_000_000
    return original, balance_after_prepayment, [r.due_date for r in original[3:]]


def test_reamortise_reduce_instalment_keeps_due_dates_and_lowers_payment() -> None:
    original, balance, dates = _vector_a_after_third_payment()
    rows = reamortise(balance, RATE, EI, original[2].due_date, dates, first_period=4)
    assert [r.period for r in rows] == list(range(4, 13))
    assert [r.due_date for r in rows] == dates
    assert sum(r.principal_fen for r in rows) == balance
    assert rows[0].payment_fen < original[3].payment_fen
    fresh = build_schedule(balance, RATE, 9, EI, original[2].due_date)
    assert [(r.principal_fen, r.interest_fen) for r in rows] == [
        (r.principal_fen, r.interest_fen) for r in fresh
    ]


def test_reamortise_reduce_term_keeps_payment_and_drops_periods() -> None:
    original, balance, dates = _vector_a_after_third_payment()
    rows = reamortise(
        balance,
        RATE,
        EI,
        original[2].due_date,
        dates,
        mode=EarlyRepaymentMode.REDUCE_TERM,
        kept_payment_fen=original[3].payment_fen,
        first_period=4,
    )
    assert len(rows) < len(dates)
    assert all(r.payment_fen == 853099 for r in rows[:-1])
    assert rows[-1].payment_fen <= 853099
    assert sum(r.principal_fen for r in rows) == balance
    assert rows[-1].balance_fen == 0


def test_reamortise_reduce_term_equal_principal_keeps_principal_per_period() -> None:
    original = build_schedule(10_000_000, RATE, 12, EP, date(2025, 1, 15))
    balance = original[5].balance_fen - 1_000_000
    rows = reamortise(
        balance,
        RATE,
        EP,
        original[5].due_date,
        [r.due_date for r in original[6:]],
        mode=EarlyRepaymentMode.REDUCE_TERM,
        kept_payment_fen=833333,
    )
    assert [r.principal_fen for r in rows] == [833333] * 4 + [balance - 4 * 833333]
    assert sum(r.principal_fen for r in rows) == balance


def test_reamortise_mid_period_charges_the_stub_by_days() -> None:
    original, balance, dates = _vector_a_after_third_payment()
    prepaid_on = original[2].due_date + timedelta(days=10)
    rows = reamortise(balance, RATE, EI, prepaid_on, dates)
    days = (dates[0] - prepaid_on).days
    assert rows[0].interest_fen == round_fen(Decimal(balance) * RATE * days / 360)


def test_reamortise_reduce_term_needs_the_payment_to_keep() -> None:
    original, balance, dates = _vector_a_after_third_payment()
    with pytest.raises(InvalidInput):
        reamortise(
            balance, RATE, EI, original[2].due_date, dates, mode=EarlyRepaymentMode.REDUCE_TERM
        )


def test_reamortise_refuses_due_dates_out_of_order() -> None:
    with pytest.raises(InvalidDate):
        reamortise(100_00, RATE, EI, date(2025, 3, 1), [date(2025, 4, 1), date(2025, 3, 15)])
    with pytest.raises(InvalidInput):
        reamortise(100_00, RATE, EI, date(2025, 3, 1), [])


rates = st.decimals(min_value=0, max_value=Decimal("0.36"), places=4)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 12, 31))


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**11),
    rate=rates,
    term=st.integers(min_value=1, max_value=360),
    method=st.sampled_from(TERM_METHODS),
    start=starts,
    stub_days=st.one_of(st.none(), st.integers(min_value=1, max_value=59)),
    basis=st.sampled_from(list(DayCountBasis)),
    rounding=st.sampled_from(list(Rounding)),
)
def test_schedule_invariants_for_random_products(
    principal: int,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    start: date,
    stub_days: int | None,
    basis: DayCountBasis,
    rounding: Rounding,
) -> None:
    first_due = None if stub_days is None else start + timedelta(days=stub_days)
    rows = build_schedule(
        principal,
        rate,
        term,
        method,
        start,
        basis=basis,
        rounding=rounding,
        first_due_date=first_due,
    )
    assert sum(r.principal_fen for r in rows) == principal
    assert len(rows) == (1 if method is RepaymentMethod.BULLET else term)
    balance = principal
    previous_due = start
    for row in rows:
        assert row.principal_fen >= 0
        assert row.interest_fen >= 0
        assert row.payment_fen == row.principal_fen + row.interest_fen
        balance -= row.principal_fen
        assert row.balance_fen == balance >= 0
        assert row.due_date > previous_due
        previous_due = row.due_date
    assert rows[-1].balance_fen == 0


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(min_value=100, max_value=10**10),
    rate=rates,
    term=st.integers(min_value=2, max_value=120),
    method=st.sampled_from([EI, EP]),
    paid_periods=st.integers(min_value=1, max_value=119),
    prepay_share=st.integers(min_value=1, max_value=99),
    mode=st.sampled_from(list(EarlyRepaymentMode)),
)
def test_reamortised_principal_sums_to_the_remaining_balance(
    principal: int,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    paid_periods: int,
    prepay_share: int,
    mode: EarlyRepaymentMode,
) -> None:
    original = build_schedule(principal, rate, term, method, date(2025, 1, 15))
    paid = min(paid_periods, term - 1)
    left = original[paid - 1].balance_fen
    balance = left - left * prepay_share // 100
    if balance == 0:
        return
    kept = original[paid].payment_fen if method is EI else original[0].principal_fen
    rows = reamortise(
        balance,
        rate,
        method,
        original[paid - 1].due_date,
        [r.due_date for r in original[paid:]],
        mode=mode,
        kept_payment_fen=max(kept, 1),
        first_period=paid + 1,
    )
    assert sum(r.principal_fen for r in rows) == balance
    assert all(r.balance_fen >= 0 and r.principal_fen >= 0 for r in rows)
    assert rows[-1].balance_fen == 0
    assert len(rows) <= term - paid


def test_month_end_anchored_periods_stay_regular() -> None:
    assert is_regular_period(date(2025, 2, 28), date(2025, 3, 31))
    assert is_regular_period(date(2025, 2, 28), date(2025, 3, 30))
    assert is_regular_period(date(2025, 1, 31), date(2025, 2, 28))
    assert not is_regular_period(date(2025, 2, 27), date(2025, 3, 31))
    assert not is_regular_period(date(2025, 3, 31), date(2025, 5, 31))
    # Re-amortising a month-end schedule on its 28 Feb due date keeps annual/12.
    rows = reamortise(
        10_000_000, RATE, RepaymentMethod.INTEREST_FIRST, date(2025, 2, 28), [date(2025, 3, 31)]
    )
    assert rows[0].interest_fen == 36250


@pytest.mark.parametrize(
    ("start", "end", "months", "stub_days"),
    [
        (date(2025, 1, 31), date(2025, 2, 28), 1, 0),
        (date(2025, 1, 30), date(2025, 4, 30), 3, 0),
        (date(2025, 1, 31), date(2025, 4, 30), 3, 0),
        (date(2025, 1, 10), date(2025, 4, 20), 3, 10),
        (date(2025, 1, 25), date(2025, 2, 20), 0, 26),
    ],
)
def test_span_interest_counts_whole_months_back_from_maturity(
    start: date, end: date, months: int, stub_days: int
) -> None:
    exact = span_interest_exact(10_000_000, RATE, start, end, DayCountBasis.ACT_360)
    expected = Decimal(10_000_000) * RATE * months / 12
    expected += Decimal(10_000_000) * RATE * stub_days / 360
    assert exact == expected


def test_bullet_over_a_month_end_term_is_one_regular_month() -> None:
    rows = build_schedule(10_000_000, RATE, 1, RepaymentMethod.BULLET, date(2025, 1, 31))
    assert rows[0].due_date == date(2025, 2, 28)
    assert rows[0].interest_fen == 36250
