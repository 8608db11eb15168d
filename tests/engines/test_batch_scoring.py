"""``puhui model score-market``: every enterprise scored with the saved model, on an engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.pipelines.batch_scoring import score_market
from puhui.pipelines.engines import LocalEngine
from puhui.risk.artefact import ModelKind, load_artefact, save_artefact
from puhui.risk.dataset import prepare_training
from puhui.risk.features import FEATURE_TABLES, MarketTables, compute_features
from puhui.risk.gbm import GbmConfig
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame, train_model

MONTH = date(2024, 5, 1)
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small GBM on the market's features (the target a stand-in: weak sales growth)."""
    features = compute_features(MarketTables.from_dir(market), MONTH)
    frame = features.with_columns(
        (pl.col("sales_growth_yoy").fill_null(0.0) < 0.0).cast(pl.Int8).alias("bad")
    ).drop("sales_growth_yoy")
    prepared = prepare_training(frame, target="bad", id_col="uscc")
    artefact = train_model(
        prepared,
        ModelKind.GBM,
        trained_at=datetime(2026, 1, 1, tzinfo=UTC),
        target="bad",
        id_col="uscc",
        gbm_config=GbmConfig(n_estimators=20, cv_folds=0),
    )
    out = tmp_path_factory.mktemp("model")
    save_artefact(artefact, out)
    return out


def test_every_enterprise_is_scored_as_the_file_scorer_would(
    market: Path, model_dir: Path, tmp_path: Path
) -> None:
    artefact = load_artefact(model_dir)
    out = tmp_path / "scores.parquet"
    rows = score_market(market, MONTH, artefact, out, engine=LocalEngine(chunk_size=70))
    scored = pl.read_parquet(out)
    features = compute_features(MarketTables.from_dir(market, names=FEATURE_TABLES), MONTH)
    want = scorer_for(artefact.model).assess_frame(scoring_frame(artefact, features))
    assert rows == scored.height == features.height > 200
    assert scored.get_column("uscc").to_list() == features.get_column("uscc").to_list()
    assert scored.drop("uscc").equals(want)
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_score_market_command(market: Path, model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        ["model", "score-market", "--model", str(model_dir), "--market", str(market),
         "--as-of", "2024-05", "--out", str(out), "--engine", "local"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scored 300 enterprises as of 2024-05" in result.stdout
    assert pl.read_csv(out).height == 300
    late = runner.invoke(
        app,
        ["model", "score-market", "--model", str(model_dir), "--market", str(market),
         "--as-of", "2024-09", "--out", str(tmp_path / "late.csv")],
    )  # fmt: skip
    assert late.exit_code != 0
    assert "no rows for month 2024-07" in late.output
    assert not (tmp_path / "late.csv").exists()
