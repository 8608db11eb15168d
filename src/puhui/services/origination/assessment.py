"""The real assessor: governed setup → stored or online features → model → strategy → evidence.

One application's assessment, in order:

1. ask :class:`LiveDecisioning` what decides now (the active strategy version, a challenger if
   one runs, the registry's champion model); with none, the application is referred;
2. read the enterprise's features and strategy inputs from the feature store by key, or, when
   the row is missing or stale, compute them online from the pulled data with the same
   definitions (and record which);
3. compute the application's own features (term, amount against sales, channel, earlier
   applications) in plain Python, equal to the batch definition;
4. score once; route by a hash of the enterprise to the champion or the challenger; the arm
   not chosen decides in shadow;
5. return the assessment with its evidence, which origination stores for replay.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from puhui.decision.champion import bucket
from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import Decision, ModelResult
from puhui.decision.outcome import Outcome as DecisionOutcome
from puhui.domain.errors import PuhuiError
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.decision_record import CHALLENGER, CHAMPION, DecisionEvidence
from puhui.domain.origination.reasons import CATALOG as ORIGINATION_REASONS
from puhui.graph.online import GRAPH_INPUTS
from puhui.market import schema as market_schema
from puhui.risk.application_online import EarlierRecord, application_features_online
from puhui.risk.clusters import main_core_buyer
from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    feature_set_version,
    month_start,
    one_enterprise_inputs,
)
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    CORE_ENTERPRISES,
    FEATURE_TABLES,
    MarketTables,
    compute_features,
)
from puhui.risk.need import NeedModel
from puhui.services.features import FeatureStore, staleness
from puhui.services.origination.channel_inputs import (
    GUARANTEE_COVERAGE,
    PARTNER_SCORE,
    channel_inputs,
)
from puhui.services.origination.governance import (
    LiveChallenger,
    LiveModel,
    LiveStrategy,
    SetupSource,
)
from puhui.services.origination.green_input import GREEN_INPUTS, GreenLabels, green_inputs
from puhui.services.origination.need_estimate import NEED_INPUT, estimate_need
from puhui.services.origination.ports import (
    AssessmentRequest,
    GuaranteeCoverage,
    IndustryProsperity,
)
from puhui.services.origination.prosperity_input import INDUSTRY_PROSPERITY, prosperity_inputs
from puhui.services.strategies import ChallengerMode, InputSchema

logger = logging.getLogger(__name__)

TABLES_KEY = "tables"
"""Where a data source puts the rows it pulled (by market table name) in each scope's mapping."""

_APPLICATION_FEATURES = frozenset(APPLICATION_FEATURE_NAMES)

NO_DATA = "RF01_NO_ENTERPRISE_DATA"
"""Referral reason when the sources know nothing of the enterprise (a person must look)."""
NOT_GOVERNED = "RF02_NO_APPROVED_SETUP"
"""Referral reason when no active strategy version or no champion model can be loaded."""

_OWN_REASONS: dict[str, tuple[str, str]] = {
    NO_DATA: (
        "数据源中未找到企业信息，转人工审批",
        "no data on the enterprise; referred to an approver",
    ),
    NOT_GOVERNED: (
        "暂无已批准的生效策略或冠军模型，转人工审批",
        "no approved active strategy or champion model; referred to an approver",
    ),
}

