"""Where the dashboards' aggregates are kept: built by the end of day, read by the pages."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from puhui.services.reporting.green import GreenLoanLine
from puhui.services.reporting.model import (
    GroupBy,
    OriginationFigure,
    PortfolioPoint,
    PortfolioSnapshot,
    RefreshResult,
    VintageReport,
)


class ReportingStore(Protocol):
    """Reads are a few indexed lookups of one date's rows; ``refresh`` is its own transaction."""

    def latest_as_of(self) -> date | None:
        """The latest date with a portfolio snapshot."""
        ...

    def snapshot_dates(self, limit: int) -> list[date]:
        """The dates with a portfolio snapshot, latest first, at most ``limit`` of them."""
        ...

    def product_codes(self) -> dict[str, str]:
        """Each loan product's code by its id (to name the products' balances)."""
        ...

    def portfolio(self, as_of: date) -> PortfolioSnapshot | None: ...

    def portfolio_series(self, since: date, until: date) -> list[PortfolioPoint]:
        """Month ends in [since, until] and ``until`` itself, where snapshots exist."""
        ...

    def origination_by_day(self, first_day: date, last_day: date) -> list[OriginationFigure]: ...

    def origination_by_group(
        self, first_day: date, last_day: date, by: GroupBy
    ) -> list[OriginationFigure]: ...

    def vintages(self, as_of: date) -> VintageReport | None: ...

    def refresh(self, as_of: date) -> RefreshResult:
        """Rebuild the aggregates of ``as_of`` atomically (see ``RefreshResult``)."""
        ...

    def green_loans(self) -> list[GreenLoanLine]:
        """Loans with principal outstanding now, by green label and category (docs/green.md)."""
        ...
