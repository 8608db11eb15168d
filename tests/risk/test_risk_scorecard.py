"""Scorecard: binning as optbinning cuts, empirical missing WoE, points scaling, reasons."""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression

from puhui.risk.dataset import FeatureKind, FeatureSpec, TrainingData, prepare_training
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.metrics import auc
from puhui.risk.scorecard import (
    REGULARISATION_GRID,
    ScorecardConfig,
    ScorecardModel,
    train_scorecard,
)
from puhui.risk.scorer import ScorecardScorer
from puhui.risk.synthetic import make_credit_frame


def test_numeric_bins_follow_optbinning_edges_left_closed(scorecard: ScorecardModel) -> None:
    age = next(c for c in scorecard.characteristics if c.name == "age")
    edge = age.edges[0]
    index = age.bin_index(pl.Series([edge - 1e-9, edge, None], dtype=pl.Float64))
    assert index.tolist() == [0, 1, age.n_bins + 1]


def test_missing_values_get_their_own_empirical_woe(scorecard: ScorecardModel) -> None:
    # debt_ratio is missing far more often for bads: the missing bin must carry that risk.
    debt = next(c for c in scorecard.characteristics if c.name == "debt_ratio")
    missing_woe = debt.woe[-1]
    assert debt.counts[-1] > 0
    assert missing_woe > max(debt.woe[: debt.n_bins])
    assert debt.points[-1] < min(debt.points[: debt.n_bins])


def test_score_at_base_odds_is_base_score_and_pdo_doubles_the_odds() -> None:
    config = ScorecardConfig(pdo=20, base_score=600, base_odds=50)
    model = ScorecardModel((), 0.0, config)
    pd_at_600 = model.pd_from_points(np.array([600.0, 620.0]))
    odds = (1 - pd_at_600) / pd_at_600
    assert odds[0] == pytest.approx(50.0)
    assert odds[1] == pytest.approx(100.0)


def test_points_sum_to_the_regression_log_odds(
    scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    woe = scorecard.woe_matrix(training_data.features)
    coef = np.array([c.coefficient for c in scorecard.characteristics])
    regression_pd = 1.0 / (1.0 + np.exp(-(scorecard.intercept + woe @ coef)))
    points_pd = scorecard.pd_from_points(scorecard.total_points(training_data.features))
    np.testing.assert_allclose(points_pd, regression_pd, rtol=0, atol=1e-12)


def test_pd_matches_scikit_learn_regression_on_the_same_woe_to_1e_9(
    scorecard: ScorecardModel, training_data: TrainingData, holdout_data: TrainingData
) -> None:
    c_value = scorecard.config.regularisation_c
    assert c_value is not None  # the fitted model records the C it was fitted with
    regression = LogisticRegression(C=c_value, max_iter=2000)
    regression.fit(scorecard.woe_matrix(training_data.features), training_data.target)
    expected = regression.predict_proba(scorecard.woe_matrix(holdout_data.features))[:, 1]
    scorer = ScorecardScorer(scorecard)
    batch = scorer.predict_pd(scorer.matrix(holdout_data.features))
    np.testing.assert_allclose(batch, expected, rtol=0, atol=1e-9)


def test_regularisation_is_chosen_by_cross_validation_unless_fixed(
    scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    assert scorecard.config.regularisation_c in REGULARISATION_GRID
    again = train_scorecard(training_data.features, training_data.target, training_data.specs)
    assert again.to_dict() == scorecard.to_dict()  # seeded folds: the same build every time
    fixed = train_scorecard(
        training_data.features,
        training_data.target,
        training_data.specs,
        ScorecardConfig(regularisation_c=0.5),
    )
    assert fixed.config.regularisation_c == 0.5
    assert ScorecardModel.from_dict(fixed.to_dict()).config.regularisation_c == 0.5


def test_pure_noise_is_refused_rather_than_scored() -> None:
    # Every characteristic is a candidate (min_iv 0), but one that neither replicates nor
    # lowers the cross-validated log loss below the bad rate alone does not enter.
    rng = np.random.default_rng(21)
    frame = pl.DataFrame({"a": rng.normal(size=3000), "b": rng.lognormal(size=3000)})
    y = (rng.random(3000) < 0.2).astype(np.int8)
    specs = [FeatureSpec("a", FeatureKind.NUMERIC), FeatureSpec("b", FeatureKind.NUMERIC)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidTrainingData, match="nothing to score on"):
            train_scorecard(frame, y, specs)


def test_every_coefficient_has_the_sign_of_the_evidence(scorecard: ScorecardModel) -> None:
    assert all(c.coefficient > 0 for c in scorecard.characteristics)


def test_noise_feature_does_not_enter_and_points_table_lists_every_bin(
    scorecard: ScorecardModel,
) -> None:
    rows = scorecard.points_table()
    names = {row["characteristic"] for row in rows}
    assert "noise" not in names
    assert {"age", "debt_ratio", "purpose"} <= names
    n_rows = sum(c.n_bins + 2 for c in scorecard.characteristics)
    assert len(rows) == n_rows
    assert {row["bin"] for row in rows if row["characteristic"] == "age"} >= {"Missing", "Special"}


def test_special_codes_get_their_own_bin() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-x))).astype(np.int8)
    x[:300] = -999.0
    y[:300] = 1
    frame = pl.DataFrame({"x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = train_scorecard(
            frame,
            y,
            [FeatureSpec("x", FeatureKind.NUMERIC)],
            ScorecardConfig(special_codes=(-999.0,)),
        )
    char = model.characteristics[0]
    assert char.counts[-2] == 300
    assert char.points[-2] == min(char.points)
    scorer = ScorecardScorer(model)
    assert scorer.assess({"x": -999.0}).score == pytest.approx(char.points[-2])


def test_categories_unseen_in_development_score_as_missing(scorecard: ScorecardModel) -> None:
    purpose = next(c for c in scorecard.characteristics if c.name == "purpose")
    index = purpose.bin_index(pl.Series(["car", "yacht", None]))
    assert index.tolist()[1:] == [purpose.n_bins + 1, purpose.n_bins + 1]


@pytest.mark.slow
def test_auc_is_at_least_optbinning_default_scorecard_on_the_same_split() -> None:
    frame = make_credit_frame(16000, seed=5)
    train, test = frame[:10000], frame[10000:]
    data = prepare_training(train, target="bad", id_col="id")
    held = prepare_training(test, target="bad", id_col="id")
    names = [s.name for s in data.specs]
    categorical = [s.name for s in data.specs if s.kind is FeatureKind.CATEGORICAL]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = train_scorecard(data.features, data.target, data.specs)
        baseline = Scorecard(
            binning_process=BinningProcess(names, categorical_variables=categorical),
            estimator=LogisticRegression(),
        ).fit(train.select(names).to_pandas(), data.target)
    scorer = ScorecardScorer(ours)
    our_auc = auc(held.target, scorer.predict_pd(scorer.matrix(held.features)))
    baseline_auc = auc(held.target, baseline.predict_proba(test.select(names).to_pandas())[:, 1])
    assert our_auc >= baseline_auc
    assert math.isfinite(our_auc)
