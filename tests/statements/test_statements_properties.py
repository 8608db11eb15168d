"""Property: on generated histories, every statement reconciles and the chain of them closes
on what the receipts and the general ledger hold."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statement_book import OPENED_ON, Book, open_book

from puhui.domain.ledger import Account
from puhui.domain.lending.account import LoanStatus
from puhui.domain.lending.errors import EventOutOfOrder, InsufficientLimit, LineFrozen
from puhui.services.servicing.errors import CorrectionNotPossible
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.receipts import (
    quote_payoff,
    recover,
    repay,
    reverse_repayment,
    write_off,
)
from puhui.services.servicing.statements import Balances, Statement, line_statement

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("draw"), st.integers(100_00, 400_000_00), st.integers(5, 70)),
        st.tuples(st.just("repay"), st.integers(1, 200_000_00), st.just(0)),
        st.tuples(st.just("payoff"), st.just(0), st.just(0)),
        st.tuples(st.just("eod"), st.integers(1, 35), st.just(0)),
        st.tuples(st.just("reverse"), st.just(0), st.just(0)),
        st.tuples(st.just("write_off"), st.just(0), st.just(0)),
        st.tuples(st.just("recover"), st.integers(1, 50_000_00), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


def _status(book: Book, receipt_id: str) -> tuple[LoanStatus, int]:
    with book.uow() as uow:
        receipt = uow.loans.get(receipt_id)
    assert receipt is not None
    return receipt.status, receipt.written_off_fen - receipt.recovered_fen


def _apply(
    book: Book, number: int, event: tuple[str, int, int], repaid: list[tuple[str, date]]
) -> None:
    kind, amount, days = event
    key = f"k{number}"
    last = book.receipts[-1] if book.receipts else None
    status, unrecovered = _status(book, last) if last else (None, 0)
    if kind == "draw":
        with contextlib.suppress(InsufficientLimit, LineFrozen):
            book.draw(amount, key=key, term_days=days)
    elif kind == "eod":
        book.close_days(amount)
    elif last is None:
        return
    elif kind in ("repay", "payoff") and status is LoanStatus.ACTIVE:
        owed = quote_payoff(book.uow, last, on=book.today)
        paying = owed if kind == "payoff" else min(amount, owed)
        repay(book.uow, last, amount_fen=paying, on=book.today, idempotency_key=key, actor="o")
        repaid.append((key, book.today))
    elif kind == "reverse" and repaid and repaid[-1][1] == book.today:
        # Only on the repayment's own day: servicing refuses a reversal once end of day has
        # started for that date (payoffs included), or behind a later change, by design.
        with contextlib.suppress(CorrectionNotPossible, EventOutOfOrder):
            reverse_repayment(book.uow, repaid.pop()[0], idempotency_key=key, actor="o", reason="x")
    elif kind == "write_off" and status is LoanStatus.ACTIVE:
        write_off(book.uow, last, on=book.today, idempotency_key=key, actor="o", reason="loss")
    elif kind == "recover" and status is LoanStatus.WRITTEN_OFF and unrecovered > 0:
        paying = min(amount, unrecovered)
        recover(book.uow, last, amount_fen=paying, on=book.today, idempotency_key=key, actor="o")


def _periods(first: date, last: date) -> list[tuple[int, int]]:
    """Every interest cycle from the one holding ``first`` to the one holding ``last``."""
    out: list[tuple[int, int]] = []
    year, month = first.year, first.month
    while True:
        out.append((year, month))
        if date(year, month, 20) >= last:
            return out
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=EVENTS)
def test_statements_of_generated_histories_chain_and_close_on_the_books(
    history: list[tuple[str, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        book = open_book(f"sqlite:///{Path(folder) / 'p.db'}")
        try:
            repaid: list[tuple[str, date]] = []
            for number, event in enumerate(history):
                _apply(book, number, event, repaid)
            statements: list[Statement] = [
                line_statement(book.uow, book.line_id, year=y, month=m, today=book.today)
                for y, m in _periods(OPENED_ON, book.today)
            ]
            previous = Balances()
            for found in statements:
                net = sum((m.change for m in found.movements), Balances())
                assert found.opening == previous
                assert found.opening + net == found.closing
                assert found.totals.net_change == net
                assert found.closing.principal_fen >= 0
                assert found.closing.interest_fen >= 0
                assert found.closing.penalty_fen >= 0
                previous = found.closing
            last = statements[-1]
            with book.uow() as uow:
                owed = Balances()
                for r in uow.loans.of_line(book.line_id):
                    owed = owed + Balances(
                        r.outstanding_principal_fen, r.interest_owed_fen, r.penalty_owed_fen
                    )
            assert last.closing == owed
            ledger = trial_balance(book.uow, as_of=book.today)
            assert ledger.balances_fen.get(Account.PRINCIPAL_RECEIVABLE, 0) == (
                last.closing.principal_fen
            )
        finally:
            book.engine.dispose()