APPLICATION_INPUTS = ("requested_amount_fen", "requested_term_months")
"""Strategy inputs taken from the application itself."""
SCREENING_INPUTS = ("blacklisted", "industry_restricted")
"""Strategy inputs the assessor sets (lists are screened by origination's anti-fraud layer)."""
CLUSTER_INPUTS = ("industry_code", "region_code", "park", "core_enterprise")
"""The applicant's clusters from its pull (GB/T 4754 division, GB/T 2260 region, industrial
park from the registration; the core buyer it invoiced most in 12 months from the invoices),
read by a strategy's per-cluster limit multipliers (a concentration breach proposes them, see
docs/monitoring.md)."""
VELOCITY_INPUTS = ("applications_30d",)
"""Strategy inputs counted from the lender's own applications (and the graph's, if newer)."""
KNOWN_UNFED_INPUTS = (
    NEED_INPUT,
    "concentration_headroom_fen",
    "abnormal_operation_listed",
)
"""Inputs the shipped strategy names that no source always feeds: left missing ("no
evidence") when absent. ``need_estimate_fen`` is fed when a need model is configured, so a
strategy may still read it only as optional."""
GUARANTEE_INPUTS = (GUARANTEE_COVERAGE,)
"""The coverage share (0-1) of a guarantee agency's batch agreement for the application's
channel (``GuaranteeService.coverage_for_channel``); missing when none (docs/guarantees.md)."""
PROSPERITY_INPUTS = (INDUSTRY_PROSPERITY,)
"""The latest composite prosperity index of the applicant's industry group (0-100, 50
neutral; docs/prosperity.md) when an index is configured; missing otherwise or suppressed."""
PREAPPROVAL_ONLY_INPUTS = ("settlement_monthly_inflow_fen",)
"""Inputs only the pre-approval batch feeds (``pipelines.preapproval``): missing online."""

INPUT_SCHEMA = InputSchema(
    fed=frozenset(
        (
            *STRATEGY_INPUT_NAMES,
            *APPLICATION_INPUTS,
            *SCREENING_INPUTS,
            *CLUSTER_INPUTS,
            *GRAPH_INPUTS,
            *VELOCITY_INPUTS,
            *GUARANTEE_INPUTS,
            *PROSPERITY_INPUTS,
            *GREEN_INPUTS,
            PARTNER_SCORE,
        )
    ),
    known_unfed=frozenset((*KNOWN_UNFED_INPUTS, *PREAPPROVAL_ONLY_INPUTS)),
)
"""What a strategy version may read to be activated or run as a challenger on this platform."""


def pulled_frames(data: Mapping[DataScope, Mapping[str, Any]]) -> dict[str, pl.DataFrame]:
    """The rows pulled, by market table name; a table not pulled is empty (with its schema)."""
    frames: dict[str, pl.DataFrame] = {}
    for scope_data in data.values():
        for name, frame in scope_data.get(TABLES_KEY, {}).items():
            frames[name] = frame if isinstance(frame, pl.DataFrame) else frame.collect()
    for name in FEATURE_TABLES:
        if name not in frames:
            frames[name] = pl.DataFrame(schema=market_schema.TABLES[name].polars_schema())
    return frames


def applicant_clusters(
    data: Mapping[DataScope, Mapping[str, Any]], uscc: str, as_of: date
) -> dict[str, Any]:
    """The applicant's clusters from the rows pulled (missing where nothing was pulled)."""
    found: dict[str, Any] = dict.fromkeys(CLUSTER_INPUTS)
    tables: dict[str, pl.DataFrame] = {}
    for name in ("enterprises", "invoices", CORE_ENTERPRISES):
        for scope_data in data.values():
            frame = scope_data.get(TABLES_KEY, {}).get(name)
            if frame is not None:
                tables[name] = frame if isinstance(frame, pl.DataFrame) else frame.collect()
    registration = tables["enterprises"].head(1) if "enterprises" in tables else None
    if registration is not None and registration.height:
        row = registration.row(0, named=True)
        found.update({name: row.get(name) for name in ("industry_code", "region_code", "park")})
    invoices, core = tables.get("invoices"), tables.get(CORE_ENTERPRISES)
    if invoices is not None and core is not None:
        found["core_enterprise"] = main_core_buyer(invoices, core, uscc, as_of)
    return found


def tables_from_pull(data: Mapping[DataScope, Mapping[str, Any]]) -> MarketTables:
    """The pulled rows as the feature code's tables."""
    return MarketTables({name: frame.lazy() for name, frame in pulled_frames(data).items()})


def data_reference(data: Mapping[DataScope, Mapping[str, Any]], as_of: date) -> dict[str, Any]:
    """What was pulled, without the rows: scopes, as-of date and rows per table."""
    rows: dict[str, int] = {}
    for scope_data in data.values():
        for name, frame in scope_data.get(TABLES_KEY, {}).items():
            if isinstance(frame, pl.DataFrame):
                rows[name] = frame.height
    return {
        "as_of": as_of.isoformat(),
        "scopes": sorted(scope.value for scope in data),
        "rows": dict(sorted(rows.items())),
    }


