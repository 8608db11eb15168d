"""Model exchange: the ONNX export scores like our own scorer, missing values and categories too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import polars as pl
import pytest

from puhui.risk.artefact import ModelArtefact, ModelKind, ModelMetadata
from puhui.risk.dataset import FeatureKind, TrainingData
from puhui.risk.export import UnsupportedExportFormat, export_model, to_onnx
from puhui.risk.gbm import GbmConfig, GbmModel, train_gbm
from puhui.risk.scorecard import ScorecardModel
from puhui.risk.scorer import scorer_for
from puhui.risk.synthetic import make_credit_frame

N_ROWS = 10_000


@pytest.fixture(scope="module")
def scoring_frame() -> pl.DataFrame:
    """10,000 applicants with a tenth of every column missing and categories never seen."""
    frame = make_credit_frame(N_ROWS, seed=99)
    rng = np.random.default_rng(5)
    columns = []
    for name in frame.columns:
        hole = pl.Series(rng.random(N_ROWS) < 0.1)
        columns.append(pl.when(hole).then(None).otherwise(pl.col(name)).alias(name))
    frame = frame.with_columns(columns)
    unseen = pl.Series(rng.random(N_ROWS) < 0.03)
    return frame.with_columns(
        pl.when(unseen).then(pl.lit("yacht")).otherwise(pl.col("purpose")).alias("purpose")
    )


def _onnx_inputs(
    frame: pl.DataFrame, specs: list[tuple[str, FeatureKind]]
) -> dict[str, np.ndarray]:
    """Numeric columns as double with NaN, categories as text with "" for missing."""
    feeds: dict[str, np.ndarray] = {}
    for name, kind in specs:
        column = frame.get_column(name)
        if kind is FeatureKind.CATEGORICAL:
            values = column.cast(pl.String).fill_null("").to_numpy().astype(object)
        else:
            values = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
        feeds[name] = values.reshape(-1, 1)
    return feeds


def _run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (pd,) = session.run(["pd"], feeds)
    assert pd.dtype == np.float64
    return np.asarray(pd).ravel()


def _ours(model: GbmModel | ScorecardModel, frame: pl.DataFrame) -> np.ndarray:
    scorer = scorer_for(model)
    return scorer.predict_pd(scorer.matrix(frame))


def test_gbm_export_gives_our_pd_on_ten_thousand_rows(
    gbm: GbmModel, scoring_frame: pl.DataFrame
) -> None:
    specs = [(s.name, s.kind) for s in gbm.specs]
    exported = _run(to_onnx(gbm), _onnx_inputs(scoring_frame, specs))
    ours = _ours(gbm, scoring_frame)
    assert np.isnan(gbm.matrix(scoring_frame)).any(axis=0).all()  # every feature has gaps
    np.testing.assert_allclose(exported, ours, rtol=0, atol=1e-6)


def test_gbm_export_with_isotonic_calibration_gives_our_pd(
    training_data: TrainingData, scoring_frame: pl.DataFrame
) -> None:
    model = train_gbm(
        training_data.features,
        training_data.target,
        training_data.specs,
        GbmConfig(calibration="isotonic", n_estimators=60, cv_folds=0),
    )
    specs = [(s.name, s.kind) for s in model.specs]
    exported = _run(to_onnx(model), _onnx_inputs(scoring_frame, specs))
    np.testing.assert_allclose(exported, _ours(model, scoring_frame), rtol=0, atol=1e-6)


def test_scorecard_export_gives_our_pd_on_ten_thousand_rows(
    scorecard: ScorecardModel, scoring_frame: pl.DataFrame
) -> None:
    specs = [(c.name, c.kind) for c in scorecard.characteristics]
    assert any(kind is FeatureKind.CATEGORICAL for _, kind in specs)
    exported = _run(to_onnx(scorecard), _onnx_inputs(scoring_frame, specs))
    np.testing.assert_allclose(exported, _ours(scorecard, scoring_frame), rtol=0, atol=1e-6)


def test_money_sized_values_beside_a_split_go_where_lightgbm_sends_them(
    tmp_path: Path,
) -> None:
    """Amounts in fen above 2**24 have no float32 neighbours at .5: the export keeps doubles."""
    rng = np.random.default_rng(3)
    amount = rng.integers(30_000_000, 30_000_050, 4000).astype(np.float64)
    frame = pl.DataFrame({"amount_fen": amount, "bad": (amount > 30_000_024.5).astype(np.int8)})
    from puhui.risk.dataset import prepare_training

    data = prepare_training(frame, target="bad")
    model = train_gbm(data.features, data.target, data.specs, GbmConfig(n_estimators=20))
    probe = pl.DataFrame({"amount_fen": np.arange(30_000_000, 30_000_050, dtype=np.float64)})
    exported = _run(to_onnx(model), _onnx_inputs(probe, [("amount_fen", FeatureKind.NUMERIC)]))
    np.testing.assert_allclose(exported, _ours(model, probe), rtol=0, atol=1e-6)


def _artefact(model: GbmModel | ScorecardModel) -> ModelArtefact:
    kind = ModelKind.GBM if isinstance(model, GbmModel) else ModelKind.SCORECARD
    metadata = ModelMetadata(
        kind=kind,
        created_at="2026-12-01T00:00:00+00:00",
        target="bad",
        features=[],
        data_hash="",
        n_rows=0,
        n_bad=0,
        metrics={},
    )
    return ModelArtefact(model, metadata)


@pytest.mark.parametrize(("fmt", "message"), [("pmml", "PMML"), ("xgboost", "unknown export")])
def test_formats_we_cannot_test_are_refused_with_a_code(
    scorecard: ScorecardModel, fmt: str, message: str
) -> None:
    with pytest.raises(UnsupportedExportFormat, match=message) as refused:
        export_model(_artefact(scorecard), fmt)
    assert refused.value.code == "unsupported_export_format"


def test_export_writes_a_checked_onnx_model(scorecard: ScorecardModel) -> None:
    loaded = onnx.load_from_string(export_model(_artefact(scorecard), "ONNX"))
    onnx.checker.check_model(loaded)
    assert [o.name for o in loaded.graph.output] == ["pd"]


def test_scorecard_special_codes_score_in_their_own_bin_in_the_export(
    credit_frame: pl.DataFrame, scoring_frame: pl.DataFrame
) -> None:
    """A sentinel such as -999 ("not reported") has its own bin and points, in ONNX too."""
    from puhui.risk.dataset import prepare_training
    from puhui.risk.scorecard import ScorecardConfig, train_scorecard

    def with_sentinel(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
        flag = pl.Series(np.random.default_rng(seed).random(frame.height) < 0.08)
        return frame.with_columns(
            pl.when(flag).then(-999.0).otherwise(pl.col("income")).alias("income")
        )

    data = prepare_training(with_sentinel(credit_frame[:4000], 1), target="bad", id_col="id")
    card = train_scorecard(
        data.features, data.target, data.specs, ScorecardConfig(special_codes=(-999.0,))
    )
    income = next(c for c in card.characteristics if c.name == "income")
    assert income.counts[income.n_bins] > 0  # the special bin holds the sentinel rows
    probe = with_sentinel(scoring_frame, 2)
    specs = [(c.name, c.kind) for c in card.characteristics]
    exported = _run(to_onnx(card), _onnx_inputs(probe, specs))
    np.testing.assert_allclose(exported, _ours(card, probe), rtol=0, atol=1e-6)
