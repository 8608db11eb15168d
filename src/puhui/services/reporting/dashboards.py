"""Read the dashboards' figures (reporting permission) and rebuild a date's aggregates."""

from __future__ import annotations

from datetime import date, timedelta

from puhui.domain.errors import InvalidDate, InvalidInput, NotFound
from puhui.services.reporting.model import (
    GroupBy,
    OriginationFigure,
    OriginationReport,
    PortfolioPoint,
    PortfolioSnapshot,
    RefreshResult,
    VintageReport,
)
from puhui.services.reporting.ports import ReportingStore
from puhui.services.security.permissions import Permission, Principal, require

MAX_ORIGINATION_DAYS = 366
DEFAULT_ORIGINATION_DAYS = 30
MAX_SERIES_MONTHS = 36
MAX_SNAPSHOT_DATES = 400


class ReportNotBuilt(NotFound):
    """No aggregates exist for the date asked (the end of day has not built them)."""

    code = "report_not_built"


def _as_of(store: ReportingStore, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    latest = store.latest_as_of()
    if latest is None:
        raise ReportNotBuilt("no portfolio snapshot yet: the end of day builds one each night")
    return latest


def _not_built(as_of: date) -> ReportNotBuilt:
    return ReportNotBuilt(
        f"no portfolio snapshot for {as_of.isoformat()}", details={"as_of": as_of.isoformat()}
    )


def snapshot_dates(store: ReportingStore, *, actor: Principal, limit: int = 90) -> tuple[date, ...]:
    """The dates the end of day has built figures for, latest first (a date picker's choices)."""
    require(actor, Permission.REPORT_READ)
    if not 1 <= limit <= MAX_SNAPSHOT_DATES:
        raise InvalidInput(f"ask for 1 to {MAX_SNAPSHOT_DATES} dates", details={"limit": limit})
    return tuple(store.snapshot_dates(limit))


def product_codes(store: ReportingStore, *, actor: Principal) -> dict[str, str]:
    """The loan products' codes by id, to label the balances per product."""
    require(actor, Permission.REPORT_READ)
    return store.product_codes()


def portfolio_report(
    store: ReportingStore, *, actor: Principal, as_of: date | None = None
) -> PortfolioSnapshot:
    """Balances, DPD buckets, 五级分类 and roll rates of a date (default: the latest)."""
    require(actor, Permission.REPORT_READ)
    day = _as_of(store, as_of)
    found = store.portfolio(day)
    if found is None:
        raise _not_built(day)
    return found


def portfolio_series(
    store: ReportingStore, *, actor: Principal, months: int = 12, until: date | None = None
) -> tuple[PortfolioPoint, ...]:
    """The last ``months`` month ends and the latest date: balance, 30+ and NPL ratios."""
    require(actor, Permission.REPORT_READ)
    if not 1 <= months <= MAX_SERIES_MONTHS:
        raise InvalidDate(
            f"a series covers 1 to {MAX_SERIES_MONTHS} months", details={"months": months}
        )
    last = _as_of(store, until)
    first = last.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return tuple(store.portfolio_series(first, last))


def origination_report(
    store: ReportingStore,
    *,
    actor: Principal,
    first_day: date | None = None,
    last_day: date | None = None,
    by: GroupBy = GroupBy.CHANNEL,
) -> OriginationReport:
    """Applications, decisions and approval rate per day and per channel or branch; the
    range defaults to the 30 days up to the latest snapshot."""
    require(actor, Permission.REPORT_READ)
    last_day = _as_of(store, last_day)
    if first_day is None:
        first_day = last_day - timedelta(days=DEFAULT_ORIGINATION_DAYS - 1)
    if last_day < first_day:
        raise InvalidDate(
            "the range ends before it starts",
            details={"from": first_day.isoformat(), "to": last_day.isoformat()},
        )
    if (last_day - first_day).days >= MAX_ORIGINATION_DAYS:
        raise InvalidDate(
            f"a range covers at most {MAX_ORIGINATION_DAYS} days",
            details={"from": first_day.isoformat(), "to": last_day.isoformat()},
        )
    days = tuple(store.origination_by_day(first_day, last_day))
    groups = tuple(store.origination_by_group(first_day, last_day, by))
    total = OriginationFigure(
        day=None,
        group=None,
        applications=sum(d.applications for d in days),
        decided=sum(d.decided for d in days),
        approved=sum(d.approved for d in days),
        declined=sum(d.declined for d in days),
        referred=sum(d.referred for d in days),
    )
    return OriginationReport(
        first_day=first_day, last_day=last_day, by=by, days=days, groups=groups, total=total
    )


def vintage_report(
    store: ReportingStore, *, actor: Principal, as_of: date | None = None
) -> VintageReport:
    """Vintage curves (ever 30+ and 90+ by month on book) with predicted and realised bad rates."""
    require(actor, Permission.REPORT_READ)
    day = _as_of(store, as_of)
    found = store.vintages(day)
    if found is None:
        raise _not_built(day)
    return found


def refresh_reports(store: ReportingStore, as_of: date) -> RefreshResult:
    """Rebuild ``as_of``'s aggregates (an operator's or a batch's call, like the end of day)."""
    return store.refresh(as_of)
