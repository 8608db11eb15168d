"""Renewal without principal repayment (无还本续贷) of a receipt on a credit line, on SQLite and
PostgreSQL: the principal moves to a new receipt on the decision day, no money flows, the old
receipt keeps and settles the interest it accrued, the line is renewed with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.account import LoanKind, LoanStatus
from puhui.domain.lending.loan_changes import RenewalRules
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.loan_changes.changes import changes_of_loan
from puhui.services.loan_changes.renewals import RenewalResult, renew_loan
from puhui.services.servicing.lines import draw, freeze_credit_line, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay

from .conftest import ENTERPRISE, START

Factory = Callable[[], LoanChangesUnitOfWork]
LINE_EXPIRY = date(2026, 6, 30)
MATURITY = date(2026, 3, 2)
IN_WINDOW = date(2026, 2, 12)  # not a settlement day (the 20th)


@pytest.fixture
def line_id(uow_factory: Factory) -> CreditLineId:
    product = LoanProduct(
        code="SUI-RENEW",
        name="随e融 revolving",
        method=RepaymentMethod.DAILY_REVOLVING,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=12,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
    )
    product_id = create_product(uow_factory, product, actor="ops")
    return open_credit_line(
        uow_factory,
        enterprise_id=ENTERPRISE,
        product_id=product_id,
        limit_fen=1_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=START,
        expiry_date=LINE_EXPIRY,
        actor="ops",
    )


@pytest.fixture
def receipt(uow_factory: Factory, line_id: CreditLineId) -> ReceiptId:
    drawn = draw(
        uow_factory,
        line_id,
        amount_fen=300_000_00,
        on=START,
        maturity_date=MATURITY,
        idempotency_key="draw-1",
        actor="ops",
    )
    return ReceiptId(drawn.receipt_id)


def _renew(
    uow_factory: Factory,
    clock: FixedClock,
    loan_id: str,
    *,
    on: date = IN_WINDOW,
    key: str = "renew-r1",
    term_months: int = 6,
) -> RenewalResult:
    return renew_loan(
        uow_factory,
        loan_id=loan_id,
        on=on,
        term_months=term_months,
        reason="good standing, line renewed",
        idempotency_key=key,
        actor="manager",
        clock=clock,
        rules=RenewalRules(),
        open_alerts=lambda enterprise: 0,
    )


def _close(engine: Engine, clock: FixedClock, first: date, last: date) -> None:
    store = SqlEndOfDayStore(engine, clock=clock)
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def _close_in_good_standing(
    uow_factory: Factory, engine: Engine, clock: FixedClock, receipt: ReceiptId, last: date
) -> None:
    """Close START..``last``; the borrower pays the interest settled on the 20th the next day."""
    settled_on = date(2026, 1, 20)
    _close(engine, clock, START, settled_on)
    with uow_factory() as uow:
        loan = uow.loans.get(receipt)
    assert loan is not None
    assert loan.interest_billed_fen > 0
    repay(
        uow_factory,
        receipt,
        amount_fen=loan.interest_billed_fen,
        on=settled_on + timedelta(days=1),
        idempotency_key="pay-january-interest",
        actor="borrower",
    )
    _close(engine, clock, settled_on + timedelta(days=1), last)


def _principal_and_ledger(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        principal = connection.execute(
            text("SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM loans")
        ).scalar_one()
        drawn = connection.execute(text("SELECT SUM(drawn_fen) FROM credit_lines")).scalar_one()
        lines = connection.execute(
            text(
                "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM journal_lines"
                " WHERE account = '1303'"
            )
        ).one()
    return (principal, drawn, tuple(lines))


def test_receipt_renewal_moves_principal_to_a_new_receipt_and_renews_the_line(
    uow_factory: Factory,
    clock: FixedClock,
    receipt: ReceiptId,
    line_id: CreditLineId,
    changes_platform: Platform,
) -> None:
    engine = changes_platform.database.engine
    _close_in_good_standing(uow_factory, engine, clock, receipt, IN_WINDOW - timedelta(days=1))
    before = _principal_and_ledger(engine)
    result = _renew(uow_factory, clock, receipt, term_months=6)
    assert (result.decision, result.principal_fen) == ("approved", 300_000_00)
    assert (result.starts_on, result.maturity_date) == ("2026-02-12", "2026-09-02")
    assert _principal_and_ledger(engine) == before  # nothing created, destroyed or posted
    assert result.new_loan_id is not None
    with uow_factory() as uow:
        old = uow.loans.get(receipt)
        new = uow.loans.get(result.new_loan_id)
        line = uow.lines.get(line_id)
    assert old is not None
    assert new is not None
    assert line is not None
    assert old.outstanding_principal_fen == 0
    assert old.interest_accrued_fen > 0  # the old receipt keeps what it accrued
    assert (new.kind, new.line_id, new.outstanding_principal_fen) == (
        LoanKind.RECEIPT,
        line_id,
        300_000_00,
    )
    assert (new.disbursed_on, new.maturity_date) == (IN_WINDOW, date(2026, 9, 2))
    assert line.expiry_date == date(2026, 9, 2)  # the line is renewed with its receipt
    assert line.drawn_fen == 300_000_00
    (change,) = changes_of_loan(uow_factory, result.new_loan_id)
    assert (change.kind.value, change.loan_id, change.effective_on) == (
        "renewal",
        receipt,
        IN_WINDOW,
    )


def test_interest_runs_on_without_a_gap_or_a_double_day(
    uow_factory: Factory,
    clock: FixedClock,
    receipt: ReceiptId,
    changes_platform: Platform,
) -> None:
    """The old receipt accrues to the day before the renewal, the new one from that day: the
    borrower owes for every day exactly once, and the old receipt closes when it is paid."""
    engine = changes_platform.database.engine
    _close_in_good_standing(uow_factory, engine, clock, receipt, IN_WINDOW - timedelta(days=1))
    with uow_factory() as uow:
        before = uow.loans.get(receipt)
    assert before is not None
    assert before.interest_accum_fen_days > 0
    result = _renew(uow_factory, clock, receipt)
    assert result.new_loan_id is not None
    _close(engine, clock, IN_WINDOW, IN_WINDOW)
    with uow_factory() as uow:
        old = uow.loans.get(receipt)
        new = uow.loans.get(result.new_loan_id)
    assert old is not None
    assert new is not None
    assert old.interest_accum_fen_days == before.interest_accum_fen_days  # no double day
    assert new.interest_accum_fen_days == 300_000_00  # the renewal day, on the new receipt
    # The 20th settles the old receipt's accrual: its last bill, interest only.
    settlement = date(2026, 2, 20)
    _close(engine, clock, IN_WINDOW + timedelta(days=1), settlement)
    with uow_factory() as uow:
        settled = uow.loans.get(receipt)
    assert settled is not None
    assert (settled.outstanding_principal_fen, settled.interest_accum_fen_days) == (0, 0)
    assert settled.interest_billed_fen > 0
    owed = quote_payoff(uow_factory, receipt, on=settlement + timedelta(days=1))
    assert owed == settled.interest_billed_fen
    paid = repay(
        uow_factory,
        receipt,
        amount_fen=owed,
        on=settlement + timedelta(days=1),
        idempotency_key="pay-old",
        actor="borrower",
    )
    assert paid.closed  # nothing more owed on the old receipt: it closes, the new one runs
    _close(engine, clock, settlement + timedelta(days=1), MATURITY + timedelta(days=1))
    with uow_factory() as uow:
        closed = uow.loans.get(receipt)
        running = uow.loans.get(result.new_loan_id)
    assert closed is not None
    assert closed.status is LoanStatus.CLOSED
    assert running is not None
    assert running.status is LoanStatus.ACTIVE
    # Past the old maturity nothing of the principal falls due: it is the new receipt's.
    assert (running.outstanding_principal_fen, running.overdue_principal_fen) == (300_000_00, 0)


def test_frozen_line_refuses_the_renewal_and_changes_nothing(
    uow_factory: Factory,
    clock: FixedClock,
    receipt: ReceiptId,
    line_id: CreditLineId,
    changes_platform: Platform,
) -> None:
    freeze_credit_line(uow_factory, line_id, actor="risk", reason="monitoring")
    before = _principal_and_ledger(changes_platform.database.engine)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, receipt)
    assert refused.value.code == "loan_not_changeable"
    assert refused.value.details["reason"] == "line_frozen"
    assert _principal_and_ledger(changes_platform.database.engine) == before
    assert changes_of_loan(uow_factory, receipt) == []


def test_renewal_on_a_closed_day_is_refused(
    uow_factory: Factory,
    clock: FixedClock,
    receipt: ReceiptId,
    changes_platform: Platform,
) -> None:
    engine = changes_platform.database.engine
    _close_in_good_standing(uow_factory, engine, clock, receipt, IN_WINDOW)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, receipt, on=IN_WINDOW)
    assert refused.value.code == "event_out_of_order"
    assert changes_of_loan(uow_factory, receipt) == []


def test_renewed_receipt_replays_and_cannot_be_renewed_twice(
    uow_factory: Factory, clock: FixedClock, receipt: ReceiptId
) -> None:
    first = _renew(uow_factory, clock, receipt)
    again = _renew(uow_factory, clock, receipt)
    assert (again.replayed, again.new_loan_id) == (True, first.new_loan_id)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, receipt, key="renew-r2")
    assert refused.value.code == "loan_not_changeable"
    assert refused.value.details["reason"] == "nothing_left"