def _jsonable(value: Any) -> Any:
    """A feature value as stored: NaN and infinities become missing (as the scorer reads them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True, slots=True)
class FixedScore:
    """The engine's ``Scorer`` port answering with a model result computed once beforehand."""

    result: ModelResult

    def score(self, features: Mapping[str, Any]) -> ModelResult:
        return self.result


def model_result(model: LiveModel, features: Mapping[str, Any]) -> ModelResult:
    """Score the applicant's features with the champion model."""
    scored = model.scorer.assess(features)
    return ModelResult(
        pd=scored.pd,
        score=scored.score,
        reasons=tuple(r.code for r in scored.reasons),
        model_versions={model.name: model.version},
        reason_texts={r.code: (r.text_zh, r.text_en) for r in scored.reasons},
    )


_OUTCOMES = {
    DecisionOutcome.APPROVE: Outcome.APPROVE,
    DecisionOutcome.DECLINE: Outcome.DECLINE,
    DecisionOutcome.REFER: Outcome.REFER,
}


def referral(code: str, evidence: DecisionEvidence | None = None) -> Assessment:
    return Assessment(
        outcome=Outcome.REFER,
        reasons=(code,),
        trace={"reason_texts": {code: list(_OWN_REASONS[code])}},
        evidence=evidence,
    )


@dataclass(frozen=True, slots=True)
class EnterpriseValues:
    features: dict[str, Any]
    inputs: dict[str, Any]
    source: str
    lineage: dict[str, Any]


