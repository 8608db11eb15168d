"""The lending simulation's closing figures: the portfolio as the books hold it, against truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from puhui.domain.lending.delinquency import FiveCategory
from puhui.pipelines.borrowing import MonthUtilisation, overall_utilisation
from puhui.pipelines.fraud_catch import AntiFraudCatch, anti_fraud_catch
from puhui.pipelines.portfolio_history import DPD_BUCKETS
from puhui.pipelines.prospect_channel import MonthConversion
from puhui.services.servicing.ledger import trial_balance

if TYPE_CHECKING:
    from puhui.pipelines.simulation import LendingSimulation


@dataclass
class PortfolioSummary:
    first_day: date
    last_day: date
    applications: int
    outcomes: Counter[str]
    refused_at_entry: Counter[str]
    repeat_customers: int
    lines_opened: int
    limits_fen: int
    drawn_fen: int
    repaid_fen: int
    outstanding_principal_fen: int
    receipts: int
    dpd_buckets: dict[str, tuple[int, int]]
    """Bucket -> (receipts, outstanding principal fen)."""
    categories: dict[str, tuple[int, int]]
    predicted_bad_rate: float | None
    realised_90dpd_rate: float | None
    realised_truth_default_rate: float | None
    fraud: dict[str, int]
    packaged: dict[str, int]
    trial_balance_fen: int
    eod_days: int
    seconds: dict[str, float] = field(default_factory=dict)
    anti_fraud: AntiFraudCatch | None = None
    utilisation: list[MonthUtilisation] = field(default_factory=list)
    """Lines in force, their limits and drawn principal at each month end."""
    draw_outcomes: dict[str, int] = field(default_factory=dict)
    """Per draw a need (or a needless application) called for: in full, capped, refused."""
    payment_outcomes: dict[str, int] = field(default_factory=dict)
    """Per amount due on a repayment day: paid in full, partly, not at all."""
    prospects: list[MonthConversion] = field(default_factory=list)
    """Active credit by month (empty when the run had no prospect channel)."""

    @property
    def overall_utilisation(self) -> float | None:
        return overall_utilisation(self.utilisation)

    @property
    def approval_rate(self) -> float:
        decided = self.applications - sum(self.refused_at_entry.values())
        return self.lines_opened / decided if decided else 0.0


def portfolio_summary(
    run: LendingSimulation, first_day: date, last_day: date, truth: Mapping[str, pl.DataFrame]
) -> PortfolioSummary:
    """What the run booked, as the servicing books hold it at ``last_day``, and against truth."""
    buckets = {name: (0, 0) for name, _, _ in DPD_BUCKETS}
    categories = {c.value: (0, 0) for c in FiveCategory}
    outstanding = 0
    past_90: set[str] = set()
    with run.parts.servicing() as uow:
        for receipt in run.receipts.values():
            loan = uow.loans.get(receipt.receipt_id)
            if loan is None:
                continue
            if loan.days_past_due > 90:
                past_90.add(receipt.uscc)
            if loan.status.value != "active":
                continue
            principal = loan.outstanding_principal_fen
            outstanding += principal
            for name, low, high in DPD_BUCKETS:
                if low <= loan.days_past_due <= high:
                    count, amount = buckets[name]
                    buckets[name] = (count + 1, amount + principal)
            count, amount = categories[loan.category.value]
            categories[loan.category.value] = (count + 1, amount + principal)
    balance = trial_balance(run.parts.servicing, as_of=last_day)
    booked_uscc = {r.uscc for r in run.receipts.values()}
    defaults = truth["enterprises_truth"].filter(
        pl.col("uscc").is_in(list(booked_uscc))
        & pl.col("default_month").is_not_null()
        & (pl.col("default_month") <= last_day)
    )
    truth_defaulted = set(defaults.get_column("uscc").to_list())
    n = len(booked_uscc)
    # One PD per customer, however many times it drew on its line.
    pds = [float(p) for u in booked_uscc if (p := run.borrowers.lines[u].pd) is not None]
    return PortfolioSummary(
        first_day=first_day,
        last_day=last_day,
        applications=len(run.applications),
        outcomes=run.outcomes,
        refused_at_entry=run.refused,
        repeat_customers=run.repeat_customers,
        lines_opened=len(run.lines),
        limits_fen=run.limits_fen,
        drawn_fen=sum(r.principal_fen for r in run.receipts.values()),
        repaid_fen=run.borrowers.repaid_fen,
        outstanding_principal_fen=outstanding,
        receipts=len(run.receipts),
        dpd_buckets=buckets,
        categories=categories,
        predicted_bad_rate=sum(pds) / len(pds) if pds else None,
        realised_90dpd_rate=len(past_90) / n if n else None,
        realised_truth_default_rate=len(truth_defaulted) / n if n else None,
        fraud=_against_truth(run, truth["applications_truth"], "is_fraud"),
        packaged=_against_truth(run, truth["applications_truth"], "is_packaged"),
        trial_balance_fen=balance.total_fen,
        eod_days=run.eod_days,
        seconds=dict(run.seconds),
        anti_fraud=anti_fraud_catch(run.screened, truth["applications_truth"]),
        utilisation=list(run.borrowers.utilisation),
        draw_outcomes=dict(run.borrowers.draw_outcomes),
        payment_outcomes=dict(run.borrowers.payment_outcomes),
        prospects=[] if run.prospects is None else list(run.prospects.months),
    )


def _against_truth(run: LendingSimulation, truth: pl.DataFrame, flag: str) -> dict[str, int]:
    """How the platform treated the applications the truth marks: caught or missed."""
    marked = set(truth.filter(pl.col(flag)).get_column("application_id").to_list())
    counts: Counter[str] = Counter()
    for app in run.applications:
        if app.application_id not in marked:
            continue
        outcome = run.booked.get(app.application_id, "not_processed")
        counts["total"] += 1
        if outcome == "line":
            counts["missed_line_opened"] += 1
        elif outcome == "existing_customer":
            counts["existing_customer"] += 1
        else:
            counts["caught"] += 1
            counts[f"caught_{outcome.split(':')[0]}"] += 1
    return dict(counts)
