"""Performance as outcomes arrive: vintage curves and rank-ordering on matured loans.

A booked-outcomes frame has ``booking_month`` (``YYYY-MM`` or a date), ``pd`` (predicted at
decision), ``months_on_book`` (months since booking as of the run, closed loans included),
``bad`` (0/1: reached 90+ days past due by then) and ``months_to_bad`` (months on book when it
first did; null when it has not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from puhui.risk.metrics import auc, ks
from puhui.risk.reference_profile import MonitoringDataInvalid, ReferenceProfile

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class Vintage:
    """Loans booked in one month: predicted PD against the bad rate realised month by month."""

    booking_month: str
    n: int
    mean_pd: float
    months_observed: int
    bad_rate_by_month: tuple[float, ...]
    """Cumulative share gone bad by months on book 1, 2, … (over all loans booked)."""
    realised_bad_rate: float | None
    """Bad rate at the horizon, once every loan of the vintage has been on book that long."""

    @property
    def ratio(self) -> float | None:
        if self.realised_bad_rate is None or self.mean_pd <= 0:
            return None
        return self.realised_bad_rate / self.mean_pd

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "bad_rate_by_month": list(self.bad_rate_by_month),
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class MaturedPerformance:
    """Rank-ordering on loans whose outcome at the horizon is known."""

    horizon_months: int
    n: int
    n_bad: int
    auc: float | None
    ks: float | None
    development_auc: float | None
    development_ks: float | None

    @property
    def auc_drop(self) -> float | None:
        if self.auc is None or self.development_auc is None:
            return None
        return self.development_auc - self.auc


def require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MonitoringDataInvalid(f"{what} lack columns {missing}")


def month_text(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """The month column as ``YYYY-MM`` text, whether it came as a date or as text."""
    dtype = frame.schema[name]
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(name).dt.strftime("%Y-%m"))
    if dtype != pl.String:
        raise MonitoringDataInvalid(f"{name} must be a date or YYYY-MM text, not {dtype}")
    malformed = frame.filter(~pl.col(name).str.contains(MONTH_PATTERN))
    if malformed.height:
        raise MonitoringDataInvalid(f"{name} must be YYYY-MM: {malformed.get_column(name)[0]!r}")
    return frame


def _checked_outcomes(booked: pl.DataFrame) -> pl.DataFrame:
    require_columns(
        booked, ("booking_month", "pd", "months_on_book", "bad", "months_to_bad"), "booked outcomes"
    )
    booked = month_text(booked, "booking_month").with_columns(
        pl.col("bad").cast(pl.Int8), pl.col("months_to_bad").cast(pl.Int64)
    )
    unknown = booked.filter(
        pl.col("pd").is_null() | pl.col("months_on_book").is_null() | pl.col("bad").is_null()
    )
    if unknown.height:
        raise MonitoringDataInvalid(
            "every booked loan needs its pd, months_on_book and bad flag",
            details={"rows": unknown.height},
        )
    inconsistent = booked.filter((pl.col("bad") == 1) != pl.col("months_to_bad").is_not_null())
    if inconsistent.height:
        raise MonitoringDataInvalid(
            "months_to_bad must be given exactly for the loans marked bad",
            details={"rows": inconsistent.height},
        )
    return booked


def vintages(booked: pl.DataFrame, *, horizon_months: int = 12) -> tuple[Vintage, ...]:
    """Per booking month: count, mean predicted PD and the cumulative bad-rate curve."""
    booked = _checked_outcomes(booked)
    result: list[Vintage] = []
    for (month,), part in booked.sort("booking_month").group_by(
        ["booking_month"], maintain_order=True
    ):
        n = part.height
        mob = part.get_column("months_on_book").cast(pl.Int64).to_numpy()
        observed = int(mob.max())
        to_bad = part.get_column("months_to_bad").cast(pl.Float64).fill_null(math.inf).to_numpy()
        curve = tuple(float((to_bad <= k).sum() / n) for k in range(1, observed + 1))
        matured = int(mob.min()) >= horizon_months
        result.append(
            Vintage(
                booking_month=str(month),
                n=n,
                mean_pd=float(np.mean(part.get_column("pd").cast(pl.Float64).to_numpy())),
                months_observed=observed,
                bad_rate_by_month=curve,
                realised_bad_rate=float((to_bad <= horizon_months).sum() / n) if matured else None,
            )
        )
    return tuple(result)


def matured_performance(
    booked: pl.DataFrame,
    *,
    horizon_months: int = 12,
    reference: ReferenceProfile | None = None,
) -> MaturedPerformance:
    """AUC and KS of the predicted PD on matured loans only.

    A loan is matured when it has been on book at least ``horizon_months``, or went bad
    before then: only for those is "bad within the horizon" a known fact.
    """
    booked = _checked_outcomes(booked)
    mob = booked.get_column("months_on_book").to_numpy()
    to_bad = booked.get_column("months_to_bad").cast(pl.Float64).fill_null(math.inf).to_numpy()
    bad_in_horizon = to_bad <= horizon_months
    matured = (mob >= horizon_months) | bad_in_horizon
    y = bad_in_horizon[matured].astype(np.float64)
    pd = booked.get_column("pd").cast(pl.Float64).to_numpy()[matured]
    both = 0 < y.sum() < y.size
    return MaturedPerformance(
        horizon_months=horizon_months,
        n=int(y.size),
        n_bad=int(y.sum()),
        auc=auc(y, pd) if both else None,
        ks=ks(y, pd) if both else None,
        development_auc=None if reference is None else reference.auc,
        development_ks=None if reference is None else reference.ks,
    )
