"""Portfolio dashboards' data: balances and risk, origination, vintages (JSON for the charts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from puhui.domain.errors import ConfigurationError
from puhui.services.reporting import dashboards
from puhui.services.reporting.green import green_loan_report
from puhui.services.reporting.model import GroupBy
from puhui.services.reporting.ports import ReportingStore
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, call
from puhui.web.schemas.common import ErrorBody, IsoDate
from puhui.web.schemas.green import GreenLoanLineOut
from puhui.web.schemas.reports import (
    OriginationReportOut,
    PortfolioOut,
    VintageReportOut,
    origination_out,
    portfolio_out,
    vintages_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1/reports", responses=ERRORS, tags=["reports"])  # type: ignore[arg-type]

Months = Annotated[int, Query(ge=1, le=dashboards.MAX_SERIES_MONTHS)]


def _store(deps: ApiDependencies) -> ReportingStore:
    # The router is mounted only when reporting is wired (see ``create_app``).
    if deps.reports is None:
        raise ConfigurationError("portfolio reporting is not wired in this API")
    return deps.reports


@router.get("/portfolio", response_model=PortfolioOut)
async def portfolio(
    deps: Deps,
    principal: CurrentPrincipal,
    as_of: IsoDate | None = None,
    months: Months = 12,
) -> PortfolioOut:
    """Balances, DPD buckets, 五级分类 and month-over-month roll rates of a date (default: the
    latest end of day), with the month-end series of the last ``months`` months."""
    store = _store(deps)
    snapshot = await call(deps, dashboards.portfolio_report, store, actor=principal, as_of=as_of)
    series = await call(
        deps,
        dashboards.portfolio_series,
        store,
        actor=principal,
        months=months,
        until=snapshot.as_of,
    )
    return portfolio_out(snapshot, series)


@router.get("/origination", response_model=OriginationReportOut)
async def origination(
    deps: Deps,
    principal: CurrentPrincipal,
    since: Annotated[IsoDate | None, Query(alias="from")] = None,
    until: Annotated[IsoDate | None, Query(alias="to")] = None,
    by: GroupBy = GroupBy.CHANNEL,
) -> OriginationReportOut:
    """Applications, automatic decisions and approval rate per day and per channel or branch
    (default range: the 30 days up to the latest end of day)."""
    report = await call(
        deps,
        dashboards.origination_report,
        _store(deps),
        actor=principal,
        first_day=since,
        last_day=until,
        by=by,
    )
    return origination_out(report)


@router.get("/vintages", response_model=VintageReportOut)
async def vintages(
    deps: Deps, principal: CurrentPrincipal, as_of: IsoDate | None = None
) -> VintageReportOut:
    """Vintage curves by disbursement month (share ever 30+ and 90+ by month on book) with the
    predicted (mean PD at origination) and realised bad rates."""
    report = await call(deps, dashboards.vintage_report, _store(deps), actor=principal, as_of=as_of)
    return vintages_out(report)


@router.get("/green", response_model=list[GreenLoanLineOut])
async def green_loans(deps: Deps, principal: CurrentPrincipal) -> list[GreenLoanLineOut]:
    """Green loans (docs/green.md): loans with principal outstanding now and their balance by
    the green label and catalogue category their application was decided with."""
    lines = await call(deps, green_loan_report, _store(deps), actor=principal)
    return [
        GreenLoanLineOut(
            label=x.label,
            category=x.category,
            loans=x.loans,
            outstanding_principal_fen=x.outstanding_principal_fen,
        )
        for x in lines
    ]