@dataclass
class StrategyAssessor:
    """Implements origination's ``Assessor`` with governed versions and the feature store."""

    live: SetupSource
    licence_type: str = "bank"
    feature_store: FeatureStore | None = None
    max_feature_age_days: int = 45
    """A stored row computed longer ago than this is recomputed online (sources revise data)."""
    default_amount_fen: int = 30_000_000
    """Assumed request when the applicant names no amount: RMB 300,000."""
    need_model: NeedModel | None = None
    """Feeds ``need_estimate_fen`` (the need model's point estimate); none: left missing."""
    guarantees: GuaranteeCoverage | None = None
    """Feeds ``guarantee_coverage`` from the application's channel; none: left missing."""
    prosperity: IndustryProsperity | None = None
    """Feeds ``industry_prosperity_index`` from the applicant's industry; none: left missing."""
    green: GreenLabels | None = None
    """Feeds ``green_label`` and ``green_category`` from the green screen; none: left missing."""

    def warm_up(self) -> None:
        """Load what decides now (the active strategy, the champion model and its compiled
        kernel) before the first applicant, who would otherwise wait seconds for it.

        Only an optimisation: whatever stops it (no active version yet, a database not yet
        migrated) is logged, and the first application meets the same cause and reports it.
        """
        try:
            self.live.current()
        except PuhuiError as exc:
            logger.warning("decisioning not warmed up: %s", exc.message)
        except Exception as exc:  # an optimisation only: logged, and met again on use
            logger.warning("decisioning not warmed up: %s: %s", type(exc).__name__, exc)

    def enterprise_values(self, request: AssessmentRequest) -> EnterpriseValues:
        """The enterprise's features and strategy inputs: stored, or computed online.

        Raises ``InvalidTrainingData`` when the sources know nothing of the enterprise.
        """
        month = month_start(request.as_of)
        reason = "no_feature_store"
        if self.feature_store is not None:
            stored = self.feature_store.get(request.uscc, month)
            if stored is None:
                reason = "missing"
            else:
                stale = staleness(stored, request.as_of, self.max_feature_age_days)
                if stale is None:
                    return EnterpriseValues(
                        features=dict(stored.features),
                        inputs=dict(stored.inputs),
                        source="store",
                        lineage={
                            "month": stored.month.isoformat(),
                            "source_month": stored.source_month.isoformat(),
                            "feature_set_version": stored.feature_set_version,
                            "computed_at": stored.computed_at.isoformat(),
                        },
                    )
                reason = stale
        frames = pulled_frames(request.data)
        tables = MarketTables({name: frame.lazy() for name, frame in frames.items()})
        frame = compute_features(tables, month)
        if frame.height == 0:
            raise InvalidTrainingData(f"no data on enterprise {request.uscc}")
        features = frame.row(0, named=True)
        features.pop("uscc")
        inputs = one_enterprise_inputs(frames, features, request.uscc, month)
        logger.info("features of %s computed online (%s)", request.uscc, reason)
        return EnterpriseValues(
            features=features,
            inputs=inputs,
            source="online",
            lineage={
                "month": month.isoformat(),
                "feature_set_version": feature_set_version(),
                "reason": reason,
            },
        )

    def application_features(
        self, request: AssessmentRequest, enterprise: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the application itself says, by the risk module's definition (online twin)."""
        return application_features_online(
            application_date=request.as_of,
            month=month_start(request.as_of),
            channel=request.channel,
            requested_amount_fen=request.requested_amount_fen,
            requested_term_months=request.requested_term_months,
            sales_12m_log=enterprise.get("sales_12m_log"),
            earlier=[
                EarlierRecord(e.application_date, month_start(e.application_date))
                for e in request.earlier_applications
            ],
        )

    def strategy_inputs(
        self, request: AssessmentRequest, enterprise_inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        graph = dict(request.graph_inputs or {})
        # This application and the enterprise's others of the last 30 days to this lender;
        # the graph's count (the whole market's, as of its month) when it is higher.
        own = 1 + sum(
            1
            for e in request.earlier_applications
            if (request.as_of - e.application_date).days < 30
        )
        applications_30d = max(own, graph.pop("applications_30d", None) or 0)
        clusters = applicant_clusters(request.data, request.uscc, request.as_of)
        return {
            **enterprise_inputs,
            **clusters,
            **prosperity_inputs(clusters, self.prosperity, request.as_of),
            **green_inputs(request.uscc, self.green, request.as_of),
            **graph,
            "applications_30d": applications_30d,
            "requested_amount_fen": request.requested_amount_fen or self.default_amount_fen,
            "requested_term_months": request.requested_term_months,
            "blacklisted": False,
            "industry_restricted": False,
            **channel_inputs(request, self.guarantees),
        }

    def assess(self, request: AssessmentRequest) -> Assessment:
        setup = self.live.current()
        champion, model = setup.champion, setup.model
        if champion is None or model is None:
            return referral(NOT_GOVERNED)
        try:
            values = self.enterprise_values(request)
        except InvalidTrainingData:
            # Stored too: the versions in force and the pull that found nothing.
            return referral(NO_DATA, self._no_data_evidence(request, champion))
        features = values.features
        if not _APPLICATION_FEATURES.isdisjoint(model.scorer.feature_names):
            features = features | self.application_features(request, features)
        inputs = self.strategy_inputs(request, values.inputs)
        need = estimate_need(
            self.need_model,
            tables_from_pull(request.data),
            request.uscc,
            month_start(request.as_of),
        )
        if need.value is not None:
            inputs[NEED_INPUT] = need.value
        result = model_result(model, features)
        arm, acting, shadow_strategy, experiment, slot = route(
            champion, setup.challenger, request.uscc
        )
        decision = acting.decide(
            inputs,
            FixedScore(result),
            as_of=request.as_of,
            licence_type=self.licence_type,
            trace=True,
        )
        shadow: dict[str, Any] = {}
        if shadow_strategy is not None:
            other = shadow_strategy.decide(
                inputs,
                FixedScore(result),
                as_of=request.as_of,
                licence_type=self.licence_type,
            )
            shadow = {
                "arm": CHAMPION if arm == CHALLENGER else CHALLENGER,
                **other.to_dict(with_trace=False),
            }
        label = acting.document
        evidence = DecisionEvidence(
            as_of=request.as_of,
            licence_type=self.licence_type,
            strategy_name=label.name,
            strategy_version=label.version,
            strategy_hash=acting.content_hash,
            model_name=model.name,
            model_version=model.version,
            arm=arm,
            inputs={k: _jsonable(v) for k, v in inputs.items()},
            features={k: _jsonable(v) for k, v in features.items()},
            feature_source=values.source,
            feature_lineage=values.lineage,
            data_reference=data_reference(request.data, request.as_of),
            experiment=experiment,
            bucket=slot,
            shadow=shadow,
            model_pd=result.pd,
            model_score=result.score,
        )
        assessment = to_assessment(decision, acting, result, evidence)
        return replace(assessment, trace={**assessment.trace, "need": need.trace})

    def _no_data_evidence(
        self, request: AssessmentRequest, champion: LiveStrategy
    ) -> DecisionEvidence:
        return DecisionEvidence(
            as_of=request.as_of,
            licence_type=self.licence_type,
            strategy_name=champion.name,
            strategy_version=champion.version,
            strategy_hash=champion.content_hash,
            model_name=None,
            model_version=None,
            arm=CHAMPION,
            inputs={},
            features={},
            feature_source="online",
            feature_lineage={"reason": NO_DATA},
            data_reference=data_reference(request.data, request.as_of),
        )


def route(
    champion: LiveStrategy, challenger: LiveChallenger | None, uscc: str
) -> tuple[str, CompiledStrategy, CompiledStrategy | None, str | None, int | None]:
    """(arm, acting strategy, shadow strategy, experiment salt, bucket) for one enterprise.

    The enterprise, not the application, is hashed: a re-application meets the same arm.
    """
    if challenger is None:
        return CHAMPION, champion.compiled, None, None, None
    slot = bucket(uscc, challenger.salt)
    if challenger.mode is ChallengerMode.LIVE and slot < challenger.share_bp:
        return CHALLENGER, challenger.strategy.compiled, champion.compiled, challenger.salt, slot
    return CHAMPION, champion.compiled, challenger.strategy.compiled, challenger.salt, slot


def _reason_texts(
    decision: Decision, strategy: CompiledStrategy, model: ModelResult
) -> dict[str, list[str]]:
    zh = strategy.explain(decision, "zh", model)
    en = strategy.explain(decision, "en", model)
    texts = {code: [z, e] for code, z, e in zip(decision.reasons, zh, en, strict=True)}
    for code, reason in ORIGINATION_REASONS.items():
        if code in texts:
            texts[code] = [reason.zh, reason.en]
    return texts


def to_assessment(
    decision: Decision,
    strategy: CompiledStrategy,
    model: ModelResult,
    evidence: DecisionEvidence | None = None,
) -> Assessment:
    """Map the engine's decision to origination's assessment (money in fen, rates as Decimal)."""
    outcome = _OUTCOMES[decision.outcome]
    offered = outcome is not Outcome.DECLINE and decision.limit_fen > 0
    trace: dict[str, Any] = {
        "strategy": decision.strategy_version,
        "models": dict(decision.model_versions),
        "reason_texts": _reason_texts(decision, strategy, model),
    }
    if decision.trace:
        trace["steps"] = [step.to_dict() for step in decision.trace]
    complete = offered and decision.annual_rate is not None and decision.term_months is not None
    if outcome is Outcome.APPROVE and not complete:
        # An approval without a price or term cannot become an offer: a person decides.
        outcome, complete = Outcome.REFER, False
    return Assessment(
        outcome=outcome,
        reasons=tuple(decision.reasons),
        limit_fen=decision.limit_fen if complete else None,
        annual_rate=Decimal(decision.annual_rate) if complete and decision.annual_rate else None,
        term_months=decision.term_months if complete else None,
        grade=decision.grade,
        pd=None if decision.pd is None else Decimal(repr(min(max(decision.pd, 0.0), 1.0))),
        score=None if decision.score is None else round(decision.score),
        trace=trace,
        evidence=evidence,
    )


__all__ = [
    "INPUT_SCHEMA",
    "NOT_GOVERNED",
    "NO_DATA",
    "TABLES_KEY",
    "StrategyAssessor",
    "data_reference",
    "pulled_frames",
    "tables_from_pull",
    "to_assessment",
]
