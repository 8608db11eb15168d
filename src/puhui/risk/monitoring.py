"""Model monitoring: stability against development, decision rates, vintages, rank-ordering.

Pure functions over two frames a decision history provides: scored applications — ``month``
(``YYYY-MM`` or a date), ``score``, ``pd``, ``outcome`` (approve / decline / refer) and one
column per model input — and booked outcomes (described in :mod:`puhui.risk.vintage`).

PSI rule: shares are compared bin by bin as ``(q - p) · ln(q / p)``; a bin empty on one side
takes the share ``PSI_EPSILON`` instead of 0 (so the index stays finite), and a bin empty on
both sides adds nothing. Readings: below 0.10 stable, 0.10-0.25 watch, above 0.25 shifted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.metrics import PSI_FLOOR_SHARE
from puhui.risk.reference_profile import (
    BinnedVariable,
    MonitoringDataInvalid,
    ReferenceProfile,
    build_reference_profile,
)
from puhui.risk.vintage import (
    MaturedPerformance,
    Vintage,
    matured_performance,
    month_text,
    require_columns,
    vintages,
)

__all__ = [
    "PSI_EPSILON",
    "Alert",
    "AlertCode",
    "AlertSeverity",
    "BinShift",
    "BinnedVariable",
    "CharacteristicShift",
    "DecisionRates",
    "MaturedPerformance",
    "MonitoringDataInvalid",
    "MonitoringResult",
    "MonitoringThresholds",
    "MonthlyStability",
    "ReferenceProfile",
    "Vintage",
    "build_reference_profile",
    "characteristic_shift",
    "decision_rates",
    "matured_performance",
    "monitor",
    "psi_of_shares",
    "psi_reading",
    "vintages",
]

FloatArray = npt.NDArray[np.float64]
PSI_EPSILON = PSI_FLOOR_SHARE
OUTCOMES = ("approve", "refer", "decline")
NO_REFERENCE = (
    "This model was saved without a reference profile (reference.json): score and input "
    "stability cannot be measured against development. Models trained now save one; for an "
    "older model, build it from its development sample and save it beside the model."
)


def psi_of_shares(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Population stability index of two share vectors over the same bins (rule above)."""
    p = np.maximum(np.asarray(expected, dtype=np.float64), PSI_EPSILON)
    q = np.maximum(np.asarray(actual, dtype=np.float64), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_reading(value: float, *, watch: float = 0.10, shifted: float = 0.25) -> str:
    return "stable" if value < watch else "watch" if value < shifted else "shifted"


class AlertSeverity(StrEnum):
    WARNING = "warning"
    ALERT = "alert"


class AlertCode(StrEnum):
    """Stable codes of monitoring alerts (the audit trail and dashboards key on them)."""

    SCORE_PSI_WATCH = "score_psi_watch"
    SCORE_PSI_SHIFTED = "score_psi_shifted"
    INPUT_PSI_SHIFTED = "input_psi_shifted"
    AUC_DROP = "auc_drop"
    BAD_RATE_ABOVE_PREDICTED = "bad_rate_above_predicted"
    BAD_RATE_BELOW_PREDICTED = "bad_rate_below_predicted"


@dataclass(frozen=True)
class Alert:
    code: AlertCode
    severity: AlertSeverity
    subject: str
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "code": self.code.value, "severity": self.severity.value}


@dataclass(frozen=True)
class MonitoringThresholds:
    """When monitoring raises an alert; every figure is a bank's policy choice.

    PSI is judged only on ``min_applications`` scored applications, the AUC and the
    realised/predicted ratio only on ``min_matured_loans`` matured loans (fewer give noise).
    A loan is matured when it has been on book ``horizon_months`` or went bad before that.
    """

    score_psi_warn: float = 0.10
    score_psi_alert: float = 0.25
    input_psi_alert: float = 0.25
    auc_drop_alert: float = 0.05
    bad_rate_ratio_low: float = 0.67
    bad_rate_ratio_high: float = 1.5
    min_applications: int = 100
    min_matured_loans: int = 200
    horizon_months: int = 12

    def __post_init__(self) -> None:
        if not 0 < self.score_psi_warn <= self.score_psi_alert:
            raise MonitoringDataInvalid("score PSI thresholds need 0 < warn <= alert")
        if not 0 < self.bad_rate_ratio_low < 1 < self.bad_rate_ratio_high:
            raise MonitoringDataInvalid("the bad-rate ratio band must enclose 1")
        if self.horizon_months < 1 or self.min_applications < 1 or self.min_matured_loans < 1:
            raise MonitoringDataInvalid("horizon and minimum counts must be positive")


