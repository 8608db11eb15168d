"""The portfolio dashboard of the console: balances, origination, delinquency, 五级分类 and
vintages of one date, read from the aggregates the end of day keeps (never a scan of the book).

The page calls the reporting services the ``/api/v1/reports`` endpoints call, as the signed-in
user (permission ``reports:read``), and turns their exact figures into KPI tiles, ECharts
options (drawn by ``static/js/puhui.js`` from JSON data blocks) and the tables beside each
chart. Chart values are decimal strings (ECharts reads them as numbers): no float ever holds an
amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from puhui.domain.errors import ConfigurationError, InvalidDate, InvalidInput
from puhui.domain.lending.delinquency import FiveCategory
from puhui.services.reporting import dashboards
from puhui.services.reporting.model import (
    CLOSED,
    WRITTEN_OFF,
    DpdBucket,
    GroupBy,
    OriginationFigure,
    OriginationReport,
    PortfolioPoint,
    PortfolioSnapshot,
    RollFigure,
    VintageReport,
    share,
)
from puhui.services.reporting.ports import ReportingStore
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

LOAN_CHANGE_LABELS = {
    "renewal": N_("Renewed without principal repayment"),
    "extension": N_("Extended"),
    "restructuring": N_("Restructured"),
}
"""The kinds of contract change the portfolio flags (docs/loan-changes.md)."""

PATH = "/console/dashboard"
NAV = (
    NavItem(
        PATH,
        N_("Portfolio dashboard"),
        N_(
            "Balances, approvals by channel and branch, overdue buckets, the five categories "
            "and vintages, as of each end of day."
        ),
        permission=Permission.REPORT_READ,
        order=40,
    ),
)
MONTH_CHOICES = (1, 3, 6, 12, 24, 36)
DEFAULT_MONTHS = 12
DATE_CHOICES = 90
"""How many of the latest snapshot dates the date selector offers."""
DAILY_UP_TO_DAYS = 62
"""Origination over time is drawn per day up to this range, per month beyond it."""
BRANCHES_CHARTED = 15
"""The branches with the most applications in the chart (the table lists them all)."""
VINTAGES_CHARTED = 12
"""The latest vintages drawn as curves (the table lists every vintage)."""
WAN = Decimal(1_000_000)
"""Fen in 10,000 yuan (万元), the unit of the charts' amounts."""
HUNDRED = Decimal(100)

ERRORS = {
    "report_not_built": N_(
        "End of day has not built the figures for this date. Choose one of the listed dates."
    ),
}
BUCKET_NAMES = {
    DpdBucket.CURRENT.value: N_("Current"),
    DpdBucket.DPD_1_30.value: N_("1–30 days overdue"),
    DpdBucket.DPD_31_60.value: N_("31–60 days overdue"),
    DpdBucket.DPD_61_90.value: N_("61–90 days overdue"),
    DpdBucket.DPD_90_PLUS.value: N_("Over 90 days overdue"),
    CLOSED: N_("Repaid"),
    WRITTEN_OFF: N_("Written off"),
}
BALANCE_ROWS = (
    ("loans_active", N_("Active loans"), False),
    ("outstanding_principal_fen", N_("Outstanding principal"), True),
    ("overdue_principal_fen", N_("Overdue principal"), True),
    ("interest_receivable_fen", N_("Interest receivable"), True),
    ("penalty_receivable_fen", N_("Penalty receivable"), True),
    ("non_accrual_interest_fen", N_("Off-balance interest"), True),
    ("lines_open", N_("Lines open"), False),
    ("lines_frozen", N_("Lines frozen"), False),
    ("limit_fen", N_("Total limits"), True),
    ("drawn_fen", N_("Drawn"), True),
    ("available_fen", N_("Available to draw"), True),
)
"""The rows of the balances table: a field of ``ProductBalances``, its label, money or count."""
CATEGORY_NAMES_EN = {
    FiveCategory.PASS: N_("Pass"),
    FiveCategory.SPECIAL_MENTION: N_("Special mention"),
    FiveCategory.SUBSTANDARD: N_("Substandard"),
    FiveCategory.DOUBTFUL: N_("Doubtful"),
    FiveCategory.LOSS: N_("Loss"),
}
"""The five categories are named in Chinese in both languages (the regulator's terms); the
English page adds these names in brackets."""
CHANNEL_NAMES = {
    "h5_qr": N_("QR code at a branch or service point"),
    "h5": N_("Mobile pages"),
    "branch": N_("Staff at the branch"),
    "partner": N_("Partner"),
    "api": N_("Open API"),
    "qr": N_("QR code at a branch or service point"),
}
CATEGORY_COLOURS = ("#1a7f37", "#b08800", "#d4650b", "#b42318", "#6e1a14")
BUCKET_COLOURS = ("#1a7f37", "#b08800", "#d4650b", "#b42318", "#6e1a14", "#0b5cad", "#57606a")

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]


