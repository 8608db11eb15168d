"""An industry downturn tightens limits through the strategy lifecycle: a new version with a
``limit.adjustments`` rule on ``industry_prosperity_index`` goes draft -> four-eyes approval ->
activation and cuts the limit of the next application."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Platform
from puhui.bootstrap.wiring import strategy_input_schema
from puhui.decision.strategy import shipped_strategy_text
from puhui.domain.clock import FixedClock
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.risk.features import MarketTables, compute_features
from puhui.risk.registry import ModelStatus, RegistryEntry
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services import strategies
from puhui.services.origination.assessment import StrategyAssessor
from puhui.services.origination.governance import LiveDecisioning
from puhui.services.origination.ports import AssessmentRequest
from puhui.services.origination.prosperity_input import INDUSTRY_PROSPERITY

NAME = "mse-online-credit"
APRIL = date(2025, 4, 9)


class _Index:
    def __init__(self, value: float | None) -> None:
        self.value = value

    def latest_index(self, industry_code: str, on: date) -> float | None:
        return self.value


class _Scorer:
    feature_names = ("sales_12m_log",)

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=0.005, score=750.0, grade="A", reasons=())


class _Models:
    def stamp(self) -> object:
        return 0

    def champion(self, name: str) -> RegistryEntry:
        return RegistryEntry(
            version="m1",
            name=name,
            kind="gbm",
            status=ModelStatus.CHAMPION,
            builder="b",
            registered_at="2026-01-01",
            data_hash="h",
            metrics={},
        )

    def load(self, version: str) -> Any:
        return version


def _live(platform: Platform) -> LiveDecisioning:
    return LiveDecisioning(
        strategy_name=NAME,
        model_name="mse_pd",
        stamp=lambda name: strategies.live_stamp(platform.strategy_reader, name),
        load_version=lambda name, version: strategies.get_version(
            platform.strategy_reader, name, version
        ),
        models=_Models(),
        make_scorer=lambda artefact: _Scorer(),
    )


def downturn_version(version: int) -> str:
    """The shipped strategy with the downturn rule: 80% of the limit below an index of 40."""
    data = yaml.safe_load(shipped_strategy_text(NAME))
    data["version"] = version
    data["inputs"][INDUSTRY_PROSPERITY] = {
        "type": "number",
        "description": "Latest industry prosperity index (50 neutral)",
    }
    data["limit"]["adjustments"] = [
        {
            "id": "LA_DOWNTURN",
            "when": {INDUSTRY_PROSPERITY: "< 40"},
            "multiplier": "0.8",
            "reason": "INDUSTRY_DOWNTURN",
        }
    ]
    data["reasons"]["INDUSTRY_DOWNTURN"] = {
        "zh": "所属行业景气下行，额度按策略下调",
        "en": "The industry is in a downturn: the limit is reduced by the strategy",
        "adverse": False,
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _requests(market: Path) -> list[AssessmentRequest]:
    source = MarketDataSource(market)
    usccs = compute_features(MarketTables.from_dir(market), date(2025, 4, 1))["uscc"]
    return [
        AssessmentRequest(
            application_id=f"app_{k}",
            uscc=uscc,
            requested_amount_fen=80_000_000,
            as_of=APRIL,
            data={scope: source.pull(uscc, scope, as_of=APRIL) for scope in DataScope},
            fraud_hits=(),
        )
        for k, uscc in enumerate(usccs.head(30).to_list())
    ]


def test_an_activated_downturn_version_cuts_the_next_applications_limit(
    platform: Platform, clock: FixedClock, prosperity_market: Path
) -> None:
    platform.migrate()
    live = _live(platform)
    downturn = StrategyAssessor(live, prosperity=_Index(35.0))
    before: dict[str, Any] = {}
    for request in _requests(prosperity_market):
        result = downturn.assess(request)
        if result.outcome is Outcome.APPROVE and result.limit_fen >= 5_000_000:
            before = {"request": request, "limit": result.limit_fen}
            break
    else:
        pytest.fail("no applicant of the first 30 is approved by version 1")
    request = before["request"]
    uow = platform.strategy_uow
    strategies.create_draft(uow, text=downturn_version(2), actor="alice", clock=clock)
    strategies.submit(uow, NAME, 2, actor="alice", clock=clock)
    with pytest.raises(strategies.FourEyesViolation):
        strategies.approve(uow, NAME, 2, actor="alice", clock=clock)
    # Approved but not active: the next application still decides with version 1.
    strategies.approve(uow, NAME, 2, actor="bob", clock=clock)
    assert downturn.assess(request).limit_fen == before["limit"]
    strategies.activate(uow, NAME, 2, actor="bob", clock=clock, schema=strategy_input_schema())
    after = downturn.assess(request)
    assert after.outcome is Outcome.APPROVE
    assert after.limit_fen is not None
    assert after.limit_fen < before["limit"]
    assert after.limit_fen >= before["limit"] * 8 // 10 - 100_000  # 80%, rounded to the step
    assert after.reasons == ("INDUSTRY_DOWNTURN",)
    assert after.evidence is not None
    assert after.evidence.inputs[INDUSTRY_PROSPERITY] == 35.0
    assert after.evidence.strategy_version == 2
    # A missing index (no build, or a suppressed cell) and a calm one change nothing.
    for index in (None, 55.0):
        same = StrategyAssessor(live, prosperity=None if index is None else _Index(index))
        unchanged = same.assess(request)
        assert unchanged.limit_fen == before["limit"]
        assert unchanged.reasons == ()
