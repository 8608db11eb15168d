"""GBM challenger: monotone where the business says, calibrated PD, category codes by risk."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from puhui.risk.dataset import TrainingData
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.gbm import Calibrator, GbmConfig, GbmModel, train_gbm
from puhui.risk.scorer import GbmScorer


def test_pd_never_falls_as_a_rising_constrained_feature_grows(gbm: GbmModel) -> None:
    scorer = GbmScorer(gbm)
    base = {"age": 35.0, "income": 8000.0, "debt_ratio": 0.3, "utilisation": 0.5}
    pds = [scorer.assess({**base, "late_30_59": float(k)}).pd for k in range(8)]
    assert pds == sorted(pds)
    incomes = [scorer.assess({**base, "income": float(v)}).pd for v in range(1000, 40000, 1000)]
    assert incomes == sorted(incomes, reverse=True)


def test_calibrated_pd_matches_the_observed_bad_rate_out_of_sample(
    gbm: GbmModel, holdout_data: TrainingData
) -> None:
    pd = gbm.predict_pd(gbm.matrix(holdout_data.features))
    assert pd.mean() == pytest.approx(holdout_data.target.mean(), rel=0.15)


def test_raw_margin_equals_lightgbm_predict(gbm: GbmModel, holdout_data: TrainingData) -> None:
    x = gbm.matrix(holdout_data.features)
    expected = gbm.booster.predict(x, raw_score=True)
    np.testing.assert_allclose(gbm.raw_margin(x), expected, rtol=0, atol=1e-9)
    assert gbm.ensemble.n_trees == gbm.booster.num_trees()


def test_categories_are_coded_in_order_of_bad_rate(gbm: GbmModel) -> None:
    codes = gbm.category_codes["purpose"]
    # business and education carry extra risk in the synthetic truth
    assert codes["business"] > codes["home"]
    assert codes["education"] > codes["car"]


def test_unknown_monotone_feature_is_refused(training_data: TrainingData) -> None:
    with pytest.raises(InvalidTrainingData, match="unknown features"):
        train_gbm(
            training_data.features,
            training_data.target,
            training_data.specs,
            GbmConfig(monotone={"nope": 1}),
        )


def test_isotonic_calibration_is_monotone_and_clipped() -> None:
    calibrator = Calibrator("isotonic", x=(-1.0, 0.0, 1.0), y=(0.1, 0.2, 0.6))
    values = [calibrator.apply_one(v) for v in (-5.0, -0.5, 0.5, 5.0)]
    assert values == pytest.approx([0.1, 0.15, 0.4, 0.6])
    np.testing.assert_allclose(calibrator.apply(np.array([-5.0, -0.5, 0.5, 5.0])), values)


def test_unseen_category_reads_as_missing(gbm: GbmModel) -> None:
    frame = pl.DataFrame({s.name: [None] for s in gbm.specs}).with_columns(
        pl.lit("yacht").alias("purpose")
    )
    assert np.isnan(gbm.matrix(frame)[0, gbm.feature_names.index("purpose")])
