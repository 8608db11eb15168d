"""Bodies of the portfolio dashboards' endpoints: money in fen, shares as decimal text."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from puhui.domain.lending.delinquency import FiveCategory
from puhui.services.reporting.model import (
    BucketFigure,
    OriginationFigure,
    OriginationReport,
    PortfolioPoint,
    PortfolioSnapshot,
    ProductBalances,
    Vintage,
    VintageReport,
)

Share = str | None
"""A share or rate as decimal text with four places (``"0.0125"`` is 1.25 %), or null."""


def _share(value: Decimal | None) -> Share:
    return None if value is None else str(value)


class BalancesOut(BaseModel):
    product_id: str
    loans_active: int
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_receivable_fen: int
    penalty_receivable_fen: int
    non_accrual_interest_fen: int
    lines_open: int
    lines_frozen: int
    limit_fen: int
    drawn_fen: int
    available_fen: int


class FigureOut(BaseModel):
    name: str
    label_zh: str | None = None
    loans: int
    principal_fen: int
    principal_share: Share


class RollOut(BaseModel):
    from_bucket: str
    to_bucket: str
    loans: int
    principal_fen: int
    rate: Share


class PointOut(BaseModel):
    as_of: date
    outstanding_principal_fen: int
    loans_active: int
    dpd30_principal_fen: int
    npl_principal_fen: int
    dpd30_ratio: Share
    npl_ratio: Share


class LoanChangeOut(BaseModel):
    """Active loans under an approved change of one kind (renewal, extension, restructuring)."""

    kind: str
    loans: int
    principal_fen: int
    non_performing_loans: int


class PortfolioOut(BaseModel):
    as_of: date
    total: BalancesOut
    products: list[BalancesOut]
    dpd_buckets: list[FigureOut]
    categories: list[FigureOut]
    """五级分类, 正常 first."""
    npl_ratio: Share
    roll_from: date | None
    roll_rates: list[RollOut]
    series: list[PointOut]
    """Month ends of the last months and this date."""
    loan_changes: list[LoanChangeOut] = []
    """Renewed, extended and restructured loans (flagged; docs/loan-changes.md)."""


class OriginationOut(BaseModel):
    day: date | None
    group: str | None
    applications: int
    decided: int
    approved: int
    declined: int
    referred: int
    approval_rate: Share


class OriginationReportOut(BaseModel):
    first_day: date
    last_day: date
    by: str
    days: list[OriginationOut]
    groups: list[OriginationOut]
    total: OriginationOut


class VintageOut(BaseModel):
    vintage: date
    loans: int
    principal_fen: int
    months_on_book: int
    pd_loans: int
    predicted_bad_rate: Share
    """Mean PD at origination."""
    realised_bad30: str
    realised_bad90: str
    bad30_share: list[str]
    """Cumulative share ever 30+ at month on book 0, 1, 2, ... (the chart's series)."""
    bad90_share: list[str]
    bad30_principal_share: list[str]
    bad90_principal_share: list[str]


class VintageReportOut(BaseModel):
    as_of: date
    vintages: list[VintageOut]


def _balances(b: ProductBalances) -> BalancesOut:
    return BalancesOut(**asdict(b))


def _figure(f: BucketFigure, *, category: bool = False) -> FigureOut:
    return FigureOut(
        name=f.name,
        label_zh=FiveCategory(f.name).label_zh if category else None,
        loans=f.loans,
        principal_fen=f.principal_fen,
        principal_share=_share(f.principal_share),
    )


def _point(p: PortfolioPoint) -> PointOut:
    return PointOut(
        as_of=p.as_of,
        outstanding_principal_fen=p.outstanding_principal_fen,
        loans_active=p.loans_active,
        dpd30_principal_fen=p.dpd30_principal_fen,
        npl_principal_fen=p.npl_principal_fen,
        dpd30_ratio=_share(p.dpd30_ratio),
        npl_ratio=_share(p.npl_ratio),
    )


def portfolio_out(snapshot: PortfolioSnapshot, series: tuple[PortfolioPoint, ...]) -> PortfolioOut:
    return PortfolioOut(
        as_of=snapshot.as_of,
        total=_balances(snapshot.total),
        products=[_balances(p) for p in snapshot.products],
        dpd_buckets=[_figure(b) for b in snapshot.dpd_buckets],
        categories=[_figure(c, category=True) for c in snapshot.categories],
        npl_ratio=_share(snapshot.npl_ratio),
        loan_changes=[
            LoanChangeOut(
                kind=f.kind,
                loans=f.loans,
                principal_fen=f.principal_fen,
                non_performing_loans=f.non_performing_loans,
            )
            for f in snapshot.loan_changes
        ],
        roll_from=snapshot.roll_from,
        roll_rates=[
            RollOut(
                from_bucket=r.from_bucket,
                to_bucket=r.to_bucket,
                loans=r.loans,
                principal_fen=r.principal_fen,
                rate=_share(r.rate),
            )
            for r in snapshot.roll_rates
        ],
        series=[_point(p) for p in series],
    )


def _origination(f: OriginationFigure) -> OriginationOut:
    return OriginationOut(
        day=f.day,
        group=f.group,
        applications=f.applications,
        decided=f.decided,
        approved=f.approved,
        declined=f.declined,
        referred=f.referred,
        approval_rate=_share(f.approval_rate),
    )


def origination_out(report: OriginationReport) -> OriginationReportOut:
    return OriginationReportOut(
        first_day=report.first_day,
        last_day=report.last_day,
        by=report.by.value,
        days=[_origination(d) for d in report.days],
        groups=[_origination(g) for g in report.groups],
        total=_origination(report.total),
    )


def _vintage(v: Vintage) -> VintageOut:
    return VintageOut(
        vintage=v.vintage,
        loans=v.loans,
        principal_fen=v.principal_fen,
        months_on_book=v.months_on_book,
        pd_loans=v.pd_loans,
        predicted_bad_rate=_share(v.predicted_bad_rate),
        realised_bad30=str(v.realised_bad30),
        realised_bad90=str(v.realised_bad90),
        bad30_share=[str(x) for x in v.bad30_share],
        bad90_share=[str(x) for x in v.bad90_share],
        bad30_principal_share=[str(x) for x in v.bad30_principal_share],
        bad90_principal_share=[str(x) for x in v.bad90_principal_share],
    )


def vintages_out(report: VintageReport) -> VintageReportOut:
    return VintageReportOut(as_of=report.as_of, vintages=[_vintage(v) for v in report.vintages])
