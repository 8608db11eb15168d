"""The lending simulation's portfolio month by month: what the demo's charts are drawn from.

At each month end the simulation records every receipt still owing (days past due and
principal outstanding). From those snapshots and the applications' outcomes come the
series a risk team looks at first: approvals and approval rate per month, balance by
days-past-due bucket, vintage curves (share of each booking month's receipts that have been
30+ days past due, by months on book) and predicted against realised default.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from puhui.services.servicing.ports import ServicingUnitOfWork

DPD_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, 10**9),
)
VINTAGE_BAD_DPD = 30
"""A receipt counts as bad in the vintage curves once it has been this many days past due."""


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


@dataclass(frozen=True, slots=True)
class MonthEnd:
    """The receipts still owing at a month end: id -> (days past due, principal fen)."""

    day: date
    owing: Mapping[str, tuple[int, int]]


@dataclass
class PortfolioHistory:
    month_ends: list[MonthEnd] = field(default_factory=list)

    def record(
        self,
        day: date,
        servicing: Callable[[], ServicingUnitOfWork],
        receipt_ids: Iterable[str],
    ) -> None:
        """Read the receipts' days past due and principal as the end of day left them."""
        owing: dict[str, tuple[int, int]] = {}
        with servicing() as uow:
            for receipt_id in receipt_ids:
                loan = uow.loans.get(receipt_id)
                if loan is None or loan.status.value != "active":
                    continue
                owing[receipt_id] = (loan.days_past_due, loan.outstanding_principal_fen)
        self.month_ends.append(MonthEnd(day, owing))


@dataclass(frozen=True, slots=True)
class MonthOriginations:
    month: date
    applications: int
    lines_opened: int

    @property
    def approval_rate(self) -> float | None:
        return self.lines_opened / self.applications if self.applications else None


def monthly_originations(
    application_months: Mapping[str, date], outcomes: Mapping[str, str]
) -> list[MonthOriginations]:
    """Applications received and lines opened per month (application id -> its month)."""
    received: Counter[date] = Counter()
    opened: Counter[date] = Counter()
    for application_id, day in application_months.items():
        month = month_of(day)
        received[month] += 1
        if outcomes.get(application_id) == "line":
            opened[month] += 1
    return [MonthOriginations(m, received[m], opened[m]) for m in sorted(received)]


def balance_by_bucket(history: PortfolioHistory) -> list[tuple[date, dict[str, int]]]:
    """Principal outstanding (fen) per days-past-due bucket at each month end."""
    series: list[tuple[date, dict[str, int]]] = []
    for month_end in history.month_ends:
        amounts = {name: 0 for name, _, _ in DPD_BUCKETS}
        for dpd, principal in month_end.owing.values():
            for name, low, high in DPD_BUCKETS:
                if low <= dpd <= high:
                    amounts[name] += principal
        series.append((month_end.day, amounts))
    return series


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def vintage_curves(
    history: PortfolioHistory, drawn_on: Mapping[str, date]
) -> dict[date, list[tuple[int, float]]]:
    """Per booking month: (months on book, share of its receipts ever 30+ days past due).

    A receipt stays bad once it has been 30+ days past due, also after it is repaid.
    """
    bad: set[str] = set()
    by_vintage: dict[date, list[str]] = {}
    for receipt_id, day in drawn_on.items():
        by_vintage.setdefault(month_of(day), []).append(receipt_id)
    curves: dict[date, list[tuple[int, float]]] = {v: [] for v in sorted(by_vintage)}
    for month_end in history.month_ends:
        bad.update(r for r, (dpd, _) in month_end.owing.items() if dpd >= VINTAGE_BAD_DPD)
        for vintage, receipts in by_vintage.items():
            on_book = _months_between(vintage, month_end.day)
            if on_book < 1:
                continue  # a vintage is measured from its first full month end
            share = sum(1 for r in receipts if r in bad) / len(receipts)
            curves[vintage].append((on_book, share))
    return {v: points for v, points in curves.items() if points}


@dataclass(frozen=True, slots=True)
class CalibrationBand:
    """Booked customers of one band of predicted PD, against what happened to them."""

    n: int
    mean_predicted: float
    realised: float


def predicted_vs_realised(
    predicted: Mapping[str, Decimal | None], defaulted: set[str], bands: int = 5
) -> list[CalibrationBand]:
    """Booked customers (uscc -> PD at booking) in bands of equal size, lowest PD first."""
    scored = sorted((float(pd), uscc) for uscc, pd in predicted.items() if pd is not None)
    if not scored:
        return []
    bands = max(1, min(bands, len(scored)))
    result: list[CalibrationBand] = []
    for i in range(bands):
        part = scored[i * len(scored) // bands : (i + 1) * len(scored) // bands]
        if not part:
            continue
        result.append(
            CalibrationBand(
                n=len(part),
                mean_predicted=sum(pd for pd, _ in part) / len(part),
                realised=sum(1 for _, uscc in part if uscc in defaulted) / len(part),
            )
        )
    return result
