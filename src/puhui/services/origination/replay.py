"""Show and replay stored decisions: the same inputs, versions and code must give the same answer.

A replay reads the stored record of an application, loads the strategy version and the model
version that decided it, and recomputes the model result, the decision, the anti-fraud policy
and the shadow arm from the stored inputs alone. Any difference is named, first one first, so
an auditor sees at once whether the data, the model or the rules moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from puhui.decision.engine import CompiledStrategy
from puhui.decision.strategy import load_strategy
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.origination import fraud
from puhui.domain.origination.assessment import Assessment
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.reasons import CATALOG
from puhui.risk.features import FEATURE_LABELS
from puhui.risk.scorer import scorer_for
from puhui.services.origination.assessment import (
    NO_DATA,
    FixedScore,
    model_result,
    referral,
    to_assessment,
)
from puhui.services.origination.governance import LiveModel, ModelSource
from puhui.services.origination.ports import OriginationUnitOfWork
from puhui.services.strategies import StrategyVersion


class DecisionNotRecorded(NotFound):
    """The application exists but no decision inputs were stored for it."""

    code = "decision_not_recorded"


@dataclass(frozen=True, slots=True)
class Difference:
    field: str
    stored: Any
    replayed: Any

    def describe(self) -> str:
        return f"{self.field}: stored {self.stored!r}, replayed {self.replayed!r}"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    record: DecisionRecord
    replayed: dict[str, Any]
    differences: tuple[Difference, ...]

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def first_difference(self) -> Difference | None:
        return self.differences[0] if self.differences else None


def stored_decision(
    reader: Callable[[], OriginationUnitOfWork], application_id: str
) -> DecisionRecord:
    """The stored record; says plainly why there is none."""
    with reader() as uow:
        record = uow.decisions.get(application_id)
        application = None if record is not None else uow.applications.get(application_id)
    if record is not None:
        return record
    if application is None:
        raise NotFound("no such application", details={"application_id": application_id})
    if application.assessment is None:
        raise DecisionNotRecorded(
            f"application {application_id} has not been assessed yet",
            details={"application_id": application_id, "status": application.status.value},
        )
    raise DecisionNotRecorded(
        f"application {application_id} was decided before decisions were stored: its inputs "
        "and versions were not kept, so it can be shown but not replayed",
        details={"application_id": application_id},
    )


def _summary(assessment: Assessment) -> dict[str, Any]:
    return {
        "outcome": assessment.outcome.value,
        "reasons": list(assessment.reasons),
        "grade": assessment.grade,
        "limit_fen": assessment.limit_fen,
        "annual_rate": None if assessment.annual_rate is None else str(assessment.annual_rate),
        "term_months": assessment.term_months,
        "pd": None if assessment.pd is None else str(assessment.pd),
        "score": assessment.score,
    }


def _stored_summary(record: DecisionRecord) -> dict[str, Any]:
    return {
        "outcome": record.outcome,
        "reasons": list(record.reasons),
        "grade": record.grade,
        "limit_fen": record.limit_fen,
        "annual_rate": record.annual_rate,
        "term_months": record.term_months,
        "pd": record.pd,
        "score": record.score,
    }


def replay_record(
    record: DecisionRecord,
    *,
    strategy: CompiledStrategy,
    model: LiveModel | None,
    shadow_strategy: CompiledStrategy | None = None,
) -> ReplayResult:
    """Recompute one stored decision with the given versions (pure: no storage)."""
    evidence = record.evidence
    differences: list[Difference] = []
    if strategy.content_hash != evidence.strategy_hash:
        differences.append(
            Difference("strategy_hash", evidence.strategy_hash, strategy.content_hash)
        )
    replayed: dict[str, Any]
    if evidence.feature_lineage.get("reason") == NO_DATA:
        assessment = referral(NO_DATA)
        replayed = {"model": None}
    else:
        if model is None:
            raise NotFound(f"the decision of {record.application_id} names no model")
        result = model_result(model, evidence.features)
        for name, stored_value, value in (
            ("model_pd", evidence.model_pd, result.pd),
            ("model_score", evidence.model_score, result.score),
        ):
            if stored_value != value:
                differences.append(Difference(name, stored_value, value))
        decision = strategy.decide(
            evidence.inputs,
            FixedScore(result),
            as_of=evidence.as_of,
            licence_type=evidence.licence_type,
            trace=True,
        )
        assessment = to_assessment(decision, strategy, result)
        replayed = {"model": {"pd": result.pd, "score": result.score}}
        if shadow_strategy is not None and evidence.shadow:
            shadow = shadow_strategy.decide(
                evidence.inputs,
                FixedScore(result),
                as_of=evidence.as_of,
                licence_type=evidence.licence_type,
            ).to_dict(with_trace=False)
            replayed["shadow"] = shadow
            for key in ("outcome", "limit_fen", "annual_rate", "term_months", "reasons"):
                if evidence.shadow.get(key) != shadow.get(key):
                    differences.append(
                        Difference(f"shadow.{key}", evidence.shadow.get(key), shadow.get(key))
                    )
    hits = tuple(CATALOG[code] for code in record.fraud_hits if code in CATALOG)
    final = _summary(fraud.apply_policy(assessment, hits))
    stored = _stored_summary(record)
    for key, value in final.items():
        if stored[key] != value:
            differences.append(Difference(key, stored[key], value))
    replayed["decision"] = final
    order = ("strategy_hash", "model_pd", "model_score", *final, "shadow.")
    differences.sort(key=lambda d: next(i for i, p in enumerate(order) if d.field.startswith(p)))
    return ReplayResult(record, replayed, tuple(differences))


def replay_decision(
    reader: Callable[[], OriginationUnitOfWork],
    *,
    load_version: Callable[[str, int], StrategyVersion],
    models: ModelSource,
    application_id: str,
) -> ReplayResult:
    """Replay an application's stored decision with the versions stored beside it."""
    record = stored_decision(reader, application_id)
    evidence = record.evidence
    stored = load_version(evidence.strategy_name, evidence.strategy_version)
    strategy = load_strategy(stored.label, text=stored.document)
    model = None
    if evidence.model_version is not None:
        artefact = models.load(evidence.model_version)
        model = LiveModel(
            name=evidence.model_name or "",
            version=evidence.model_version,
            kind=artefact.kind.value,
            scorer=scorer_for(artefact.model, FEATURE_LABELS),
        )
    shadow_strategy = None
    label = evidence.shadow.get("strategy_version")
    if isinstance(label, str) and "@" in label:
        name, _, version = label.rpartition("@")
        shadow_stored = load_version(name, int(version))
        shadow_strategy = load_strategy(shadow_stored.label, text=shadow_stored.document)
    return replay_record(record, strategy=strategy, model=model, shadow_strategy=shadow_strategy)


def stored_population(
    reader: Callable[[], OriginationUnitOfWork], first_day: date, last_day: date
) -> list[dict[str, Any]]:
    """Stored decisions in [first_day, last_day] as backtest rows: the inputs each decision
    read, its model's PD and score, and its as-of date and licence (a real population)."""
    if last_day < first_day:
        raise InvalidInput("the period ends before it starts")
    with reader() as uow:
        records = uow.decisions.between(first_day, last_day)
    rows = []
    for record in records:
        evidence = record.evidence
        if evidence.model_version is None:
            continue  # referred before any model ran (no enterprise data): nothing to score
        rows.append(
            {
                **evidence.inputs,
                "applicant_id": record.application_id,
                "pd": evidence.model_pd,
                "score": evidence.model_score,
                "model_version": f"{evidence.model_name}:{evidence.model_version}",
                "as_of": evidence.as_of,
                "licence_type": evidence.licence_type,
            }
        )
    return rows
