"""The owner's business-health report (智能财务顾问), computed from consented data only.

Input: the frames one enterprise's consented pulls returned (tax returns, settlement account,
registration and, when consented, the credit bureau), the peers' cells of its industry and
size band, and the strategy's limit rule. Output: a ``HealthReport`` of integer fen, ratios
and dates that the H5 page, the PDF, the CLI and the API all render (``to_document``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from puhui.services.advisor.forecast import CashForecast, forecast
from puhui.services.advisor.limits import LimitAnalysis
from puhui.services.advisor.ports import PeerCell

MONTHS = 24
"""Months of history the report shows."""
SPRING_FESTIVAL_MONTH: dict[int, int] = {
    2015: 2, 2016: 2, 2017: 1, 2018: 2, 2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2,
    2025: 1, 2026: 2, 2027: 2, 2028: 1, 2029: 2, 2030: 2, 2031: 1, 2032: 2, 2033: 1, 2034: 2,
    2035: 2,
}  # fmt: skip
"""The calendar month of the Spring Festival (the same table as ``risk.need.calendar``)."""
TAX_FILING_DAY = 15
"""VAT returns for a month are filed by the 15th of the next (extended when a holiday falls
in the filing period)."""


def month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _ratio(a: int, b: int) -> float | None:
    """``a / b - 1`` to four places; None when ``b`` is not positive."""
    if b <= 0:
        return None
    value = (Decimal(a) / Decimal(b) - 1).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return float(value)


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: date
    sales_fen: int | None
    inflow_fen: int | None
    outflow_fen: int | None

    @property
    def net_fen(self) -> int | None:
        if self.inflow_fen is None or self.outflow_fen is None:
            return None
        return self.inflow_fen - self.outflow_fen


@dataclass(frozen=True, slots=True)
class Trend:
    """Totals of the last 12 months against the 12 before, the last 3 against the 3 before."""

    last_12_fen: int
    prior_12_fen: int
    yoy: float | None
    last_3_fen: int
    prior_3_fen: int
    change_3m: float | None


@dataclass(frozen=True, slots=True)
class Benchmark:
    """The enterprise against its peers on one measure; ``cell`` None when suppressed."""

    measure: str
    value: float | int | None
    cell: PeerCell | None
    peers: int
    position: str | None
    """``below_q1`` | ``q1_to_median`` | ``median_to_q3`` | ``above_q3``."""


@dataclass(frozen=True, slots=True)
class Seasonality:
    index_by_month: Mapping[int, int]
    """Calendar month -> its average sales as a percentage of the average month (100)."""
    spring_festival_months: tuple[date, ...]
    festival_index: int | None
    """Average index of the Spring Festival months in the history (None when none)."""


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str
    """``tax_due`` | ``tax_late`` | ``tax_arrears`` | ``repayment_due`` | ``repayment_overdue``
    | ``past_due_elsewhere``."""
    due: date | None = None
    amount_fen: int | None = None
    count: int | None = None
    reference: str | None = None
    days: int | None = None
    """The worst days past due (``past_due_elsewhere``)."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    uscc: str
    name: str | None
    as_of: date
    """The last complete month the report covers (its first day)."""
    industry_group: str
    size_band: str
    scopes: tuple[str, ...]
    months: tuple[MonthRow, ...]
    sales: Trend
    inflow: Trend
    benchmarks: tuple[Benchmark, ...]
    seasonality: Seasonality
    forecast: CashForecast | None
    reminders: tuple[Reminder, ...]
    limit: LimitAnalysis | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _by_month(frame: pl.DataFrame, column: str) -> dict[date, int]:
    if frame.height == 0:
        return {}
    return dict(
        zip(frame.get_column("month").to_list(), frame.get_column(column).to_list(), strict=True)
    )


def _trend(values: Sequence[int]) -> Trend:
    last_12, prior_12 = sum(values[-12:]), sum(values[-24:-12])
    last_3, prior_3 = sum(values[-3:]), sum(values[-6:-3])
    return Trend(
        last_12, prior_12, _ratio(last_12, prior_12), last_3, prior_3, _ratio(last_3, prior_3)
    )


