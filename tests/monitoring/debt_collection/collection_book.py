"""A small book on a real database for the collections tests (lines, draws, end of day)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from puhui.adapters.db.collections.unit_of_work import CollectionsUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.ids import CreditLineId, ProductId, ReceiptId
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line

OPENED_ON = date(2026, 1, 5)
DRAWN_ON = date(2026, 1, 5)
MATURITY = date(2026, 2, 5)

Units = Callable[[], CollectionsUnitOfWork]


@dataclass
class Book:
    """A small book on a real database: lines, draws, and the business days closed so far."""

    platform: Platform
    units: Units
    product_id: ProductId
    closed_through: date | None = None
    lines: dict[str, CreditLineId] = field(default_factory=dict)

    def open_line(self, enterprise: str, limit_fen: int = 1_000_000_00) -> CreditLineId:
        line = open_credit_line(
            self.units,
            enterprise_id=enterprise,
            product_id=self.product_id,
            limit_fen=limit_fen,
            annual_rate=Decimal("0.0435"),
            opened_on=OPENED_ON,
            expiry_date=date(2027, 1, 4),
            actor="ops",
        )
        self.lines[enterprise] = line
        return line

    def draw(
        self, enterprise: str, amount_fen: int, *, maturity: date = MATURITY, on: date = DRAWN_ON
    ) -> ReceiptId:
        line = self.lines.get(enterprise) or self.open_line(enterprise)
        result = draw(
            self.units,
            line,
            amount_fen=amount_fen,
            on=on,
            maturity_date=maturity,
            idempotency_key=f"draw-{enterprise}-{amount_fen}-{on}",
            actor="customer",
        )
        return ReceiptId(result.receipt_id)

    def close_through(self, last: date) -> None:
        """Run the end of day for every day up to ``last`` (from the first draw on)."""
        day = DRAWN_ON if self.closed_through is None else self.closed_through + timedelta(days=1)
        store = self.platform.end_of_day_store()
        while day <= last:
            run_end_of_day(store, day)
            day += timedelta(days=1)
        self.closed_through = last

    @property
    def open_day(self) -> date:
        if self.closed_through is None:
            return DRAWN_ON
        return self.closed_through + timedelta(days=1)
