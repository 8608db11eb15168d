"""Training on market samples: standing constraints survive a sample where a signal never fires."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from puhui.risk.artefact import ModelKind
from puhui.risk.dataset import prepare_training
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.gbm import GbmConfig, GbmModel
from puhui.risk.training import train_model

TRAINED_AT = datetime(2025, 12, 1, tzinfo=UTC)


def test_constraint_on_a_column_left_out_as_constant_is_dropped(
    credit_frame: pl.DataFrame,
) -> None:
    frame = credit_frame[:2000].with_columns(pl.lit(0.0).alias("court_cases_filed_6m"))
    data = prepare_training(frame, target="bad", id_col="id")
    assert data.excluded["court_cases_filed_6m"] == "constant or empty"
    config = GbmConfig(monotone={"court_cases_filed_6m": 1, "late_30_59": 1}, n_estimators=30)
    artefact = train_model(
        data, ModelKind.GBM, trained_at=TRAINED_AT, target="bad", gbm_config=config
    )
    assert isinstance(artefact.model, GbmModel)
    assert dict(artefact.model.config.monotone) == {"late_30_59": 1}


def test_constraint_on_a_column_the_data_never_had_is_still_refused(
    credit_frame: pl.DataFrame,
) -> None:
    data = prepare_training(credit_frame[:2000], target="bad", id_col="id")
    config = GbmConfig(monotone={"no_such_column": 1}, n_estimators=30)
    with pytest.raises(InvalidTrainingData, match="unknown features"):
        train_model(data, ModelKind.GBM, trained_at=TRAINED_AT, target="bad", gbm_config=config)
