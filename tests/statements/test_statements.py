"""Statements of a credit line: built from stored records, they reconcile to the fen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from statement_book import Book, revolving_product

from puhui.domain.errors import InvalidDate, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId, ProductId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.account import LoanAccount, LoanKind
from puhui.domain.lending.product import RepaymentMethod
from puhui.services.servicing.receipts import (
    quote_payoff,
    recover,
    repay,
    reverse_repayment,
    write_off,
)
from puhui.services.servicing.records import CreditLineRecord, LineStatus
from puhui.services.servicing.statements import (
    AmountDue,
    Balances,
    DailyAccrual,
    MovementKind,
    Operation,
    PostedEvent,
    Statement,
    StatementPeriod,
    build_statement,
    line_receipts,
    line_statement,
    parse_period,
)


def statement(book: Book, period: str) -> Statement:
    year, month = parse_period(period)
    return line_statement(book.uow, book.line_id, year=year, month=month, today=book.today)


def current_period(book: Book) -> str:
    """The interest cycle holding today (the 21st on belongs to next month's cycle)."""
    year, month = book.today.year, book.today.month
    if book.today.day > 20:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def books_balances(book: Book) -> Balances:
    """What the receipts' own records say is owed now (the sub-ledger's current state)."""
    total = Balances()
    with book.uow() as uow:
        for receipt in uow.loans.of_line(book.line_id):
            total = total + Balances(
                receipt.outstanding_principal_fen,
                receipt.interest_owed_fen,
                receipt.penalty_owed_fen,
            )
    return total


def assert_reconciles(found: Statement) -> None:
    net = Balances()
    for movement in found.movements:
        net = net + movement.change
        assert found.period.start <= movement.on <= found.period.end
    assert found.totals.net_change == net
    assert found.opening + net == found.closing
    assert sum((r.opening for r in found.receipts), Balances()) == found.opening
    assert sum((r.closing for r in found.receipts), Balances()) == found.closing


def test_interest_cycle_runs_from_the_21st_to_the_settlement_day() -> None:
    january = StatementPeriod.interest_cycle(2026, 1, settlement_day=20)
    assert (january.start, january.end, january.due_date) == (
        date(2025, 12, 21),
        date(2026, 1, 20),
        date(2026, 1, 21),
    )
    march = StatementPeriod.interest_cycle(2024, 3, settlement_day=20)
    assert (march.start, march.end) == (date(2024, 2, 21), date(2024, 3, 20))


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", " 2026-01"]
)
def test_a_malformed_period_is_refused(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_period(text)


def test_a_period_out_of_the_calendar_range_is_refused() -> None:
    with pytest.raises(InvalidDate):
        StatementPeriod.interest_cycle(1, 1, settlement_day=20)


def test_statement_shows_draws_accruals_and_the_repayment_split_and_reconciles(
    book: Book,
) -> None:
    first = book.draw(10_000_000, key="d1", term_days=30)  # matures 2026-02-04
    book.close_through(date(2026, 1, 19))
    second = book.draw(5_000_000, key="d2", term_days=90)  # drawn on the settlement day
    book.close_through(date(2026, 1, 20))

    january = statement(book, "2026-01")
    assert january.final
    assert january.opening == Balances()
    assert [(m.kind, m.receipt_id) for m in january.movements] == [
        (MovementKind.DRAW, first),
        (MovementKind.DRAW, second),
        (MovementKind.ACCRUAL, first),
        (MovementKind.ACCRUAL, second),
    ]
    accrual = january.movements[2]
    assert (accrual.from_date, accrual.on) == (date(2026, 1, 5), date(2026, 1, 20))
    assert january.closing.principal_fen == 15_000_000
    assert january.closing.interest_fen > 0
    assert january.closing == books_balances(book)
    # Everything accrued in the cycle is settled on the 20th and collected on the 21st.
    assert january.due.interest_fen == january.closing.interest_fen
    assert january.due.principal_fen == 0
    assert january.due.due_date == date(2026, 1, 21)
    assert_reconciles(january)

    book.close_through(date(2026, 2, 9))  # the first receipt is overdue since 2026-02-05
    paid = repay(
        book.uow, first, amount_fen=3_000_000, on=book.today, idempotency_key="r1", actor="owner"
    )
    book.close_through(date(2026, 2, 20))

    february = statement(book, "2026-02")
    assert february.opening == january.closing
    repayment = next(m for m in february.movements if m.kind is MovementKind.REPAYMENT)
    assert repayment.on == date(2026, 2, 10)
    assert repayment.amount_fen == 3_000_000
    assert repayment.change == Balances(
        -paid.principal_fen, -paid.interest_fen, -(paid.penalty_fen + paid.compound_fen)
    )
    assert paid.penalty_fen > 0, "the overdue receipt accrued penalty interest"
    assert february.totals.repaid == Balances(
        paid.principal_fen, paid.interest_fen, paid.penalty_fen + paid.compound_fen
    )
    assert february.totals.accrued.penalty_fen > 0
    assert february.closing == books_balances(book)
    first_row = next(r for r in february.receipts if r.receipt_id == first)
    assert february.due.principal_fen == first_row.closing.principal_fen > 0
    assert_reconciles(february)

    march = statement(book, "2026-03")  # begun today, not closed: provisional
    assert not march.final
    assert march.opening == february.closing
    assert march.movements == ()


def test_a_reversed_repayment_nets_to_nothing_and_a_write_off_clears_the_receipt(
    book: Book,
) -> None:
    receipt = book.draw(2_000_000, key="d1", term_days=20)
    book.close_days(40)  # overdue since its maturity: penalty accrues
    repay(book.uow, receipt, amount_fen=50_000, on=book.today, idempotency_key="r1", actor="o")
    reverse_repayment(book.uow, "r1", idempotency_key="x1", actor="ops", reason="wrong account")
    owed = quote_payoff(book.uow, receipt, on=book.today)
    written = write_off(
        book.uow, receipt, on=book.today, idempotency_key="w1", actor="ops", reason="loss"
    )
    recover(book.uow, receipt, amount_fen=100_000, on=book.today, idempotency_key="v1", actor="ops")
    book.close_days(1)

    found = statement(book, current_period(book))
    kinds = [m.kind for m in found.movements if m.on == date(2026, 2, 14)]
    assert kinds == [
        MovementKind.REPAYMENT,
        MovementKind.REPAYMENT_REVERSAL,
        MovementKind.WRITE_OFF,
        MovementKind.RECOVERY,
    ]
    assert found.totals.repaid == Balances()
    assert found.totals.repaid_fen == 0
    assert found.totals.written_off.total_fen == written.written_off_fen == owed
    assert found.totals.written_off.penalty_fen > 0
    assert found.totals.recovered_fen == 100_000
    assert found.closing == Balances() == books_balances(book)
    assert found.due.due_date is None
    assert_reconciles(found)
    book.close_through(date(2026, 2, 21))
    # Next cycle: the written-off receipt carries its history in and still owes nothing.
    march = statement(book, "2026-03")
    assert march.opening == Balances() == march.closing
    assert [m.kind for m in march.movements] == []


def test_interest_beyond_90_days_past_due_stays_owed_on_the_statement(book: Book) -> None:
    receipt = book.draw(3_000_000, key="d1", term_days=5)
    book.close_days(110)  # non-accrual (表外) from 91 days past due
    with book.uow() as uow:
        stored = uow.loans.get(receipt)
    assert stored is not None
    assert stored.non_accrual
    assert stored.memo_interest_fen > 0
    paid = repay(
        book.uow, receipt, amount_fen=50_000, on=book.today, idempotency_key="r1", actor="o"
    )
    book.close_days(1)
    found = statement(book, current_period(book))
    assert found.closing == books_balances(book)
    assert found.totals.repaid == Balances(
        paid.principal_fen, paid.interest_fen, paid.penalty_fen + paid.compound_fen
    )
    assert_reconciles(found)


def test_statement_refuses_unknown_lines_future_periods_and_periods_before_opening(
    book: Book,
) -> None:
    with pytest.raises(NotFound):
        line_statement(book.uow, CreditLineId("line_none"), year=2026, month=1, today=book.today)
    with pytest.raises(InvalidDate):
        statement(book, "2026-02")  # begins 2026-01-21, after today (2026-01-05)
    with pytest.raises(InvalidDate):
        statement(book, "2025-12")  # ends 2025-12-20, before the line opened


def test_receipts_of_a_line_come_oldest_first_in_pages(book: Book) -> None:
    first = book.draw(1_000_000, key="d1")
    book.close_days(1)
    second = book.draw(2_000_000, key="d2")
    everything = line_receipts(book.uow, book.line_id, limit=10)
    assert [r.loan_id for r in everything] == [first, second]
    assert [r.loan_id for r in line_receipts(book.uow, book.line_id, limit=1, offset=1)] == [second]
    assert line_receipts(book.uow, book.line_id, limit=10, offset=2) == []
    with pytest.raises(NotFound):
        line_receipts(book.uow, CreditLineId("line_none"))
    with pytest.raises(InvalidInput):
        line_receipts(book.uow, book.line_id, limit=0)


# Assembly alone, on hand-made stored records (no database).

LINE = CreditLineRecord(
    line_id=CreditLineId("line_x"),
    enterprise_id="E",
    product_id=ProductId("prod_x"),
    annual_rate=Decimal("0.0435"),
    limit_fen=10_000_000,
    drawn_fen=0,
    opened_on=date(2026, 1, 5),
    expiry_date=date(2027, 1, 4),
    status=LineStatus.ACTIVE,
    version=1,
)
FEBRUARY = StatementPeriod.interest_cycle(2026, 2, settlement_day=20)


def _receipt(receipt_id: str) -> LoanAccount:
    return LoanAccount.new(
        loan_id=ReceiptId(receipt_id),
        line_id=LINE.line_id,
        product=revolving_product(),
        product_id=LINE.product_id,
        enterprise_id="E",
        annual_rate=Decimal("0.0435"),
        kind=LoanKind.RECEIPT,
        method=RepaymentMethod.DAILY_REVOLVING,
        principal_fen=1_000_000,
        disbursed_on=date(2026, 1, 10),
        maturity_date=date(2026, 2, 1),
    )


def _event(operation: Operation, on: date, seq: str, **amounts: int) -> PostedEvent:
    return PostedEvent(
        receipt_id="rcpt_a",
        operation=operation,
        entry_key=f"{operation.value}:{seq}",
        posted_on=on,
        sequence=seq,
        amounts_fen={Account[name]: value for name, value in amounts.items()},
    )


def test_paid_memo_interest_counts_as_interest_and_a_write_off_clears_what_is_left() -> None:
    events = [
        _event(
            Operation.DRAW,
            date(2026, 1, 10),
            "1",
            PRINCIPAL_RECEIVABLE=1_000_000,
            SETTLEMENT=-1_000_000,
        ),
        # Off-balance interest and penalty are paid through income, not the receivables.
        _event(
            Operation.REPAY,
            date(2026, 2, 5),
            "2",
            SETTLEMENT=700,
            INTEREST_RECEIVABLE=-100,
            INTEREST_INCOME=-200,
            PENALTY_INCOME=-400,
            NON_ACCRUAL_MEMO_CONTRA=600,
            NON_ACCRUAL_MEMO=-600,
        ),
        _event(Operation.WRITE_OFF, date(2026, 2, 10), "3", PRINCIPAL_RECEIVABLE=-1_000_000),
        _event(Operation.RECOVER, date(2026, 2, 12), "4", SETTLEMENT=5_000, RECOVERY_INCOME=-5_000),
    ]
    accruals = [
        DailyAccrual("rcpt_a", date(2026, 1, 10) + timedelta(days=d), 100, 50 if d > 22 else 0)
        for d in range(30)  # through 2026-02-08; the write-off stops the accrual
    ]
    found = build_statement(
        LINE,
        FEBRUARY,
        receipts=[_receipt("rcpt_a")],
        events=events,
        accruals=accruals,
        closed_through=date(2026, 2, 20),
    )
    assert found.opening == Balances(1_000_000, 11 * 100, 0)  # 01-10..01-20 accrued
    kinds = [m.kind for m in found.movements]
    assert kinds == [
        MovementKind.ACCRUAL,
        MovementKind.REPAYMENT,
        MovementKind.ACCRUAL,
        MovementKind.WRITE_OFF,
        MovementKind.RECOVERY,
    ]
    repayment = found.movements[1]
    assert repayment.change == Balances(0, -300, -400)
    assert repayment.amount_fen == 700
    first, second = found.movements[0], found.movements[2]
    assert (first.from_date, first.on) == (date(2026, 1, 21), date(2026, 2, 4))
    assert (second.from_date, second.on) == (date(2026, 2, 5), date(2026, 2, 8))
    interest = 30 * 100 - 300
    penalty = 7 * 50 - 400
    assert found.totals.written_off == Balances(1_000_000, interest, penalty)
    assert found.movements[3].amount_fen == found.totals.written_off.total_fen
    assert found.totals.recovered_fen == 5_000
    assert found.closing == Balances()
    assert found.due == AmountDue(0, 0, 0, None)
    assert_reconciles(found)