@dataclass(frozen=True, slots=True)
class Figures:
    """What the dashboard of one date shows, as the reporting services return it."""

    dates: tuple[date, ...]
    snapshot: PortfolioSnapshot | None
    series: tuple[PortfolioPoint, ...] = ()
    by_channel: OriginationReport | None = None
    by_branch: OriginationReport | None = None
    vintages: VintageReport | None = None
    product_codes: dict[str, str] | None = None


def _store(request: Request) -> ReportingStore:
    store: ReportingStore | None = request.app.state.deps.reports
    if store is None:
        raise ConfigurationError("portfolio reporting is not wired in this deployment")
    return store


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidDate("a date is YYYY-MM-DD", details={"as_of": value}) from None


def _parse_months(value: int) -> int:
    if value not in MONTH_CHOICES:
        raise InvalidInput(
            "choose one of the listed periods", details={"months": value, "allowed": MONTH_CHOICES}
        )
    return value


def _months_back(day: date, months: int) -> date:
    """The day after the same date ``months`` months earlier (the range's first day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    first = date(year, month + 1, 1)
    return max(first, day - timedelta(days=dashboards.MAX_ORIGINATION_DAYS - 1))


def read_figures(
    store: ReportingStore, *, actor: Principal, as_of: date | None, months: int
) -> Figures:
    """The dashboard's figures through the reporting services (each checks ``reports:read``)."""
    dates = dashboards.snapshot_dates(store, actor=actor, limit=DATE_CHOICES)
    if not dates:
        return Figures(dates=dates, snapshot=None)
    snapshot = dashboards.portfolio_report(store, actor=actor, as_of=as_of or dates[0])
    day = snapshot.as_of
    first = _months_back(day, months)
    return Figures(
        dates=dates,
        snapshot=snapshot,
        series=dashboards.portfolio_series(store, actor=actor, months=months, until=day),
        by_channel=dashboards.origination_report(
            store, actor=actor, first_day=first, last_day=day, by=GroupBy.CHANNEL
        ),
        by_branch=dashboards.origination_report(
            store, actor=actor, first_day=first, last_day=day, by=GroupBy.BRANCH
        ),
        vintages=dashboards.vintage_report(store, actor=actor, as_of=day),
        product_codes=dashboards.product_codes(store, actor=actor),
    )


# --- numbers for the charts: exact decimals as strings ----------------------------------------


