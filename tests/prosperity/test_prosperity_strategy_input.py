"""The latest industry index reaches the strategy as ``industry_prosperity_index``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from puhui.adapters.sources.market import MarketDataSource
from puhui.decision.strategy import load_strategy, shipped_strategy_text
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.pipelines.prosperity.build import build_index, write_index
from puhui.pipelines.prosperity.serving import GROUP_OF_DIVISION, IndustryIndexFile
from puhui.risk.features import MarketTables, compute_features
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services.origination.assessment import INPUT_SCHEMA, StrategyAssessor
from puhui.services.origination.governance import FixedSetup, LiveModel, LiveSetup, LiveStrategy
from puhui.services.origination.ports import AssessmentRequest
from puhui.services.origination.prosperity_input import INDUSTRY_PROSPERITY

APRIL = date(2025, 4, 9)


def test_the_index_file_gives_the_latest_shown_month_of_the_applicants_industry(
    prosperity_market: Path, tmp_path: Path
) -> None:
    index = build_index(prosperity_market, min_cell=10)
    write_index(index, tmp_path)
    served = IndustryIndexFile(tmp_path)
    industry = index.indices.filter(
        (pl.col("dimension") == "industry") & (pl.col("component") == "composite")
    )
    april = industry.filter(pl.col("month") == date(2025, 4, 1))
    for row in april.iter_rows(named=True):
        division = next(d for d, g in GROUP_OF_DIVISION.items() if g == row["cell"])
        assert served.latest_index(division, APRIL) == row["index"]
    assert april.get_column("suppressed").any()  # accommodation: no index, not a number
    assert served.latest_index("C33", date(2023, 6, 1)) is None  # before the first month


class _Index:
    def __init__(self, value: float) -> None:
        self.value = value

    def latest_index(self, industry_code: str, on: date) -> float | None:
        return self.value


class _Scorer:
    feature_names = ("sales_12m_log",)

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=0.005, score=750.0, grade="A", reasons=())


def _downturn_strategy() -> FixedSetup:
    data = yaml.safe_load(shipped_strategy_text("mse-online-credit"))
    data["version"] = 2
    data["inputs"][INDUSTRY_PROSPERITY] = {"type": "number"}
    data["referrals"]["rules"].append(
        {"id": "RF_DOWNTURN", "when": {INDUSTRY_PROSPERITY: "< 40"}, "reason": "DOWNTURN"}
    )
    data["reasons"]["DOWNTURN"] = {"zh": "所属行业景气下行", "en": "The industry is in a downturn"}
    compiled = load_strategy("v2", text=yaml.safe_dump(data, allow_unicode=True))
    live = LiveStrategy("mse-online-credit", 2, compiled.content_hash, compiled)
    return FixedSetup(LiveSetup(live, None, LiveModel("mse_pd", "m1", "gbm", _Scorer())))


def test_a_strategy_version_refers_applicants_of_an_industry_in_downturn(
    prosperity_market: Path,
) -> None:
    assert INDUSTRY_PROSPERITY in INPUT_SCHEMA.fed
    source = MarketDataSource(prosperity_market)
    usccs = compute_features(MarketTables.from_dir(prosperity_market), date(2025, 4, 1))["uscc"]
    setup = _downturn_strategy()
    for uscc in usccs.head(40).to_list():
        request = AssessmentRequest(
            application_id="app_now",
            uscc=uscc,
            requested_amount_fen=5_000_000,
            as_of=APRIL,
            data={scope: source.pull(uscc, scope, as_of=APRIL) for scope in DataScope},
            fraud_hits=(),
        )
        good = StrategyAssessor(setup, prosperity=_Index(60.0)).assess(request)
        if good.outcome is Outcome.APPROVE:
            break
    else:
        raise AssertionError("no applicant of the first 40 is approved in good times")
    bad = StrategyAssessor(setup, prosperity=_Index(35.0)).assess(request)
    assert bad.outcome is Outcome.REFER
    assert "DOWNTURN" in bad.reasons
    assert bad.evidence is not None
    assert bad.evidence.inputs[INDUSTRY_PROSPERITY] == 35.0
    missing = StrategyAssessor(setup).assess(request)
    assert missing.outcome is Outcome.APPROVE
    assert missing.evidence is not None
    assert INDUSTRY_PROSPERITY not in missing.evidence.inputs
