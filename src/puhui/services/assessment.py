"""The real assessor: pulled data → risk features → online model → strategy → an assessment."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import Decision, ModelResult
from puhui.decision.outcome import Outcome as DecisionOutcome
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.reasons import CATALOG as ORIGINATION_REASONS
from puhui.market import schema as market_schema
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_SCHEMA,
    FEATURE_TABLES,
    MarketTables,
    compute_features,
    one_application_features,
)
from puhui.risk.scorer import OnlineScorer
from puhui.services.origination.ports import AssessmentRequest

logger = logging.getLogger(__name__)

TABLES_KEY = "tables"
"""Where a data source puts the rows it pulled (by market table name) in each scope's mapping."""

_APPLICATION_FEATURES = frozenset(APPLICATION_FEATURE_NAMES)
MODEL_NAME = "mse_pd"
"""The model the shipped strategy names in ``models:``."""

NO_DATA = "RF01_NO_ENTERPRISE_DATA"
"""Referral reason when the sources know nothing of the enterprise (a person must look)."""

_OWN_REASONS: dict[str, tuple[str, str]] = {
    NO_DATA: (
        "数据源中未找到企业信息，转人工审批",
        "no data on the enterprise; referred to an approver",
    ),
}


def _month_start(day: date) -> date:
    return date(day.year, day.month, 1)


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


def tables_from_pull(data: Mapping[DataScope, Mapping[str, Any]]) -> MarketTables:
    """The pulled rows as the feature code's tables."""
    return MarketTables({name: frame.lazy() for name, frame in pulled_frames(data).items()})


def _avg_last_12(frame: pl.DataFrame, column: str, cutoff: date) -> int | None:
    """Average monthly amount of the 12 complete months before ``cutoff`` (None if none)."""
    recent = frame.filter(pl.col("month") < cutoff).sort("month").tail(12)
    if recent.height == 0:
        return None
    return int(recent.get_column(column).sum()) // 12


def strategy_inputs(
    request: AssessmentRequest,
    features: Mapping[str, Any],
    frames: Mapping[str, pl.DataFrame],
    *,
    default_amount_fen: int,
) -> dict[str, Any]:
    """What the strategy reads, derived from the same pulled data as the risk features.

    Inputs the sources cannot tell (need estimate, concentration headroom, contact sharing
    across applicants) are left missing: origination's anti-fraud layer covers sharing, and
    the strategy treats a missing value as "no evidence".
    """
    cutoff = _month_start(request.as_of)
    tax = frames["tax_monthly"].sort("month")
    bureau = frames["bureau"].sort("month")
    court = frames["court_cases"]
    last24 = bureau.filter(pl.col("month") >= date(cutoff.year - 2, cutoff.month, 1))
    sales = tax.get_column("declared_sales_fen").to_list()
    growth = None
    if len(sales) >= 24 and sum(sales[-24:-12]) > 0:
        growth = sum(sales[-12:]) / sum(sales[-24:-12]) - 1.0
    age_months = features.get("enterprise_age_months")
    expected_filings = min(12, int(age_months)) if age_months is not None else 12
    recent_filings = tax.filter(pl.col("month") >= date(cutoff.year - 1, cutoff.month, 1)).height
    filed = court.filter((pl.col("event") == "filed") & (pl.col("role") == "defendant"))
    closed = court.filter(pl.col("event") == "closed")
    open_cases = filed.filter(~pl.col("case_id").is_in(closed.get_column("case_id"))).height
    owner_age = features.get("owner_age_years")
    return {
        "requested_amount_fen": request.requested_amount_fen or default_amount_fen,
        "verified_monthly_sales_fen": _avg_last_12(tax, "declared_sales_fen", cutoff),
        "verified_monthly_tax_fen": _avg_last_12(tax, "vat_payable_fen", cutoff)
        if "vat_payable_fen" in tax.columns
        else None,
        "enterprise_age_months": None if age_months is None else int(age_months),
        "owner_age_years": None if owner_age is None else int(owner_age),
        "tax_grade": features.get("tax_grade"),
        "tax_filing_gap_months": max(0, expected_filings - recent_filings),
        "sales_growth_12m": growth,
        "overdue_count_24m": int((last24.get_column("overdue_loans") > 0).sum())
        if last24.height
        else None,
        "current_overdue_count": int(bureau.get_column("overdue_loans")[-1])
        if bureau.height
        else None,
        "court_cases_open": open_cases,
        "blacklisted": False,
        "industry_restricted": False,
    }