@dataclass(frozen=True)
class BinShift:
    label: str
    development_share: float
    actual_share: float
    weight: float | None
    """Points (scorecard) or mean log-odds contribution (gradient boosting) of the bin."""

    @property
    def shift(self) -> float | None:
        """Contribution of this bin to the change of the mean score (or log-odds)."""
        if self.weight is None:
            return None
        return (self.actual_share - self.development_share) * self.weight


@dataclass(frozen=True)
class CharacteristicShift:
    """Characteristic analysis of one input: where its population moved and what it cost."""

    name: str
    n: int
    psi: float
    unit: str
    bins: tuple[BinShift, ...]

    @property
    def shift(self) -> float | None:
        shifts = [b.shift for b in self.bins]
        return None if any(s is None for s in shifts) else float(sum(s or 0.0 for s in shifts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": self.n,
            "psi": self.psi,
            "unit": self.unit,
            "shift": self.shift,
            "bins": [{**asdict(b), "shift": b.shift} for b in self.bins],
        }


def characteristic_shift(
    variable: BinnedVariable, column: pl.Series, unit: str
) -> CharacteristicShift:
    actual = variable.shares_of(column)
    weights: Sequence[float | None] = variable.weights or [None] * len(actual)
    bins = tuple(
        BinShift(label, dev, float(now), weight)
        for label, dev, now, weight in zip(
            variable.all_labels, variable.shares, actual, weights, strict=True
        )
    )
    return CharacteristicShift(
        variable.name, column.len(), psi_of_shares(variable.shares, actual), unit, bins
    )


@dataclass(frozen=True)
class MonthlyStability:
    month: str
    n: int
    mean_score: float
    mean_pd: float
    psi: float | None


@dataclass(frozen=True)
class DecisionRates:
    month: str
    n: int
    approved: int
    referred: int
    declined: int

    @property
    def approval_rate(self) -> float:
        return self.approved / self.n if self.n else 0.0

    @property
    def referral_rate(self) -> float:
        return self.referred / self.n if self.n else 0.0

    @property
    def decline_rate(self) -> float:
        return self.declined / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "approval_rate": self.approval_rate,
            "referral_rate": self.referral_rate,
            "decline_rate": self.decline_rate,
        }


@dataclass(frozen=True)
class MonitoringResult:
    model_version: str
    first_month: str
    last_month: str
    n_applications: int
    has_reference: bool
    reference_mean_pd: float | None
    score_psi: float | None
    score: CharacteristicShift | None
    score_by_month: tuple[MonthlyStability, ...]
    characteristics: tuple[CharacteristicShift, ...]
    decision_rates: tuple[DecisionRates, ...]
    vintages: tuple[Vintage, ...]
    performance: MaturedPerformance | None
    alerts: tuple[Alert, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "first_month": self.first_month,
            "last_month": self.last_month,
            "n_applications": self.n_applications,
            "has_reference": self.has_reference,
            "reference_mean_pd": self.reference_mean_pd,
            "score_psi": self.score_psi,
            "score": None if self.score is None else self.score.to_dict(),
            "score_by_month": [asdict(m) for m in self.score_by_month],
            "characteristics": [c.to_dict() for c in self.characteristics],
            "decision_rates": [r.to_dict() for r in self.decision_rates],
            "vintages": [v.to_dict() for v in self.vintages],
            "performance": None
            if self.performance is None
            else {**asdict(self.performance), "auc_drop": self.performance.auc_drop},
            "alerts": [a.to_dict() for a in self.alerts],
            "notes": list(self.notes),
        }


