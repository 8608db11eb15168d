"""Two small generated markets (one to train on, one to score) and models trained once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.decision.strategy import shipped_strategy_text
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.engines import LocalEngine
from puhui.pipelines.preapproval import run_preapproval
from puhui.pipelines.preapproval_models import ProspectModels, train_prospect_models
from puhui.risk.need import PRE_CONSENT_SOURCES

AS_OF = date(2024, 10, 1)
TRAIN = MarketParams(enterprises=2_000, months=24, start=date(2023, 1, 1), seed=41)
SCORE = MarketParams(enterprises=2_000, months=24, start=date(2023, 1, 1), seed=42)
# The shipped strategy with a lower need floor and grades A-B invited: the session's small
# models are trained on 2,000 enterprises, and the tests want a list of a few hundred.
TEST_STRATEGY = (
    shipped_strategy_text("mse-online-credit")
    .replace('minimum_need_probability: "0.12"', 'minimum_need_probability: "0.08"')
    .replace("invited_grades: [A]", "invited_grades: [A, B]")
)
STRATEGY = ("preapproval-test.yaml", TEST_STRATEGY)


def run(market: Path, models: ProspectModels) -> pl.DataFrame:
    return run_preapproval(
        market,
        AS_OF,
        engine=LocalEngine(),  # one chunk: the whole small market
        need_model=models.need,
        risk_model=models.pd,
        strategy=STRATEGY,
        risk_model_label=models.pd_label,
    )


@pytest.fixture(scope="session")
def test_strategy() -> tuple[str, str]:
    """(source name, text) of the tests' strategy."""
    return STRATEGY


@pytest.fixture(scope="session")
def strategy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' strategy as a file (``--strategy``); its source name is the run's."""
    path = tmp_path_factory.mktemp("prospects") / STRATEGY[0]
    path.write_text(STRATEGY[1], encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def train_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prospects") / "train"
    generate_market(TRAIN, out)
    return out


@pytest.fixture(scope="session")
def score_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prospects") / "score"
    generate_market(SCORE, out)
    return out


@pytest.fixture(scope="session")
def models_dir(train_market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = train_prospect_models(
        train_market, AS_OF, PRE_CONSENT_SOURCES, trained_at=datetime(2024, 11, 1, tzinfo=UTC)
    )
    return models.save(tmp_path_factory.mktemp("prospects") / "models")


@pytest.fixture(scope="session")
def models(models_dir: Path) -> ProspectModels:
    return ProspectModels.load(models_dir)


@pytest.fixture(scope="session")
def prospects(score_market: Path, models: ProspectModels) -> pl.DataFrame:
    return run(score_market, models)


@pytest.fixture(scope="session")
def run_on(models: ProspectModels) -> Callable[[Path], pl.DataFrame]:
    """The run over another market folder with the session's models."""
    return lambda market: run(market, models)
