"""The need model: labels, training point in time, row-wise scores, save / load, evaluation."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from puhui.risk.errors import InvalidTrainingData, ModelArtefactInvalid
from puhui.risk.features import MarketTables
from puhui.risk.need import NeedModel, need_features, need_labels, train_need_model
from puhui.risk.need.evaluate import amount_errors, evaluate_need_model, top_share

AS_OF = date(2024, 9, 1)  # the session model's month (conftest)


def _events(rows: list[tuple[str, date, int, int]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        rows,
        schema={
            "uscc": pl.String,
            "month": pl.Date,
            "amount_fen": pl.Int64,
            "duration_months": pl.Int32,
        },
        orient="row",
    ).with_columns(pl.lit("ND").alias("need_id"), pl.lit("seasonal_stock").alias("reason"))


def test_labels_take_the_first_need_of_the_three_months_after_as_of() -> None:
    events = _events(
        [
            ("A", date(2024, 9, 1), 1, 3),  # the as-of month itself: not in the horizon
            ("A", date(2024, 11, 1), 500, 6),
            ("A", date(2024, 10, 1), 700, 4),
            ("B", date(2024, 12, 1), 900, 12),
            ("C", date(2025, 1, 1), 100, 3),  # as_of + 4: too late
        ]
    )
    labels = need_labels(events, AS_OF).sort("uscc")
    assert labels.rows() == [
        ("A", date(2024, 10, 1), 700, 4, 2),
        ("B", date(2024, 12, 1), 900, 12, 1),
    ]
    assert labels.schema["need_amount_fen"] == pl.Int64
    assert labels.schema["need_duration_months"] == pl.Int32


def test_scores_have_the_contract_columns_and_sane_values(
    need_model: NeedModel, need_tables: MarketTables
) -> None:
    features = need_features(need_tables, AS_OF)
    scores = need_model.score(features, AS_OF)
    assert scores.schema == pl.Schema(
        {
            "uscc": pl.String,
            "need_probability": pl.Float64,
            "need_amount_fen": pl.Int64,
            "need_floor_fen": pl.Int64,
            "need_month": pl.Date,
            "need_duration_months": pl.Int32,
        }
    )
    assert scores.height == features.height
    assert scores["need_probability"].is_between(0.0, 1.0).all()
    assert (scores["need_floor_fen"] <= scores["need_amount_fen"]).all()
    assert (scores["need_floor_fen"] > 0).all()
    assert (
        scores["need_month"].is_in([date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)]).all()
    )
    assert scores["need_duration_months"].is_between(1, 36).all()
    assert scores["need_probability"].n_unique() > 10  # it ranks, not a constant


def test_a_rows_score_does_not_depend_on_the_batch(
    need_model: NeedModel, need_tables: MarketTables
) -> None:
    features = need_features(need_tables, AS_OF)
    full = need_model.score(features, AS_OF)
    some = features.reverse().gather_every(11)
    assert_frame_equal(
        need_model.score(some, AS_OF).sort("uscc"),
        full.filter(pl.col("uscc").is_in(some["uscc"].implode())).sort("uscc"),
    )
    assert_frame_equal(need_model.score(features, AS_OF), full)


def test_training_reads_nothing_after_as_of(
    need_model: NeedModel, need_tables: MarketTables, need_events: pl.LazyFrame
) -> None:
    # Need events and table rows after the as-of month are dropped: the model is the same.
    cut = {
        name: frame.filter(pl.col("month") <= AS_OF) if "month" in frame.collect_schema() else frame
        for name, frame in need_tables.frames.items()
    }
    retrained = train_need_model(
        MarketTables(cut), need_events.filter(pl.col("month") <= AS_OF), AS_OF, snapshots=6
    )
    assert retrained.content_hash == need_model.content_hash
    assert retrained.metrics["holdout_floor_coverage"] > 0.8


def test_too_few_needs_are_refused(need_tables: MarketTables, need_events: pl.LazyFrame) -> None:
    with pytest.raises(InvalidTrainingData, match="too few"):
        train_need_model(need_tables, need_events.head(10), AS_OF, snapshots=2)


def test_save_and_load_give_the_same_model(
    need_model: NeedModel, need_tables: MarketTables, tmp_path: Path
) -> None:
    need_model.save(tmp_path / "need")
    loaded = NeedModel.load(tmp_path / "need")
    assert loaded.model_id == need_model.model_id
    assert loaded.version == need_model.version
    assert loaded.sources == need_model.sources
    features = need_features(need_tables, AS_OF)
    assert_frame_equal(loaded.score(features, AS_OF), need_model.score(features, AS_OF))
    manifest = json.loads((tmp_path / "need" / "manifest.json").read_text())
    assert manifest["as_of"] == "2024-09-01"
    assert manifest["content_hash"] == need_model.content_hash
    assert "tax_monthly" not in manifest["sources"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("booster", "altered"),
        ("floor", "altered"),
        ("version", "version"),
        ("features", "other features"),
        ("manifest", "not found"),
        ("probability", "lacks probability.txt"),
    ],
)
def test_a_tampered_or_incompatible_folder_is_refused(
    need_model: NeedModel, tmp_path: Path, change: str, message: str
) -> None:
    folder = tmp_path / "need"
    need_model.save(folder)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    if change == "booster":
        text = (folder / "amount.txt").read_text()
        (folder / "amount.txt").write_text(text.replace("leaf_value=", "leaf_value=1", 1))
    elif change == "floor":
        manifest["floor_ratio"] = 0.99
    elif change == "version":
        manifest["version"] = "0"
    elif change == "features":
        manifest["feature_names"] = manifest["feature_names"][:-1]
    elif change == "manifest":
        path.unlink()
    else:
        (folder / "probability.txt").unlink()
    if path.exists() and change in ("floor", "version", "features"):
        path.write_text(json.dumps(manifest))
    with pytest.raises(ModelArtefactInvalid, match=message):
        NeedModel.load(folder)
    shutil.rmtree(folder)


def test_top_share_precision_and_recall_on_a_hand_made_ranking() -> None:
    ranking = pl.DataFrame(
        {
            "uscc": [f"E{i:02d}" for i in range(20)],
            "score": [float(20 - i) for i in range(20)],  # E00 first
            "growth": [None, *[float(i) for i in range(19)]],  # E19 first, E00 last
        }
    )
    labels = pl.DataFrame(
        {"uscc": ["E00", "E05", "E19"], "needs_in_horizon": [2, 1, 1]},
        schema_overrides={"needs_in_horizon": pl.UInt32},
    )
    model = top_share(ranking, "score", labels, share=0.1)  # E00, E01
    assert (model.selected, model.precision, model.recall) == (2, 0.5, 0.5)
    baseline = top_share(ranking, "growth", labels, share=0.1)  # E19, E18
    assert (baseline.precision, baseline.recall) == (0.5, 0.25)
    everyone = top_share(ranking, "score", labels, share=1.0)
    assert (everyone.precision, everyone.recall) == (0.15, 1.0)


def test_amount_errors_on_hand_made_needs() -> None:
    scores = pl.DataFrame(
        {
            "uscc": ["A", "B", "C", "D"],
            "need_amount_fen": [100, 300, 90, 500],
            "need_floor_fen": [50, 250, 40, 10],
        }
    )
    labels = pl.DataFrame({"uscc": ["A", "B", "C"], "need_amount_fen": [100, 200, 100]})
    mdape, covered, compared = amount_errors(scores, labels)
    assert compared == 3  # D had no true need
    assert mdape == pytest.approx(0.1)  # errors 0, 0.5, 0.1
    assert covered == pytest.approx(2 / 3)  # B's floor 250 is above its need of 200


def test_the_evaluation_runs_end_to_end(
    need_model: NeedModel, need_tables: MarketTables, need_events: pl.LazyFrame
) -> None:
    features = need_features(need_tables, AS_OF)
    result = evaluate_need_model(need_model, features, need_events, AS_OF)
    assert result.enterprises == features.height
    assert result.with_need == need_labels(need_events, AS_OF).join(features, on="uscc").height
    assert 0.0 < result.mdape < 1.0
    assert result.model.selected == result.baseline.selected == round(0.1 * features.height)
