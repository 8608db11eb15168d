"""Revolving receipts: balance-days accrual, settlement days and repayments, line simulation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.lending.errors import EventOutOfOrder, InsufficientLimit, Overpayment
from puhui.domain.lending.revolving import (
    LineEvent,
    LineEventKind,
    RevolvingAccrual,
    SettlementKind,
    settlement_dates,
    simulate_line,
)
from puhui.domain.money import round_fen

RATE = Decimal("0.0365")
DRAW, REPAY, PAYOFF = LineEventKind.DRAW, LineEventKind.REPAY, LineEventKind.PAYOFF


def test_draw_day_accrues_and_repayment_day_does_not_for_the_repaid_amount() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 3, 1)).draw(date(2025, 3, 1), 1_000_000)
    receipt, settlement = receipt.repay(date(2025, 3, 11), 1_000_000)
    # 1 to 10 March: ten days on 10,000.00 at 0.0365/360.
    assert settlement.interest_fen == round_fen(Decimal(1_000_000 * 10) * RATE / 360) == 1014
    assert settlement.kind is SettlementKind.PAYOFF
    assert receipt.balance_fen == 0
    assert receipt.balance_days_fen == 0


def test_repayment_day_accrues_on_what_is_left() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 3, 1)).draw(date(2025, 3, 1), 1_000_000)
    receipt, settlement = receipt.repay(date(2025, 3, 11), 400_000)
    assert settlement.kind is SettlementKind.REPAYMENT
    assert settlement.balance_fen == 600_000
    receipt = receipt.accrue_to(date(2025, 3, 12))
    assert receipt.balance_days_fen == 600_000


def test_settlement_day_includes_its_own_day() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 3, 18)).draw(date(2025, 3, 18), 3_600_000)
    receipt, settlement = receipt.settle(date(2025, 3, 20))
    # 18, 19 and 20 March.
    assert receipt.accrued_until == date(2025, 3, 21)
    assert settlement.interest_fen == round_fen(Decimal(3_600_000 * 3) * RATE / 360)
    assert settlement.principal_fen == 0
    assert settlement.balance_fen == 3_600_000


def test_balance_days_stay_exact_between_settlements() -> None:
    receipt = RevolvingAccrual.open(Decimal("0.05"), date(2025, 1, 1)).draw(date(2025, 1, 1), 333)
    receipt = receipt.draw(date(2025, 1, 4), 1)
    receipt = receipt.accrue_to(date(2025, 1, 10))
    assert receipt.balance_days_fen == 333 * 3 + 334 * 6
    exact = Fraction(333 * 3 + 334 * 6) * Fraction(5, 100) / 360
    assert abs(Fraction(receipt.interest_exact_fen) - exact) < Fraction(1, 10**50)


def test_act_365_basis_divides_by_365() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 1, 1), basis=DayCountBasis.ACT_365F)
    receipt = receipt.draw(date(2025, 1, 1), 36_500_000).accrue_to(date(2025, 1, 2))
    assert receipt.interest_exact_fen == Decimal(36_500_000) * RATE / 365


def test_accrual_refuses_going_back_in_time() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 3, 1)).draw(date(2025, 3, 5), 100)
    with pytest.raises(EventOutOfOrder) as info:
        receipt.draw(date(2025, 3, 4), 100)
    assert info.value.code == "event_out_of_order"


def test_repaying_more_than_the_balance_is_an_overpayment() -> None:
    receipt = RevolvingAccrual.open(RATE, date(2025, 3, 1)).draw(date(2025, 3, 1), 100)
    with pytest.raises(Overpayment) as info:
        receipt.repay(date(2025, 3, 2), 101)
    assert info.value.outstanding_fen == 100
    with pytest.raises(InvalidAmount):
        receipt.draw(date(2025, 3, 2), -1)


def test_settlement_dates_in_a_range() -> None:
    assert settlement_dates(date(2024, 12, 20), date(2025, 2, 19), 20) == [
        date(2024, 12, 20),
        date(2025, 1, 20),
    ]
    with pytest.raises(InvalidInput):
        settlement_dates(date(2025, 1, 1), date(2025, 2, 1), 31)


def test_simulated_line_settles_on_the_20th_and_at_each_repayment() -> None:
    result = simulate_line(
        5_000_000,
        RATE,
        [
            LineEvent(date(2025, 1, 10), DRAW, 1_000_000),
            LineEvent(date(2025, 1, 25), REPAY, 400_000),
            LineEvent(date(2025, 3, 5), PAYOFF),
        ],
    )
    rows = [
        (s.on, s.kind, s.interest_fen, s.principal_fen, s.balance_fen) for s in result.settlements
    ]
    assert rows == [
        (date(2025, 1, 20), SettlementKind.SETTLEMENT_DAY, 1115, 0, 1_000_000),  # 11 days
        (date(2025, 1, 25), SettlementKind.REPAYMENT, 406, 400_000, 600_000),  # 21-24 Jan
        (date(2025, 2, 20), SettlementKind.SETTLEMENT_DAY, 1643, 0, 600_000),  # 16.425 → 16.43
        (date(2025, 3, 5), SettlementKind.PAYOFF, 730, 600_000, 0),  # 21 Feb - 4 Mar
    ]
    assert result.interest_fen == 3894
    assert result.principal_repaid_fen == result.drawn_fen == 1_000_000
    assert result.available_fen == 5_000_000
    assert result.accrued_unsettled_fen == 0


def test_simulation_repayment_on_a_settlement_day_settles_twice() -> None:
    result = simulate_line(
        5_000_000,
        RATE,
        [
            LineEvent(date(2025, 1, 18), DRAW, 3_600_000),
            LineEvent(date(2025, 1, 20), REPAY, 1_800_000),
        ],
    )
    kinds = [(s.on, s.kind, s.interest_fen) for s in result.settlements]
    assert kinds == [
        (date(2025, 1, 20), SettlementKind.REPAYMENT, 730),  # 18-19 Jan on 36,000.00
        (date(2025, 1, 20), SettlementKind.SETTLEMENT_DAY, 183),  # 20 Jan on 18,000.00
    ]


def test_simulation_reports_interest_not_yet_settled() -> None:
    result = simulate_line(5_000_000, RATE, [LineEvent(date(2025, 1, 1), DRAW, 3_600_000)])
    assert result.settlements == ()
    assert result.balance_fen == 3_600_000
    assert result.available_fen == 1_400_000
    assert result.accrued_unsettled_fen == Decimal(3_600_000) * RATE / 360


def test_simulation_refuses_a_draw_above_available_and_restores_limit_on_repayment() -> None:
    events = [
        LineEvent(date(2025, 1, 1), DRAW, 800_000),
        LineEvent(date(2025, 1, 2), DRAW, 300_000),
    ]
    with pytest.raises(InsufficientLimit) as info:
        simulate_line(1_000_000, RATE, events)
    assert info.value.available_fen == 200_000
    events.insert(1, LineEvent(date(2025, 1, 2), REPAY, 100_000))
    assert simulate_line(1_000_000, RATE, events).available_fen == 0


def test_simulation_refuses_events_out_of_order_and_repayment_above_outstanding() -> None:
    with pytest.raises(EventOutOfOrder):
        simulate_line(
            1_000_000,
            RATE,
            [LineEvent(date(2025, 1, 2), DRAW, 100), LineEvent(date(2025, 1, 1), DRAW, 100)],
        )
    with pytest.raises(Overpayment):
        simulate_line(
            1_000_000,
            RATE,
            [LineEvent(date(2025, 1, 1), DRAW, 100), LineEvent(date(2025, 1, 3), REPAY, 101)],
        )
    with pytest.raises(Overpayment):
        simulate_line(1_000_000, RATE, [LineEvent(date(2025, 1, 1), PAYOFF)])


@pytest.mark.parametrize(
    ("kind", "amount", "error"),
    [
        (DRAW, None, InvalidAmount),
        (DRAW, 0, InvalidAmount),
        (REPAY, -5, InvalidAmount),
        (PAYOFF, 100, InvalidInput),
    ],
)
def test_line_events_validate_their_amount(
    kind: LineEventKind, amount: int | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        LineEvent(date(2025, 1, 1), kind, amount)


event_steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.sampled_from([DRAW, REPAY, PAYOFF]),
        st.integers(min_value=1, max_value=5_000_000),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(
    steps=event_steps,
    rate=st.decimals(min_value=0, max_value=Decimal("0.24"), places=4),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
)
def test_settled_interest_is_the_exact_balance_days_sum_rounded_once(
    steps: list[tuple[int, LineEventKind, int]], rate: Decimal, start: date
) -> None:
    # Build a valid event list; track the balance day by day independently of the model.
    events: list[LineEvent] = []
    day, balance = start, 0
    for gap, kind, amount in steps:
        day += timedelta(days=gap)
        if kind is DRAW:
            events.append(LineEvent(day, DRAW, amount))
            balance += amount
        elif balance == 0:
            continue
        elif kind is REPAY:
            paid = min(amount, balance)
            events.append(LineEvent(day, REPAY, paid))
            balance -= paid
        else:
            events.append(LineEvent(day, PAYOFF))
            balance = 0
    if not events:
        return
    result = simulate_line(10**12, rate, events)

    # Reference: closing balance of every calendar day, summed between settlements.
    closing: dict[date, int] = {}
    running = 0
    for event in events:
        if event.kind is DRAW:
            running += event.amount_fen or 0
        elif event.kind is REPAY:
            running -= event.amount_fen or 0
        else:
            running = 0
        closing[event.on] = running
    previous_end = events[0].on
    running = 0
    for settlement in result.settlements:
        # A repayment settles through the day before; a settlement day through itself.
        through = (
            settlement.on
            if settlement.kind is SettlementKind.SETTLEMENT_DAY
            else settlement.on - timedelta(days=1)
        )
        balance_days = 0
        current = previous_end
        while current <= through:
            running = closing.get(current, running)
            balance_days += running
            current += timedelta(days=1)
        if current > previous_end:
            previous_end = current
        assert settlement.interest_fen == round_fen(Decimal(balance_days) * rate / 360)
        assert settlement.balance_fen >= 0
    assert result.balance_fen == balance >= 0
    assert result.principal_repaid_fen + result.balance_fen == result.drawn_fen
