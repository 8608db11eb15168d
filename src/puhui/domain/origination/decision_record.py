"""The stored record of an automatic decision: what it read and which versions decided.

A lender must be able to explain a decision years later and show that the same inputs,
through the same strategy version and the same model version, give the same answer. The
record keeps exactly that: the strategy inputs and model features as the engine saw them,
where the features came from (the feature store or an online computation, with lineage), a
reference to the data pulled, the strategy and model versions, the champion/challenger arm,
the other arm's shadow decision, the anti-fraud hits, and the automatic assessment itself
(before any manual review changed it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from puhui.domain.errors import InvalidInput

CHAMPION = "champion"
CHALLENGER = "challenger"
FEATURE_SOURCES = ("store", "online")


@dataclass(frozen=True, slots=True)
class DecisionEvidence:
    """Everything the automatic decision depended on, in JSON-ready values."""

    as_of: date
    licence_type: str
    strategy_name: str
    strategy_version: int
    strategy_hash: str
    model_name: str | None
    model_version: str | None
    arm: str
    """``champion`` or ``challenger``: which strategy version decided."""
    inputs: Mapping[str, Any]
    """The strategy inputs as the engine received them."""
    features: Mapping[str, Any]
    """The model's feature values (enterprise and application features)."""
    feature_source: str
    """``store`` (read from the feature store) or ``online`` (computed for this decision)."""
    feature_lineage: Mapping[str, Any] = field(default_factory=dict)
    """Source data month, feature-set version and, for ``online``, why it was computed."""
    data_reference: Mapping[str, Any] = field(default_factory=dict)
    """The data pulled: scopes, as-of date and a digest of the rows per scope."""
    experiment: str | None = None
    """The experiment's salt when a challenger runs beside the champion."""
    bucket: int | None = None
    """The enterprise's hash bucket in [0, 10000) under that salt."""
    shadow: Mapping[str, Any] = field(default_factory=dict)
    """What the other arm would have decided (recorded, never acted on)."""
    model_pd: float | None = None
    model_score: float | None = None

    def __post_init__(self) -> None:
        if self.arm not in (CHAMPION, CHALLENGER):
            raise InvalidInput(f"a decision arm is champion or challenger, not {self.arm!r}")
        if self.feature_source not in FEATURE_SOURCES:
            raise InvalidInput(
                f"features come from the store or online, not {self.feature_source!r}"
            )
        if self.strategy_version < 1:
            raise InvalidInput("a strategy version is a positive integer")

    @property
    def strategy_label(self) -> str:
        return f"{self.strategy_name}@{self.strategy_version}"


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One application's automatic decision as stored: evidence plus the assessment made."""

    application_id: str
    decided_at: datetime
    evidence: DecisionEvidence
    outcome: str
    reasons: tuple[str, ...]
    grade: str | None
    limit_fen: int | None
    annual_rate: str | None
    term_months: int | None
    pd: str | None
    score: int | None
    fraud_hits: tuple[str, ...] = ()
    trace: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.decided_at.tzinfo is None:
            raise InvalidInput("a decision time is timezone-aware")


def record_to_document(record: DecisionRecord) -> dict[str, Any]:
    """The record as JSON-ready data (dates ISO, money integer fen, rates as strings)."""
    evidence = record.evidence
    return {
        "application_id": record.application_id,
        "decided_at": record.decided_at.isoformat(),
        "outcome": record.outcome,
        "reasons": list(record.reasons),
        "grade": record.grade,
        "limit_fen": record.limit_fen,
        "annual_rate": record.annual_rate,
        "term_months": record.term_months,
        "pd": record.pd,
        "score": record.score,
        "fraud_hits": list(record.fraud_hits),
        "trace": record.trace,
        "evidence": {
            "as_of": evidence.as_of.isoformat(),
            "licence_type": evidence.licence_type,
            "strategy_name": evidence.strategy_name,
            "strategy_version": evidence.strategy_version,
            "strategy_hash": evidence.strategy_hash,
            "model_name": evidence.model_name,
            "model_version": evidence.model_version,
            "arm": evidence.arm,
            "experiment": evidence.experiment,
            "bucket": evidence.bucket,
            "inputs": dict(evidence.inputs),
            "features": dict(evidence.features),
            "feature_source": evidence.feature_source,
            "feature_lineage": dict(evidence.feature_lineage),
            "data_reference": dict(evidence.data_reference),
            "shadow": dict(evidence.shadow),
            "model_pd": evidence.model_pd,
            "model_score": evidence.model_score,
        },
    }


def record_from_document(data: dict[str, Any]) -> DecisionRecord:
    evidence = data["evidence"]
    return DecisionRecord(
        application_id=data["application_id"],
        decided_at=datetime.fromisoformat(data["decided_at"]),
        outcome=data["outcome"],
        reasons=tuple(data["reasons"]),
        grade=data["grade"],
        limit_fen=data["limit_fen"],
        annual_rate=data["annual_rate"],
        term_months=data["term_months"],
        pd=data["pd"],
        score=data["score"],
        fraud_hits=tuple(data["fraud_hits"]),
        trace=data["trace"],
        evidence=DecisionEvidence(
            as_of=date.fromisoformat(evidence["as_of"]),
            licence_type=evidence["licence_type"],
            strategy_name=evidence["strategy_name"],
            strategy_version=evidence["strategy_version"],
            strategy_hash=evidence["strategy_hash"],
            model_name=evidence["model_name"],
            model_version=evidence["model_version"],
            arm=evidence["arm"],
            experiment=evidence["experiment"],
            bucket=evidence["bucket"],
            inputs=evidence["inputs"],
            features=evidence["features"],
            feature_source=evidence["feature_source"],
            feature_lineage=evidence["feature_lineage"],
            data_reference=evidence["data_reference"],
            shadow=evidence["shadow"],
            model_pd=evidence["model_pd"],
            model_score=evidence["model_score"],
        ),
    )
