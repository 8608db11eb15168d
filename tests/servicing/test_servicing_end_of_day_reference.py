"""Property: the real end of day agrees with the reference model of a revolving receipt.

Random histories of draws, repayments and business days run through the services and the
set-based end of day (SQL), and in parallel through ``RevolvingAccrual`` (one per receipt)
and ``CreditLine``. After every step both sides hold the same principal, the same exact
balance-days (积数), the same accrued interest (rounded once), the same interest settled —
on each 结息日 and at each repayment — and the same available limit; the daily accrual
postings add up to exactly the interest settled and accrued.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.tables import accrual_entries
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.daycount import DayCountBasis
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.lending.credit_line import CreditLine
from puhui.domain.lending.errors import InsufficientLimit
from puhui.domain.lending.product import LoanProduct
from puhui.domain.lending.revolving import RevolvingAccrual
from puhui.domain.money import Rounding, round_fen
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay

EngineFactory = Callable[[], AbstractContextManager[Engine]]
LIMIT_FEN = 800_000_00
RECEIPT_DAYS = 365
"""Receipts mature after every history ends: maturity (overdue principal) is not modelled by
``RevolvingAccrual``, and the longest history is 12 steps of at most 25 days."""

steps = st.lists(
    st.one_of(
        st.tuples(st.just("draw"), st.integers(1, 300_000_00)),
        st.tuples(st.just("repay"), st.integers(0, 1_000), st.integers(1, 100)),
        st.tuples(st.just("payoff"), st.integers(0, 1_000), st.just(0)),
        st.tuples(st.just("days"), st.integers(1, 25)),
    ),
    min_size=1,
    max_size=12,
)
terms = st.fixed_dictionaries(
    {
        "start": st.dates(date(2025, 1, 1), date(2028, 12, 31)),
        # Rates to 0.01%, within the product's 3%-18%.
        "annual_rate": st.integers(300, 1_800).map(lambda bp: Decimal(bp) / 10_000),
        "settlement_day": st.integers(1, 28),
        "basis": st.sampled_from([DayCountBasis.ACT_360, DayCountBasis.ACT_365F]),
        "rounding": st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN]),
    }
)


@dataclass
class Reference:
    """One receipt on the reference side: its accrual and the interest settled on it."""

    accrual: RevolvingAccrual
    settled_fen: int = 0


@dataclass
class Real:
    """What the services reported for one receipt: the interest its repayments paid."""

    interest_paid_fen: int = 0


@dataclass
class History:
    engine: Engine
    uow_factory: Callable[[], ServicingUnitOfWork]
    store: SqlEndOfDayStore
    line_id: CreditLineId
    line: CreditLine
    settlement_day: int
    today: date
    keys: int = 0
    references: dict[ReceiptId, Reference] = field(default_factory=dict)
    reals: dict[ReceiptId, Real] = field(default_factory=dict)

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def loan(self, receipt_id: ReceiptId) -> LoanAccount:
        with self.uow_factory() as uow:
            loan = uow.loans.get(receipt_id)
        assert loan is not None
        return loan

    def active(self) -> list[ReceiptId]:
        return [r for r, ref in self.references.items() if ref.accrual.balance_fen > 0]


def _open(engine: Engine, product: LoanProduct, annual_rate: Decimal, start: date) -> History:
    clock = FixedClock(datetime.combine(start, datetime.min.time(), tzinfo=UTC))

    def uow_factory() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"k")

    product_id = create_product(uow_factory, product, actor="ops")
    expires_on = start + timedelta(days=2 * RECEIPT_DAYS)
    line_id = open_credit_line(
        uow_factory,
        enterprise_id="E1",
        product_id=product_id,
        limit_fen=LIMIT_FEN,
        annual_rate=annual_rate,
        opened_on=start,
        expiry_date=expires_on,
        actor="ops",
    )
    return History(
        engine=engine,
        uow_factory=uow_factory,
        store=SqlEndOfDayStore(engine, clock=clock),
        line_id=line_id,
        line=CreditLine(LIMIT_FEN, expires_on),
        settlement_day=product.settlement_day,
        today=start,
    )


def _draw(history: History, amount_fen: int, annual_rate: Decimal, product: LoanProduct) -> None:
    on = history.today
    try:
        history.line.check_draw(amount_fen, on)
    except InsufficientLimit:
        with pytest.raises(InsufficientLimit):
            _service_draw(history, amount_fen)
        return
    receipt_id = _service_draw(history, amount_fen)
    history.line = history.line.draw(amount_fen, on)
    accrual = RevolvingAccrual.open(
        annual_rate, on, basis=product.basis, rounding=product.rounding
    ).draw(on, amount_fen)
    history.references[receipt_id] = Reference(accrual)
    history.reals[receipt_id] = Real()


def _service_draw(history: History, amount_fen: int) -> ReceiptId:
    result = draw(
        history.uow_factory,
        history.line_id,
        amount_fen=amount_fen,
        on=history.today,
        maturity_date=history.today + timedelta(days=RECEIPT_DAYS),
        idempotency_key=history.key(),
        actor="c",
    )
    return ReceiptId(result.receipt_id)


def _repay(history: History, pick: int, share_percent: int, *, payoff: bool) -> None:
    """Repay principal (``share_percent`` of the balance, or all of it) with every amount of
    income owed, so that the waterfall puts exactly that principal on the receipt."""
    active = history.active()
    if not active:
        return
    receipt_id = active[pick % len(active)]
    reference = history.references[receipt_id]
    on = history.today
    balance = reference.accrual.balance_fen
    if payoff:
        reference.accrual, settlement = reference.accrual.payoff(on)
    else:
        principal = max(1, balance * share_percent // 100)
        reference.accrual, settlement = reference.accrual.repay(on, principal)
    reference.settled_fen += settlement.interest_fen
    history.line = history.line.repay(settlement.principal_fen)
    owed = quote_payoff(history.uow_factory, receipt_id, on=on)
    outstanding = history.loan(receipt_id).outstanding_principal_fen
    paid = repay(
        history.uow_factory,
        receipt_id,
        amount_fen=owed - outstanding + settlement.principal_fen,
        on=on,
        idempotency_key=history.key(),
        actor="c",
    )
    assert paid.principal_fen == settlement.principal_fen
    assert paid.closed == (reference.accrual.balance_fen == 0)
    history.reals[receipt_id].interest_paid_fen += paid.interest_fen


def _close_days(history: History, days: int) -> None:
    for _ in range(days):
        day = history.today
        run_end_of_day(history.store, day)
        for reference in history.references.values():
            if reference.accrual.balance_fen == 0:
                continue  # paid off: the receipt is closed and accrues no more
            if day.day == history.settlement_day:
                reference.accrual, settlement = reference.accrual.settle(day)
                reference.settled_fen += settlement.interest_fen
            else:
                reference.accrual = reference.accrual.accrue_to(day + timedelta(days=1))
        history.today = day + timedelta(days=1)


def _accrual_posted_fen(engine: Engine, receipt_id: ReceiptId) -> int:
    with engine.connect() as connection:
        total = connection.execute(
            select(func.coalesce(func.sum(accrual_entries.c.interest_fen), 0))
            .where(accrual_entries.c.loan_id == receipt_id)
            .where(accrual_entries.c.kind == "accrual")
        ).scalar_one()
    return int(total)


def _check(history: History, rounding: Rounding) -> None:
    with history.uow_factory() as uow:
        line = uow.lines.get(history.line_id)
    assert line is not None
    assert line.drawn_fen == history.line.used_fen
    assert line.available_fen == history.line.available_fen
    for receipt_id, reference in history.references.items():
        loan = history.loan(receipt_id)
        accrual = reference.accrual
        settled = history.reals[receipt_id].interest_paid_fen + loan.interest_billed_fen
        assert loan.outstanding_principal_fen == accrual.balance_fen, receipt_id
        assert loan.interest_accum_fen_days == accrual.balance_days_fen, receipt_id
        assert loan.interest_accrued_fen == round_fen(accrual.interest_exact_fen, rounding)
        assert settled == reference.settled_fen, receipt_id
        # Daily postings are the change of the rounded cumulative accrual: they never drift.
        assert _accrual_posted_fen(history.engine, receipt_id) == settled + (
            loan.interest_accrued_fen
        )
        closed = accrual.balance_fen == 0
        assert (loan.status is LoanStatus.CLOSED) == closed, receipt_id


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    # The fixture hands over a factory of fresh databases: each example opens its own.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history_steps=steps, contract=terms)
def test_end_of_day_matches_the_reference_model_on_random_histories(
    fresh_servicing_engine: EngineFactory,
    revolving_product: Callable[..., LoanProduct],
    history_steps: list[tuple[Any, ...]],
    contract: dict[str, Any],
) -> None:
    product = revolving_product(
        settlement_day=contract["settlement_day"],
        basis=contract["basis"],
        rounding=contract["rounding"],
    )
    with fresh_servicing_engine() as engine:
        history = _open(engine, product, contract["annual_rate"], contract["start"])
        for step in history_steps:
            kind = step[0]
            if kind == "draw":
                _draw(history, step[1], contract["annual_rate"], product)
            elif kind in ("repay", "payoff"):
                _repay(history, step[1], step[2], payoff=kind == "payoff")
            else:
                _close_days(history, step[1])
            _check(history, product.rounding)