# --- frames ----------------------------------------------------------------------------------


def decision_rates(scored: pl.DataFrame) -> tuple[DecisionRates, ...]:
    """Approval, referral and decline counts of every month."""
    require_columns(scored, ("month", "outcome"), "scored applications")
    scored = month_text(scored, "month")
    unknown = set(scored.get_column("outcome").unique().to_list()) - set(OUTCOMES)
    if unknown:
        raise MonitoringDataInvalid(f"unknown decision outcomes {sorted(map(str, unknown))}")
    counts = (
        scored.group_by("month")
        .agg(
            pl.len().alias("n"),
            *[(pl.col("outcome") == o).sum().alias(o) for o in OUTCOMES],
        )
        .sort("month")
    )
    return tuple(
        DecisionRates(row["month"], row["n"], row["approve"], row["refer"], row["decline"])
        for row in counts.iter_rows(named=True)
    )


def _mean(column: pl.Series) -> float:
    """Mean of the values present (NaN when none is)."""
    values = column.cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
    return float(values.mean()) if values.size else math.nan


def _score_by_month(
    scored: pl.DataFrame, reference: ReferenceProfile | None
) -> tuple[MonthlyStability, ...]:
    months: list[MonthlyStability] = []
    for (month,), part in scored.sort("month").group_by(["month"], maintain_order=True):
        score = part.get_column("score")
        months.append(
            MonthlyStability(
                month=str(month),
                n=part.height,
                mean_score=_mean(score),
                mean_pd=_mean(part.get_column("pd")),
                psi=None
                if reference is None
                else psi_of_shares(reference.score.shares, reference.score.shares_of(score)),
            )
        )
    return tuple(months)


# --- alerts ----------------------------------------------------------------------------------


def _score_alert(subject: str, psi: float, t: MonitoringThresholds) -> Alert | None:
    if psi >= t.score_psi_alert:
        return Alert(
            AlertCode.SCORE_PSI_SHIFTED,
            AlertSeverity.ALERT,
            subject,
            psi,
            t.score_psi_alert,
            f"{subject} PSI {psi:.3f} against development (alert at {t.score_psi_alert})",
        )
    if psi >= t.score_psi_warn:
        return Alert(
            AlertCode.SCORE_PSI_WATCH,
            AlertSeverity.WARNING,
            subject,
            psi,
            t.score_psi_warn,
            f"{subject} PSI {psi:.3f} against development (watch from {t.score_psi_warn})",
        )
    return None


def _stability_alerts(
    score: CharacteristicShift | None,
    months: Sequence[MonthlyStability],
    characteristics: Sequence[CharacteristicShift],
    n: int,
    t: MonitoringThresholds,
) -> list[Alert]:
    """Score PSI over the window and in every month with enough applications; input PSI."""
    if score is None or n < t.min_applications:
        return []
    found = [_score_alert("score", score.psi, t)]
    found += [
        _score_alert(f"score {m.month}", m.psi, t)
        for m in months
        if m.psi is not None and m.n >= t.min_applications and len(months) > 1
    ]
    alerts = [alert for alert in found if alert is not None]
    alerts.extend(
        Alert(
            AlertCode.INPUT_PSI_SHIFTED,
            AlertSeverity.ALERT,
            c.name,
            c.psi,
            t.input_psi_alert,
            f"input {c.name} PSI {c.psi:.3f} against development (alert at {t.input_psi_alert})",
        )
        for c in characteristics
        if c.psi >= t.input_psi_alert
    )
    return alerts


