"""The green label reaches the strategy at assessment (``green_label``, ``green_category``) and
a strategy version prices a green applicant lower through ``pricing.adjustments``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from puhui.adapters.sources.market import MarketDataSource
from puhui.decision.strategy import load_strategy, shipped_strategy_text
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.pipelines.green.screen import screen_market, write_screen
from puhui.pipelines.green.serving import GreenScreenFile
from puhui.risk.features import MarketTables, compute_features
from puhui.risk.green.catalogue import load_catalogue
from puhui.risk.green.errors import InvalidGreenScreen
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.risk.scorer import OnlineScorer
from puhui.services.origination.assessment import INPUT_SCHEMA, StrategyAssessor
from puhui.services.origination.governance import FixedSetup, LiveModel, LiveSetup, LiveStrategy
from puhui.services.origination.green_input import GREEN_CATEGORY, GREEN_LABEL
from puhui.services.origination.ports import AssessmentRequest

AS_OF = date(2025, 6, 1)
APPLIED = date(2025, 6, 9)


def test_the_screen_file_serves_the_label_from_its_month_on(
    green_market: Path, tmp_path: Path
) -> None:
    screen = screen_market(green_market, AS_OF, load_catalogue())
    write_screen(screen, tmp_path)
    served = GreenScreenFile(tmp_path)
    row = screen.frame.filter(screen.frame["label"] == "green").row(0, named=True)
    assert served.label_of(row["uscc"], APPLIED) == ("green", row["category"])
    assert served.label_of(row["uscc"], date(2025, 5, 31)) is None
    assert served.label_of("not-an-enterprise", APPLIED) is None


def test_a_folder_without_a_screen_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidGreenScreen, match="no green screen in"):
        GreenScreenFile(tmp_path)


class _Labels:
    def __init__(self, found: tuple[str, str | None] | None) -> None:
        self.found = found

    def label_of(self, uscc: str, on: date) -> tuple[str, str | None] | None:
        return self.found


class _Scorer:
    feature_names = ("sales_12m_log",)

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=0.015, score=650.0, grade="B", reasons=())


def _green_strategy() -> FixedSetup:
    data = yaml.safe_load(shipped_strategy_text("mse-online-credit"))
    data["version"] = 2
    data["inputs"][GREEN_LABEL] = {
        "type": "string",
        "allowed": ["green", "not_green", "excluded_penalty"],
    }
    data["inputs"][GREEN_CATEGORY] = {"type": "string"}
    data["pricing"]["adjustments"] = [
        {"id": "GREEN_DISCOUNT", "when": {GREEN_LABEL: "green"}, "spread_delta": "-0.003"}
    ]
    compiled = load_strategy("v2", text=yaml.safe_dump(data, allow_unicode=True))
    live = LiveStrategy("mse-online-credit", 2, compiled.content_hash, compiled)
    return FixedSetup(
        LiveSetup(live, None, LiveModel("mse_pd", "m1", "gbm", cast("OnlineScorer", _Scorer())))
    )


def test_a_green_applicant_is_priced_lower_and_the_inputs_are_evidence(
    green_market: Path,
) -> None:
    assert {GREEN_LABEL, GREEN_CATEGORY} <= INPUT_SCHEMA.fed
    source = MarketDataSource(green_market)
    usccs = compute_features(MarketTables.from_dir(green_market), AS_OF)["uscc"]
    setup = _green_strategy()
    for uscc in usccs.head(40).to_list():
        request = AssessmentRequest(
            application_id="app_green",
            uscc=uscc,
            requested_amount_fen=5_000_000,
            as_of=APPLIED,
            data={scope: source.pull(uscc, scope, as_of=APPLIED) for scope in DataScope},
            fraud_hits=(),
        )
        plain = StrategyAssessor(setup).assess(request)
        if plain.outcome is Outcome.APPROVE:
            break
    else:
        raise AssertionError("no applicant of the first 40 is approved")
    green = StrategyAssessor(setup, green=_Labels(("green", "clean_energy"))).assess(request)
    assert green.outcome is Outcome.APPROVE
    assert plain.annual_rate is not None
    assert green.annual_rate == plain.annual_rate - Decimal("0.003")
    assert green.evidence is not None
    assert green.evidence.inputs[GREEN_LABEL] == "green"
    assert green.evidence.inputs[GREEN_CATEGORY] == "clean_energy"
    excluded = StrategyAssessor(setup, green=_Labels(("excluded_penalty", None))).assess(request)
    assert excluded.annual_rate == plain.annual_rate
    assert plain.evidence is not None
    assert GREEN_LABEL not in plain.evidence.inputs
