"""Property: random servicing event sequences keep the ledger balanced and replays post nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.tables import journal_lines, loans
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.errors import InsufficientLimit, Overpayment
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay
from puhui.services.servicing.term_loans import disburse_term_loan

START = date(2026, 1, 10)
SERVICING_REVISION = "heads"  # the audit trail needs its latest schema too
LIMIT_FEN = 500_000_00

events = st.lists(
    st.one_of(
        st.tuples(st.just("draw"), st.integers(100_00, 300_000_00)),
        st.tuples(st.just("disburse"), st.integers(1_000_00, 500_000_00)),
        st.tuples(st.just("repay"), st.integers(1, 200_000_00)),
        st.tuples(st.just("payoff"), st.just(0)),
        st.tuples(st.just("eod"), st.integers(1, 25)),
        st.tuples(st.just("replay"), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


def _check_books(engine: Any, uow_factory: Any, as_of: date) -> None:
    balance = trial_balance(uow_factory, as_of=as_of)
    assert balance.balanced, balance.balances_fen
    with engine.connect() as connection:
        outstanding, interest_on_books = connection.execute(
            select(
                func.coalesce(func.sum(loans.c.outstanding_principal_fen), 0),
                func.coalesce(
                    func.sum(
                        loans.c.interest_accrued_fen
                        + loans.c.interest_billed_fen
                        - loans.c.memo_interest_fen
                    ),
                    0,
                ),
            )
        ).one()
    # The general ledger and the sub-ledger tell the same story.
    assert balance.balances_fen.get(Account.PRINCIPAL_RECEIVABLE, 0) == outstanding
    assert balance.balances_fen.get(Account.INTEREST_RECEIVABLE, 0) == interest_on_books
    assert all(v >= 0 for v in (outstanding, interest_on_books))


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    # The fixture only hands over a pure product builder: nothing to reset between examples.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sequence=events)
def test_random_event_sequences_keep_the_trial_balance_at_zero_and_replays_post_nothing(
    revolving_product: Callable[..., LoanProduct], sequence: list[tuple[str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'p.db'}")
        migrate.upgrade(engine, SERVICING_REVISION)
        clock = FixedClock(datetime(2026, 1, 10, tzinfo=UTC))

        def uow_factory() -> ServicingUnitOfWork:
            return ServicingUnitOfWork(engine, clock=clock, audit_key=b"k")

        store = SqlEndOfDayStore(engine, clock=clock)
        product_id = create_product(uow_factory, revolving_product(), actor="ops")
        term_product_id = create_product(
            uow_factory,
            revolving_product("TERM", method=RepaymentMethod.EQUAL_PRINCIPAL, max_term_months=24),
            actor="ops",
        )
        line_id = open_credit_line(
            uow_factory,
            enterprise_id="E1",
            product_id=product_id,
            limit_fen=LIMIT_FEN,
            annual_rate=Decimal("0.0615"),
            opened_on=START,
            expiry_date=date(2027, 1, 9),
            actor="ops",
        )
        today = START
        receipts: list[ReceiptId] = []
        last_call: Callable[[], Any] | None = None
        for number, (kind, amount) in enumerate(sequence):
            key = f"k{number}"
            if kind == "draw":
                maturity = today + timedelta(days=30)
                try:
                    result = draw(
                        uow_factory,
                        line_id,
                        amount_fen=amount,
                        on=today,
                        maturity_date=maturity,
                        idempotency_key=key,
                        actor="c",
                    )
                except InsufficientLimit:
                    continue
                receipts.append(ReceiptId(result.receipt_id))
                last_call = partial(
                    draw,
                    uow_factory,
                    line_id,
                    amount_fen=amount,
                    on=today,
                    maturity_date=maturity,
                    idempotency_key=key,
                    actor="c",
                )
            elif kind == "disburse":
                last_call = partial(
                    disburse_term_loan,
                    uow_factory,
                    enterprise_id="E2",
                    product_id=term_product_id,
                    principal_fen=amount,
                    annual_rate=Decimal("0.0435"),
                    term_months=6,
                    on=today,
                    idempotency_key=key,
                    actor="ops",
                )
                receipts.append(ReceiptId(last_call().loan_id))
            elif kind in ("repay", "payoff") and receipts:
                target = receipts[-1]
                with uow_factory() as uow:
                    receipt = uow.loans.get(target)
                assert receipt is not None
                if receipt.status.value != "active":
                    continue
                owed = quote_payoff(uow_factory, target, on=today)
                paying = owed if kind == "payoff" else amount
                call = partial(
                    repay,
                    uow_factory,
                    target,
                    amount_fen=paying,
                    on=today,
                    idempotency_key=key,
                    actor="c",
                )
                if paying > owed:
                    with pytest.raises(Overpayment):
                        call()
                    continue
                call()
                last_call = call
            elif kind == "eod":
                for _ in range(amount):
                    run_end_of_day(store, today)
                    today += timedelta(days=1)
                    _check_books(engine, uow_factory, today)
            elif kind == "replay" and last_call is not None:
                with engine.connect() as connection:
                    lines_before = connection.execute(
                        select(func.count()).select_from(journal_lines)
                    ).scalar_one()
                replayed = last_call()
                assert replayed.replayed
                with engine.connect() as connection:
                    lines_after = connection.execute(
                        select(func.count()).select_from(journal_lines)
                    ).scalar_one()
                assert lines_after == lines_before
            _check_books(engine, uow_factory, today)
        engine.dispose()
