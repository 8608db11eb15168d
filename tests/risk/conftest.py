"""Small synthetic credit data and models fitted once per test session."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from puhui.risk.dataset import TrainingData, prepare_training
from puhui.risk.gbm import GbmConfig, GbmModel, train_gbm
from puhui.risk.scorecard import ScorecardModel, train_scorecard
from puhui.risk.synthetic import make_credit_frame


@pytest.fixture(scope="session")
def credit_frame() -> pl.DataFrame:
    return make_credit_frame(6000, seed=11)


@pytest.fixture(scope="session")
def training_data(credit_frame: pl.DataFrame) -> TrainingData:
    return prepare_training(credit_frame[:4000], target="bad", id_col="id")


@pytest.fixture(scope="session")
def holdout_data(credit_frame: pl.DataFrame) -> TrainingData:
    return prepare_training(credit_frame[4000:], target="bad", id_col="id")


@pytest.fixture(scope="session")
def scorecard(training_data: TrainingData) -> ScorecardModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_scorecard(training_data.features, training_data.target, training_data.specs)


@pytest.fixture(scope="session")
def gbm(training_data: TrainingData) -> GbmModel:
    config = GbmConfig(monotone={"late_30_59": 1, "income": -1}, n_estimators=150)
    return train_gbm(training_data.features, training_data.target, training_data.specs, config)
