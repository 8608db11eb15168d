"""Support of the statement tests: servicing on a migrated database with one revolving line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product

SERVICING_REVISION = "heads"  # the audit trail needs its latest schema too
"""Statements need servicing's tables only: other areas' migrations cannot break these tests."""
OPENED_ON = date(2026, 1, 5)
LIMIT_FEN = 1_000_000_00


def revolving_product(**overrides: object) -> LoanProduct:
    values: dict[str, object] = {
        "code": "SUI-E-RONG",
        "name": "随e融 revolving",
        "method": RepaymentMethod.DAILY_REVOLVING,
        "min_annual_rate": Decimal("0.03"),
        "max_annual_rate": Decimal("0.18"),
        "min_term_months": 1,
        "max_term_months": 12,
        "min_amount_fen": 100_00,
        "max_amount_fen": 10_000_000_00,
        "penalty_uplift": Decimal("0.5"),
        **overrides,
    }
    return LoanProduct(**values)  # type: ignore[arg-type]


@dataclass
class Book:
    """A servicing database with one revolving line, and a business day that moves on."""

    engine: Engine
    clock: FixedClock
    line_id: CreditLineId
    today: date
    receipts: list[ReceiptId] = field(default_factory=list)

    def uow(self) -> ServicingUnitOfWork:
        return ServicingUnitOfWork(self.engine, clock=self.clock, audit_key=b"k" * 32)

    def close_days(self, days: int) -> None:
        """Run the end of day ``days`` times: each closes today and moves to the next day."""
        store = SqlEndOfDayStore(self.engine, clock=self.clock)
        for _ in range(days):
            run_end_of_day(store, self.today)
            self.today += timedelta(days=1)

    def close_through(self, last: date) -> None:
        self.close_days((last - self.today).days + 1)

    def draw(self, amount_fen: int, *, key: str, term_days: int = 60) -> ReceiptId:
        result = draw(
            self.uow,
            self.line_id,
            amount_fen=amount_fen,
            on=self.today,
            maturity_date=self.today + timedelta(days=term_days),
            idempotency_key=key,
            actor="owner",
        )
        receipt_id = ReceiptId(result.receipt_id)
        self.receipts.append(receipt_id)
        return receipt_id


def open_book(url: str) -> Book:
    engine = make_engine(url)
    migrate.upgrade(engine, SERVICING_REVISION)
    clock = FixedClock(datetime(2026, 1, 5, 2, tzinfo=UTC))
    uow: Callable[[], ServicingUnitOfWork] = lambda: ServicingUnitOfWork(  # noqa: E731
        engine, clock=clock, audit_key=b"k" * 32
    )
    product_id = create_product(uow, revolving_product(), actor="ops")
    line_id = open_credit_line(
        uow,
        enterprise_id="91350100M000100Y43",
        product_id=product_id,
        limit_fen=LIMIT_FEN,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=date(2027, 12, 31),
        actor="ops",
    )
    return Book(engine=engine, clock=clock, line_id=line_id, today=OPENED_ON)