def _wan(fen: int) -> str:
    return str((Decimal(fen) / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _pct(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    return str((rate * HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class Charts:
    """The ECharts options of one date's figures, labelled in the request's language."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def t(self, message: str, **values: Any) -> str:
        return gettext(self._request, message, **values)

    def _base(self, legend: list[str] | None = None) -> dict[str, Any]:
        option: dict[str, Any] = {
            "animation": False,
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 48, "right": 48, "top": 72, "bottom": 40, "containLabel": True},
            "textStyle": {"fontFamily": "sans-serif"},
        }
        if legend is not None:
            option["legend"] = {"type": "scroll", "top": 0, "data": legend}
        return option

    def _money_and_rate(
        self,
        labels: list[str],
        bars: list[tuple[str, list[str]]],
        lines: list[tuple[str, list[str | None]]],
        money_axis: str,
    ) -> dict[str, Any]:
        option = self._base([name for name, _ in bars] + [name for name, _ in lines])
        option["xAxis"] = {"type": "category", "data": labels}
        option["yAxis"] = [
            {"type": "value", "name": money_axis},
            {"type": "value", "name": "%", "axisLabel": {"formatter": "{value}%"}},
        ]
        option["series"] = [
            {"name": name, "type": "bar", "data": data, "yAxisIndex": 0} for name, data in bars
        ] + [
            {"name": name, "type": "line", "data": data, "yAxisIndex": 1, "connectNulls": True}
            for name, data in lines
        ]
        return option

    def portfolio_series(self, points: tuple[PortfolioPoint, ...]) -> dict[str, Any]:
        return self._money_and_rate(
            [p.as_of.isoformat() for p in points],
            [
                (
                    self.t(N_("Outstanding principal")),
                    [_wan(p.outstanding_principal_fen) for p in points],
                )
            ],
            [
                (self.t(N_("Over 30 days overdue")), [_pct(p.dpd30_ratio) for p in points]),
                (self.t(N_("Non-performing ratio")), [_pct(p.npl_ratio) for p in points]),
            ],
            self.t(N_("10,000 yuan")),
        )

    def origination_over_time(self, periods: list[OriginationFigure]) -> dict[str, Any]:
        return self._money_and_rate(
            [_period_label(p) for p in periods],
            [
                (self.t(N_("Applications")), [str(p.applications) for p in periods]),
                (self.t(N_("Approved")), [str(p.approved) for p in periods]),
            ],
            [(self.t(N_("Approval rate")), [_pct(p.approval_rate) for p in periods])],
            self.t(N_("Applications")),
        )

    def origination_groups(self, labels: list[str], groups: list[OriginationFigure]) -> Any:
        option = self._money_and_rate(
            labels,
            [
                (self.t(N_("Decided")), [str(g.decided) for g in groups]),
                (self.t(N_("Approved")), [str(g.approved) for g in groups]),
            ],
            [(self.t(N_("Approval rate")), [_pct(g.approval_rate) for g in groups])],
            self.t(N_("Applications")),
        )
        option["xAxis"]["axisLabel"] = {"interval": 0, "rotate": 30 if len(labels) > 5 else 0}
        option["grid"]["bottom"] = 64
        return option

    def buckets(self, snapshot: PortfolioSnapshot) -> dict[str, Any]:
        option = self._base()
        option["grid"]["top"] = 40
        option["xAxis"] = {
            "type": "category",
            "name": self.t(N_("Days past due")),
            "nameLocation": "middle",
            "nameGap": 28,
            "data": [
                self.t(BUCKET_NAMES[b.name]) if b.name == DpdBucket.CURRENT.value else b.name
                for b in snapshot.dpd_buckets
            ],
            "axisLabel": {"interval": 0},
        }
        option["yAxis"] = {"type": "value", "name": self.t(N_("10,000 yuan"))}
        option["series"] = [
            {
                "name": self.t(N_("Outstanding principal")),
                "type": "bar",
                "data": [
                    {"value": _wan(b.principal_fen), "itemStyle": {"color": colour}}
                    for b, colour in zip(snapshot.dpd_buckets, BUCKET_COLOURS, strict=False)
                ],
            }
        ]
        return option

    def roll_rates(self, snapshot: PortfolioSnapshot) -> dict[str, Any]:
        sources = _roll_sources(snapshot.roll_rates)
        targets = _roll_targets(snapshot.roll_rates)
        rate = {(r.from_bucket, r.to_bucket): r.rate for r in snapshot.roll_rates}
        option = self._base([self.t(BUCKET_NAMES[t]) for t in targets])
        option["legend"]["top"] = 0
        option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
        option["xAxis"] = {
            "type": "value",
            "max": 100,
            "axisLabel": {"formatter": "{value}%"},
        }
        option["yAxis"] = {
            "type": "category",
            "inverse": True,
            "data": [self.t(BUCKET_NAMES[s]) for s in sources],
        }
        option["series"] = [
            {
                "name": self.t(BUCKET_NAMES[target]),
                "type": "bar",
                "stack": "roll",
                "itemStyle": {"color": BUCKET_COLOURS[i % len(BUCKET_COLOURS)]},
                "data": [_pct(rate.get((source, target))) or "0" for source in sources],
            }
            for i, target in enumerate(targets)
        ]
        return option

    def categories(self, snapshot: PortfolioSnapshot, names: list[str]) -> dict[str, Any]:
        return {
            "animation": False,
            "tooltip": {"trigger": "item", "formatter": "{b}: {d}%"},
            "legend": {"orient": "vertical", "left": 8, "top": "middle"},
            "textStyle": {"fontFamily": "sans-serif"},
            "series": [
                {
                    "name": self.t(N_("Five-category classification")),
                    "type": "pie",
                    "radius": ["40%", "70%"],
                    "center": ["62%", "50%"],
                    "label": {"formatter": "{b}\n{d}%"},
                    "minShowLabelAngle": 2,
                    "data": [
                        {
                            "name": name,
                            "value": _wan(c.principal_fen),
                            "itemStyle": {"color": colour},
                        }
                        for c, name, colour in zip(
                            snapshot.categories, names, CATEGORY_COLOURS, strict=True
                        )
                    ],
                }
            ],
        }

    def vintage_curves(self, report: VintageReport) -> dict[str, Any]:
        charted = report.vintages[-VINTAGES_CHARTED:]
        longest = max((v.months_on_book for v in charted), default=0)
        option = self._base([_month(v.vintage) for v in charted])
        option["xAxis"] = {
            "type": "category",
            "name": self.t(N_("Months on book")),
            "nameLocation": "middle",
            "nameGap": 28,
            "data": [str(m) for m in range(longest + 1)],
        }
        option["yAxis"] = {"type": "value", "axisLabel": {"formatter": "{value}%"}}
        option["series"] = [
            {
                "name": _month(v.vintage),
                "type": "line",
                "showSymbol": False,
                "data": [_pct(s) for s in v.bad30_share],
            }
            for v in charted
        ]
        return option

    def predicted_vs_realised(self, report: VintageReport) -> dict[str, Any]:
        vintages = report.vintages
        lines = [
            (self.t(N_("Predicted bad rate")), [_pct(v.predicted_bad_rate) for v in vintages]),
            (self.t(N_("Realised bad rate")), [_pct(v.realised_bad90) for v in vintages]),
        ]
        option = self._base([name for name, _ in lines])
        option["xAxis"] = {"type": "category", "data": [_month(v.vintage) for v in vintages]}
        option["yAxis"] = {"type": "value", "axisLabel": {"formatter": "{value}%"}}
        option["series"] = [
            {"name": name, "type": "line", "data": data, "connectNulls": True}
            for name, data in lines
        ]
        return option


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _period_label(figure: OriginationFigure) -> str:
    if figure.day is None:
        return ""
    return figure.group or figure.day.isoformat()


def _roll_sources(rolls: tuple[RollFigure, ...]) -> list[str]:
    seen = {r.from_bucket for r in rolls}
    return [b.value for b in DpdBucket if b.value in seen]


def _roll_targets(rolls: tuple[RollFigure, ...]) -> list[str]:
    seen = {r.to_bucket for r in rolls}
    return [t for t in BUCKET_NAMES if t in seen]


def _by_month(days: tuple[OriginationFigure, ...]) -> list[OriginationFigure]:
    """Per-day figures summed per calendar month (labelled by ``group``: ``YYYY-MM``)."""
    months: dict[str, list[OriginationFigure]] = {}
    for figure in days:
        if figure.day is not None:
            months.setdefault(_month(figure.day), []).append(figure)
    return [
        OriginationFigure(
            day=figures[0].day,
            group=label,
            applications=sum(f.applications for f in figures),
            decided=sum(f.decided for f in figures),
            approved=sum(f.approved for f in figures),
            declined=sum(f.declined for f in figures),
            referred=sum(f.referred for f in figures),
        )
        for label, figures in months.items()
    ]


def _over_time(report: OriginationReport) -> list[OriginationFigure]:
    if (report.last_day - report.first_day).days < DAILY_UP_TO_DAYS:
        return list(report.days)
    return _by_month(report.days)


def _channel_name(request: Request, group: str | None) -> str:
    if group is None:
        return gettext(request, N_("Not recorded"))
    return gettext(request, CHANNEL_NAMES[group]) if group in CHANNEL_NAMES else group


def _category_names(request: Request, locale_is_english: bool) -> list[str]:
    names = []
    for category in FiveCategory:
        name = category.label_zh
        if locale_is_english:
            name = f"{name} ({gettext(request, CATEGORY_NAMES_EN[category])})"
        names.append(name)
    return names


def _roll_table(snapshot: PortfolioSnapshot) -> list[dict[str, Any]]:
    targets = _roll_targets(snapshot.roll_rates)
    rows = []
    for source in _roll_sources(snapshot.roll_rates):
        cells = {r.to_bucket: r for r in snapshot.roll_rates if r.from_bucket == source}
        rows.append({"from": source, "cells": [cells.get(t) for t in targets]})
    return rows


@router.get(PATH)
async def dashboard(
    request: Request,
    principal: StaffUser,
    as_of: str | None = None,
    months: int = DEFAULT_MONTHS,
) -> HTMLResponse:
    day = _parse_day(as_of)
    months = _parse_months(months)
    deps = request.app.state.deps
    try:
        figures = await call(
            deps, read_figures, _store(request), actor=principal, as_of=day, months=months
        )
    except dashboards.ReportNotBuilt:
        # A date without figures (typed into the address): say so beside the dates that have.
        dates = await call(
            deps, dashboards.snapshot_dates, _store(request), actor=principal, limit=DATE_CHOICES
        )
        figures = Figures(dates=dates, snapshot=None)
    context: dict[str, Any] = {
        "dates": figures.dates,
        "months": months,
        "month_choices": MONTH_CHOICES,
        "snapshot": figures.snapshot,
        "asked": day,
        "bucket_names": BUCKET_NAMES,
        "balance_rows": BALANCE_ROWS,
    }
    if figures.snapshot is None:
        return console_page(request, principal, "dashboard/dashboard.html", context)
    snapshot = figures.snapshot
    by_channel, by_branch, vintages = figures.by_channel, figures.by_branch, figures.vintages
    if by_channel is None or by_branch is None or vintages is None:  # pragma: no cover
        raise ConfigurationError("the reporting services returned a partial dashboard")
    category_names = _category_names(request, session.page_locale(request) == "en")
    charts = Charts(request)
    channel_labels = [_channel_name(request, g.group) for g in by_channel.groups]
    branches = sorted(by_branch.groups, key=lambda g: (-g.applications, g.group or ""))
    branch_labels = [g.group or gettext(request, N_("Not recorded")) for g in branches]
    over_time = _over_time(by_channel)
    dpd30 = sum(
        b.principal_fen
        for b in snapshot.dpd_buckets
        if b.name not in (DpdBucket.CURRENT.value, DpdBucket.DPD_1_30.value)
    )
    context.update(
        {
            "as_of": snapshot.as_of,
            "total": snapshot.total,
            "product_codes": figures.product_codes or {},
            "npl_ratio": snapshot.npl_ratio,
            "dpd30_ratio": share(dpd30, snapshot.total.outstanding_principal_fen),
            "series": figures.series,
            "by_channel": by_channel,
            "channel_rows": list(zip(channel_labels, by_channel.groups, strict=True)),
            "branch_rows": list(zip(branch_labels, branches, strict=True)),
            "over_time": over_time,
            "monthly": (by_channel.last_day - by_channel.first_day).days >= DAILY_UP_TO_DAYS,
            "category_rows": list(zip(category_names, snapshot.categories, strict=True)),
            "loan_change_rows": [
                (gettext(request, LOAN_CHANGE_LABELS[f.kind]), f) for f in snapshot.loan_changes
            ],
            "roll_targets": _roll_targets(snapshot.roll_rates),
            "roll_rows": _roll_table(snapshot),
            "vintages": vintages.vintages,
            "vintages_charted": min(VINTAGES_CHARTED, len(vintages.vintages)),
            "charts": {
                "chart-balance": charts.portfolio_series(figures.series),
                "chart-approvals": charts.origination_over_time(over_time),
                "chart-channel": charts.origination_groups(channel_labels, list(by_channel.groups)),
                "chart-branch": charts.origination_groups(
                    branch_labels[:BRANCHES_CHARTED], branches[:BRANCHES_CHARTED]
                ),
                "chart-buckets": charts.buckets(snapshot),
                "chart-rolls": charts.roll_rates(snapshot),
                "chart-categories": charts.categories(snapshot, category_names),
                "chart-vintages": charts.vintage_curves(vintages),
                "chart-predicted": charts.predicted_vs_realised(vintages),
            },
        }
    )
    return console_page(request, principal, "dashboard/dashboard.html", context)