@dataclass(frozen=True)
class RiskScorerAdapter:
    """The decision engine's ``Scorer`` over a risk online scorer, bound to one applicant.

    The strategy's environment holds strategy inputs, not model features, so the adapter
    carries the applicant's risk features and scores those.
    """

    scorer: OnlineScorer
    features: Mapping[str, Any]
    model_version: str

    def score(self, features: Mapping[str, Any]) -> ModelResult:
        result = self.scorer.assess(self.features)
        return ModelResult(
            pd=result.pd,
            score=result.score,
            reasons=tuple(r.code for r in result.reasons),
            model_versions={MODEL_NAME: self.model_version},
            reason_texts={r.code: (r.text_zh, r.text_en) for r in result.reasons},
        )


_OUTCOMES = {
    DecisionOutcome.APPROVE: Outcome.APPROVE,
    DecisionOutcome.DECLINE: Outcome.DECLINE,
    DecisionOutcome.REFER: Outcome.REFER,
}


@dataclass
class StrategyAssessor:
    """Implements origination's ``Assessor`` with the risk model and a decision strategy."""

    strategy: CompiledStrategy
    scorer: OnlineScorer
    model_version: str
    licence_type: str = "bank"
    default_amount_fen: int = 30_000_000
    """Assumed request when the applicant names no amount: RMB 300,000."""
    with_trace: bool = False
    feature_cache: dict[tuple[str, date], Mapping[str, Any]] = field(default_factory=dict)
    """Features computed in batch beforehand (same definitions), by (uscc, month)."""

    def prefetch(self, tables: MarketTables, usccs: list[str], month: date) -> int:
        """Compute the features of many applicants of one month in one batch (same code).

        ``compute_features`` is the single definition of the features for batch and online
        use, so a cached row equals what the pulled data would give; it only saves the
        per-applicant query planning. Returns how many rows were cached.
        """
        if not usccs:
            return 0
        frame = compute_features(tables.for_enterprises(usccs), month)
        for row in frame.iter_rows(named=True):
            uscc = row.pop("uscc")
            self.feature_cache[(uscc, month)] = row
        return frame.height

    def features_for(
        self, request: AssessmentRequest, frames: Mapping[str, pl.DataFrame]
    ) -> dict[str, Any]:
        month = _month_start(request.as_of)
        cached = self.feature_cache.get((request.uscc, month))
        if cached is not None:
            return dict(cached)
        tables = MarketTables({name: frame.lazy() for name, frame in frames.items()})
        frame = compute_features(tables, month)
        if frame.height == 0:
            raise InvalidTrainingData(f"no data on enterprise {request.uscc}")
        row = frame.row(0, named=True)
        row.pop("uscc")
        return row

    def application_features(
        self, request: AssessmentRequest, enterprise: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the application itself says (term, amount against sales, channel, earlier
        applications): the risk module's one definition, on this application and the
        lender's own records of the enterprise's earlier ones."""
        month = _month_start(request.as_of)
        application = {
            "application_id": request.application_id,
            "uscc": request.uscc,
            "month": month,
            "application_date": request.as_of,
            "channel": request.channel,
            "requested_amount_fen": request.requested_amount_fen,
            "requested_term_months": request.requested_term_months,
        }
        earlier = pl.DataFrame(
            [
                {
                    "application_id": f"{request.application_id}-earlier-{n}",
                    "uscc": request.uscc,
                    "month": _month_start(e.application_date),
                    "application_date": e.application_date,
                    "channel": e.channel,
                    "requested_amount_fen": e.requested_amount_fen,
                    "requested_term_months": e.requested_term_months,
                }
                for n, e in enumerate(request.earlier_applications)
            ],
            schema=APPLICATION_SCHEMA,
        )
        return one_application_features(application, earlier, enterprise)

    def assess(self, request: AssessmentRequest) -> Assessment:
        frames = pulled_frames(request.data)
        try:
            features = self.features_for(request, frames)
            # Computed only for a model that reads them (a few milliseconds of Polars).
            if not _APPLICATION_FEATURES.isdisjoint(self.scorer.feature_names):
                features |= self.application_features(request, features)
        except InvalidTrainingData:
            return Assessment(
                outcome=Outcome.REFER,
                reasons=(NO_DATA,),
                trace={"reason_texts": {NO_DATA: list(_OWN_REASONS[NO_DATA])}},
            )
        inputs = strategy_inputs(
            request, features, frames, default_amount_fen=self.default_amount_fen
        )
        adapter = RiskScorerAdapter(self.scorer, features, self.model_version)
        decision = self.strategy.decide(
            inputs,
            adapter,
            as_of=request.as_of,
            licence_type=self.licence_type,
            trace=self.with_trace,
        )
        return to_assessment(decision, self.strategy, adapter.score({}))


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


def to_assessment(decision: Decision, strategy: CompiledStrategy, model: ModelResult) -> Assessment:
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
    )
