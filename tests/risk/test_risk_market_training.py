"""One training path on a market: the horizon is a parameter, the window follows the history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.artefact import ModelKind, load_artefact
from puhui.risk.features import month_start_plus
from puhui.risk.gbm import GbmModel
from puhui.risk.market_training import (
    DEVELOPMENT_SAMPLE_FILE,
    available_window_months,
    train_on_market,
)
from puhui.risk.training import OUT_OF_SAMPLE, out_of_sample_label

START = date(2023, 1, 1)
AS_OF = date(2025, 12, 1)
TRAINED_AT = datetime(2025, 12, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "m"
    generate_market(MarketParams(enterprises=2000, months=36, start=START, seed=9), out)
    return out


def test_the_window_is_the_history_whose_outcome_is_known(market: Path) -> None:
    assert available_window_months(market, date(2025, 1, 1), 12) == 12
    assert available_window_months(market, date(2025, 1, 1), 6) == 18
    assert available_window_months(market, AS_OF, 12) == 23
    assert available_window_months(market, date(2030, 1, 1), 12) == 24  # at most two years
    assert available_window_months(market, START, 12) == 1


@pytest.mark.slow
@pytest.mark.parametrize("horizon", [6, 12])
def test_train_on_market_records_its_horizon_window_and_out_of_sample_figures(
    market: Path, tmp_path: Path, horizon: int
) -> None:
    trained = train_on_market(
        market, AS_OF, ModelKind.GBM, trained_at=TRAINED_AT, horizon_months=horizon,
        out=tmp_path / "model",
    )  # fmt: skip
    last_cohort = month_start_plus(AS_OF, -horizon)
    assert trained.sample.get_column("origination_month").max() <= last_cohort
    window = trained.artefact.metadata.training_window
    assert window is not None
    assert window["horizon_months"] == str(horizon)
    assert window["window_months"] == str(available_window_months(market, AS_OF, horizon))
    assert window["last_origination"] == f"{last_cohort:%Y-%m}"
    assert window["as_of"] == "2025-12"
    metrics = trained.artefact.metadata.metrics
    assert out_of_sample_label(metrics) == "cross-validated (5-fold)"
    assert metrics[OUT_OF_SAMPLE]["n"] == trained.prepared.n_rows
    saved = load_artefact(tmp_path / "model")
    assert isinstance(saved.model, GbmModel)
    assert saved.model.config.monotone  # the standing constraints on the surviving features
    assert set(saved.model.config.monotone) <= set(saved.model.feature_names)
    development = pl.read_parquet(tmp_path / "model" / DEVELOPMENT_SAMPLE_FILE)
    assert development.height == trained.prepared.n_rows