def _seasonality(months: Sequence[MonthRow]) -> Seasonality:
    by_calendar: dict[int, list[int]] = {}
    for row in months:
        if row.sales_fen is not None:
            by_calendar.setdefault(row.month.month, []).append(row.sales_fen)
    known = [v for values in by_calendar.values() for v in values]
    mean = Decimal(sum(known)) / len(known) if known else Decimal(0)
    index: dict[int, int] = {}
    for m in range(1, 13):
        values = by_calendar.get(m)
        if values and mean > 0:
            average = Decimal(sum(values)) / len(values)
            index[m] = int((average * 100 / mean).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    festival = tuple(
        row.month
        for row in months
        if SPRING_FESTIVAL_MONTH.get(row.month.year, 2) == row.month.month
    )
    festival_values = [
        r.sales_fen for r in months if r.month in festival and r.sales_fen is not None
    ]
    festival_index = None
    if festival_values and mean > 0:
        average = Decimal(sum(festival_values)) / len(festival_values)
        festival_index = int((average * 100 / mean).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return Seasonality(index, festival, festival_index)


def _position(value: float | int | None, cell: PeerCell | None) -> str | None:
    if value is None or cell is None:
        return None
    if value < cell.q1:
        return "below_q1"
    if value < cell.median:
        return "q1_to_median"
    if value <= cell.q3:
        return "median_to_q3"
    return "above_q3"


def _reminders(
    tax: pl.DataFrame, bureau: pl.DataFrame | None, as_of: date, repayments: Sequence[Reminder]
) -> list[Reminder]:
    found: list[Reminder] = [
        Reminder("tax_due", due=month_add(as_of, 1).replace(day=TAX_FILING_DAY))
    ]
    recent = tax.filter(pl.col("month") > month_add(as_of, -12))
    late = recent.filter(pl.col("late_filing"))
    if late.height:
        found.append(
            Reminder(
                "tax_late",
                count=late.height,
                due=max(late.get_column("month").to_list()),
            )
        )
    if tax.height:
        last = tax.sort("month").row(-1, named=True)
        if last["arrears_fen"] > 0:
            found.append(Reminder("tax_arrears", amount_fen=int(last["arrears_fen"])))
    found.extend(repayments)
    if bureau is not None and bureau.height:
        window = bureau.filter(pl.col("month") > month_add(as_of, -24))
        overdue = window.filter(pl.col("overdue_loans") > 0)
        if overdue.height:
            found.append(
                Reminder(
                    "past_due_elsewhere",
                    count=overdue.height,
                    due=max(overdue.get_column("month").to_list()),
                    days=max(int(d) for d in window.get_column("max_days_past_due").to_list()),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class ReportInputs:
    uscc: str
    as_of: date
    registration: Mapping[str, Any]
    tax: pl.DataFrame
    settlement: pl.DataFrame
    bureau: pl.DataFrame | None
    scopes: tuple[str, ...]
    peers: Mapping[str, PeerCell | None]
    """Measure -> the peers' cell (None: fewer than the minimum, suppressed)."""
    peer_counts: Mapping[str, int]
    repayments: tuple[Reminder, ...] = ()
    limit: LimitAnalysis | None = None
    peers_available: bool = True
    """False when no peer population is wired (the report says so instead of suppressed)."""


def build_report(inputs: ReportInputs) -> HealthReport:
    as_of = inputs.as_of
    first = month_add(as_of, -(MONTHS - 1))
    tax = inputs.tax.filter(pl.col("month") <= as_of)
    settlement = inputs.settlement.filter(pl.col("month") <= as_of)
    sales = _by_month(tax, "declared_sales_fen")
    inflow = _by_month(settlement, "inflow_fen")
    outflow = _by_month(settlement, "outflow_fen")
    rows = tuple(
        MonthRow(m, sales.get(m), inflow.get(m), outflow.get(m))
        for m in (month_add(first, i) for i in range(MONTHS))
    )
    sales_series = [r.sales_fen or 0 for r in rows]
    inflow_series = [r.inflow_fen or 0 for r in rows]
    # The forecast reads every month the enterprise's account history holds, not just 24.
    history = sorted(m for m in inflow if m <= as_of)
    fc = None
    if history:
        span = [month_add(history[0], i) for i in range(_months_between(history[0], as_of) + 1)]
        fc = forecast([inflow.get(m, 0) for m in span], [outflow.get(m, 0) for m in span])
    own = {
        "sales_12m_fen": sum(sales_series[-12:]),
        "sales_yoy": _ratio(sum(sales_series[-12:]), sum(sales_series[-24:-12])),
        "net_margin": _net_margin(rows),
    }
    benchmarks = tuple(
        Benchmark(
            measure,
            own.get(measure),
            inputs.peers.get(measure),
            inputs.peer_counts.get(measure, 0),
            _position(own.get(measure), inputs.peers.get(measure)),
        )
        for measure in ("sales_12m_fen", "sales_yoy", "net_margin")
    )
    registration = inputs.registration
    notes: list[str] = []
    if not inputs.peers_available:
        notes.append("peers_unavailable")
    elif any(b.cell is None for b in benchmarks):
        notes.append("peer_cell_suppressed")
    if fc is None:
        notes.append("forecast_needs_15_months")
    elif fc.months[0].net_low_fen is None:
        notes.append("forecast_without_interval")
    return HealthReport(
        uscc=inputs.uscc,
        name=registration.get("name"),
        as_of=as_of,
        industry_group=str(registration.get("industry_group", "")),
        size_band=str(registration.get("size_band", "")),
        scopes=inputs.scopes,
        months=rows,
        sales=_trend(sales_series),
        inflow=_trend(inflow_series),
        benchmarks=benchmarks,
        seasonality=_seasonality(rows),
        forecast=fc,
        reminders=tuple(_reminders(tax, inputs.bureau, as_of, inputs.repayments)),
        limit=inputs.limit,
        notes=tuple(notes),
    )


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _net_margin(rows: Sequence[MonthRow]) -> float | None:
    last = rows[-12:]
    inflow = sum(r.inflow_fen or 0 for r in last)
    outflow = sum(r.outflow_fen or 0 for r in last)
    if inflow <= 0:
        return None
    value = (Decimal(inflow - outflow) / Decimal(inflow)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    return float(value)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_document(report: HealthReport) -> dict[str, Any]:
    """JSON-ready: dates ISO, money integer fen, ratios to four places."""
    document: dict[str, Any] = _plain(asdict(report))
    for row, source in zip(document["months"], report.months, strict=True):
        row["net_fen"] = source.net_fen
    return document
