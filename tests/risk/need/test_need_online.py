"""Origination's ``need_estimate_fen``: filled from the need model, missing (and said) without."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.wiring import build_assessor
from puhui.decision.strategy import load_shipped_strategy
from puhui.domain.clock import FixedClock
from puhui.domain.origination.consent import DataScope
from puhui.risk.errors import ModelArtefactInvalid
from puhui.risk.features import LOAN_HISTORY, MarketTables
from puhui.risk.need import PRE_CONSENT_SOURCES, NeedModel, need_features
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services.origination.assessment import StrategyAssessor
from puhui.services.origination.governance import FixedSetup, LiveModel, LiveSetup, LiveStrategy
from puhui.services.origination.ports import AssessmentRequest

APPLIED_ON = date(2024, 10, 9)
"""The pull holds months before October: the need model scores as of September 2024."""


class _FixedPd:
    """The PD model's port answering one PD (the need input is what is under test)."""

    feature_names = ("sales_12m_log",)

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=0.01, score=700.0, grade="B", reasons=())


def _assessor(need_model: NeedModel | None) -> StrategyAssessor:
    compiled = load_shipped_strategy("mse-online-credit")
    strategy = LiveStrategy("mse-online-credit", 1, compiled.content_hash, compiled)
    setup = FixedSetup(LiveSetup(strategy, None, LiveModel("mse_pd", "m1", "gbm", _FixedPd())))
    return StrategyAssessor(setup, need_model=need_model)


def _request(market: Path, uscc: str) -> AssessmentRequest:
    source = MarketDataSource(market)
    return AssessmentRequest(
        application_id="app_need",
        uscc=uscc,
        requested_amount_fen=9_000_000_000,
        as_of=APPLIED_ON,
        data={scope: source.pull(uscc, scope, as_of=APPLIED_ON) for scope in DataScope},
        fraud_hits=(),
    )


def _enterprises(tables: MarketTables, count: int) -> list[str]:
    features = need_features(tables, date(2024, 9, 1))
    return features.filter(pl.col("kwh_12m_log").is_not_null())["uscc"].head(count).to_list()


def test_the_need_models_point_estimate_feeds_the_strategy(
    need_market: Path, need_tables: MarketTables, need_model: NeedModel
) -> None:
    limited = 0
    for uscc in _enterprises(need_tables, 4):
        assessment = _assessor(need_model).assess(_request(need_market, uscc))
        # The batch definition on the same sources (the bank's loan book is not in the pull).
        sources = PRE_CONSENT_SOURCES - {LOAN_HISTORY}
        batch = need_features(
            need_tables.for_enterprises([uscc]), date(2024, 9, 1), sources=sources
        )
        expected = need_model.score(batch, date(2024, 9, 1)).row(0, named=True)
        assert assessment.evidence is not None
        assert assessment.evidence.inputs["need_estimate_fen"] == expected["need_amount_fen"]
        need = assessment.trace["need"]
        assert need["model_id"] == need_model.model_id
        assert need["as_of"] == "2024-09-01"
        assert need["need_floor_fen"] == expected["need_floor_fen"]
        assert LOAN_HISTORY not in need["sources"]
        if assessment.limit_fen is not None:
            # The request is RMB 90 million: the strategy limits to the need instead.
            assert assessment.limit_fen <= expected["need_amount_fen"]
            limited += 1
    assert limited > 0


def test_without_a_need_model_the_input_stays_missing_and_the_trace_says_so(
    need_market: Path, need_tables: MarketTables
) -> None:
    (uscc,) = _enterprises(need_tables, 1)
    assessment = _assessor(None).assess(_request(need_market, uscc))
    assert assessment.evidence is not None
    assert "need_estimate_fen" not in assessment.evidence.inputs
    assert assessment.trace["need"] == {"model_id": None, "reason": "no need model configured"}


def test_the_platform_loads_the_configured_need_model(
    need_model: NeedModel, sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    need_model.save(tmp_path / "need")
    settings = Settings(
        database_url=sqlite_url,
        environment="test",
        need_model_dir=tmp_path / "need",
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = build_platform(settings, clock=clock)
    try:
        assessor = build_assessor(platform)
        assert assessor.need_model is not None
        assert assessor.need_model.model_id == need_model.model_id
        (tmp_path / "need" / "duration.txt").write_text("tampered")
        with pytest.raises(ModelArtefactInvalid, match="altered"):
            build_assessor(platform)  # a bad folder stops the start-up, with its reason
    finally:
        platform.close()