def _performance_alerts(
    performance: MaturedPerformance | None, found: Sequence[Vintage], t: MonitoringThresholds
) -> list[Alert]:
    alerts: list[Alert] = []
    drop = None if performance is None else performance.auc_drop
    if (
        performance is not None
        and drop is not None
        and performance.n >= t.min_matured_loans
        and drop > t.auc_drop_alert
    ):
        alerts.append(
            Alert(
                AlertCode.AUC_DROP,
                AlertSeverity.ALERT,
                "auc",
                drop,
                t.auc_drop_alert,
                f"AUC {performance.auc:.3f} on {performance.n} matured loans is {drop:.3f} "
                f"below development {performance.development_auc:.3f}",
            )
        )
    for v in found:
        ratio = v.ratio
        if ratio is None or v.n < t.min_matured_loans:
            continue
        if ratio > t.bad_rate_ratio_high:
            code, threshold = AlertCode.BAD_RATE_ABOVE_PREDICTED, t.bad_rate_ratio_high
        elif ratio < t.bad_rate_ratio_low:
            code, threshold = AlertCode.BAD_RATE_BELOW_PREDICTED, t.bad_rate_ratio_low
        else:
            continue
        alerts.append(
            Alert(
                code,
                AlertSeverity.ALERT,
                f"vintage {v.booking_month}",
                ratio,
                threshold,
                f"vintage {v.booking_month}: realised bad rate {v.realised_bad_rate:.2%} against "
                f"predicted {v.mean_pd:.2%} (ratio {ratio:.2f}, {v.n} loans)",
            )
        )
    return alerts


# --- the whole run ---------------------------------------------------------------------------


def monitor(
    scored: pl.DataFrame,
    booked: pl.DataFrame | None,
    reference: ReferenceProfile | None,
    *,
    model_version: str,
    first_month: str,
    last_month: str,
    thresholds: MonitoringThresholds | None = None,
) -> MonitoringResult:
    """Everything monitoring says about one model over a window of decision months."""
    t = thresholds or MonitoringThresholds()
    require_columns(scored, ("month", "score", "pd", "outcome"), "scored applications")
    scored = month_text(scored, "month")
    notes: list[str] = []
    score: CharacteristicShift | None = None
    characteristics: list[CharacteristicShift] = []
    if reference is None:
        notes.append(NO_REFERENCE)
    elif scored.height:
        score = characteristic_shift(reference.score, scored.get_column("score"), "")
        for variable in reference.inputs:
            if variable.name not in scored.columns:
                notes.append(f"input {variable.name} is not in the stored decisions: not measured")
                continue
            column = scored.get_column(variable.name)
            characteristics.append(characteristic_shift(variable, column, reference.weight_unit))
        characteristics.sort(key=lambda c: -c.psi)
    if scored.height == 0:
        notes.append(f"no application was scored by {model_version} in {first_month}..{last_month}")
    elif scored.height < t.min_applications:
        notes.append(
            f"only {scored.height} scored applications: stability is shown but not alerted "
            f"(at least {t.min_applications} needed)"
        )
    found: tuple[Vintage, ...] = ()
    performance: MaturedPerformance | None = None
    if booked is None or booked.height == 0:
        notes.append("no booked loan has outcomes yet: vintages and AUC/KS wait for servicing")
    else:
        found = vintages(booked, horizon_months=t.horizon_months)
        performance = matured_performance(
            booked, horizon_months=t.horizon_months, reference=reference
        )
        if performance.auc is None:
            notes.append(
                f"{performance.n} matured loans ({performance.n_bad} bad): AUC and KS need both "
                "good and bad matured loans"
            )
    by_month = _score_by_month(scored, reference)
    alerts = [
        *_stability_alerts(score, by_month, characteristics, scored.height, t),
        *_performance_alerts(performance, found, t),
    ]
    return MonitoringResult(
        model_version=model_version,
        first_month=first_month,
        last_month=last_month,
        n_applications=scored.height,
        has_reference=reference is not None,
        reference_mean_pd=None if reference is None else reference.mean_pd,
        score_psi=None if score is None else score.psi,
        score=score,
        score_by_month=by_month,
        characteristics=tuple(characteristics),
        decision_rates=decision_rates(scored),
        vintages=found,
        performance=performance,
        alerts=tuple(alerts),
        notes=tuple(notes),
    )
