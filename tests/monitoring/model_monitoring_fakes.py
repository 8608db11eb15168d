"""Fakes of model monitoring: a decision history in memory and a reference profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

import numpy as np
import polars as pl

from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead, next_event
from puhui.risk.monitoring import ReferenceProfile
from puhui.risk.reference_profile import POINTS, numeric_variable

DEVELOPMENT_SCORE = np.random.default_rng(1).normal(600.0, 40.0, 5000)


def reference_profile(*, auc: float = 0.78) -> ReferenceProfile:
    x = np.random.default_rng(3).normal(0.0, 1.0, DEVELOPMENT_SCORE.size)
    return ReferenceProfile(
        model_kind="scorecard",
        weight_unit=POINTS,
        n_rows=DEVELOPMENT_SCORE.size,
        n_bad=250,
        mean_pd=0.05,
        auc=auc,
        ks=0.42,
        score=numeric_variable("score", DEVELOPMENT_SCORE),
        inputs=(numeric_variable("x", x, 5),),
    )


def scored_frame(score_mean: float, n: int, months: list[str], *, seed: int = 2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.normal(score_mean, 40.0, n)
    return pl.DataFrame(
        {
            "month": [date.fromisoformat(months[i % len(months)] + "-01") for i in range(n)],
            "score": score,
            "pd": 1.0 / (1.0 + np.exp((score - 500.0) / 28.85)),
            "outcome": np.where(score > 600, "approve", "decline"),
            "x": rng.normal(0.0, 1.0, n),
        }
    )


def booked_frame(n: int, *, bad_share: float) -> pl.DataFrame:
    """One matured vintage, mean PD 5%; the riskiest ``bad_share`` of it went bad (AUC 1)."""
    pd = np.linspace(0.01, 0.09, n)
    bad = np.arange(n) >= n - round(bad_share * n)
    return pl.DataFrame(
        {
            "booking_month": ["2024-06"] * n,
            "pd": pd,
            "months_on_book": np.full(n, 18),
            "bad": bad.astype(np.int64),
            "months_to_bad": [5 if b else None for b in bad],
        },
        schema_overrides={"months_to_bad": pl.Int64},
    )


@dataclass
class FakeDecisionHistory:
    scored: pl.DataFrame
    booked: pl.DataFrame
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def scored_applications(
        self, model_version: str, first_month: date, last_month: date
    ) -> pl.DataFrame:
        self.calls.append(("scored", model_version, first_month, last_month))
        return self.scored

    def booked_outcomes(self, model_version: str, as_of: date) -> pl.DataFrame:
        self.calls.append(("booked", model_version, as_of))
        return self.booked


@dataclass
class AuditStore:
    committed: list[tuple[AuditEvent, AuditRecord]] = field(default_factory=list)
    commits: int = 0


class _Audit:
    def __init__(self, pending: list[tuple[AuditEvent, AuditRecord]], seq: int) -> None:
        self.pending = pending
        self.seq = seq

    def append(self, record: AuditRecord) -> AuditEvent:
        self.seq += 1
        event = next_event(
            record,
            seq=self.seq,
            prev_hash="0" * 64,
            occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        self.pending.append((event, record))
        return event

    def events(self) -> Any:
        return iter(e for e, _ in self.pending)

    def seal_pending(self) -> int:
        return 0  # events are chained as they are appended

    def head(self) -> ChainHead | None:
        return None

    def count(self) -> int:
        return len(self.pending)


class FakeUnitOfWork:
    """Records audit events; only a commit makes them visible in the store."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self.pending: list[tuple[AuditEvent, AuditRecord]] = []
        self.audit = _Audit(self.pending, len(store.committed))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pending.clear()

    def commit(self) -> None:
        self.store.committed.extend(self.pending)
        self.store.commits += 1
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()

    def table_counts(self) -> dict[str, int]:
        return {}
