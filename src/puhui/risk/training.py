"""Train a model of either kind on prepared data and wrap it with its metadata."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import polars as pl

from puhui.risk.artefact import (
    ModelArtefact,
    ModelKind,
    ModelMetadata,
    git_commit,
    library_versions,
)
from puhui.risk.dataset import FeatureSpec, TrainingData, typed_features
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.gbm import GbmConfig, GbmModel, train_gbm
from puhui.risk.metrics import evaluate
from puhui.risk.scorecard import ScorecardConfig, ScorecardModel, train_scorecard
from puhui.risk.scorer import scorer_for


def train_model(
    data: TrainingData,
    kind: ModelKind,
    *,
    trained_at: datetime,
    target: str,
    id_col: str | None = None,
    scorecard_config: ScorecardConfig | None = None,
    gbm_config: GbmConfig | None = None,
    training_window: dict[str, str] | None = None,
    builder: str | None = None,
) -> ModelArtefact:
    """Fit, measure on the development data, and record how the model came to be."""
    if trained_at.tzinfo is None:
        raise InvalidTrainingData("trained_at must be an aware timestamp")
    model: ScorecardModel | GbmModel
    if kind is ModelKind.SCORECARD:
        model = train_scorecard(data.features, data.target, data.specs, scorecard_config)
    else:
        model = train_gbm(data.features, data.target, data.specs, _usable(gbm_config, data))
    scorer = scorer_for(model)
    pd = scorer.predict_pd(scorer.matrix(data.features))
    used = set(model.feature_names)
    metadata = ModelMetadata(
        kind=kind,
        created_at=trained_at.isoformat(),
        target=target,
        features=[
            {"name": s.name, "kind": s.kind.value, "dtype": str(data.features.schema[s.name])}
            for s in data.specs
            if s.name in used
        ],
        data_hash=data.data_hash,
        n_rows=data.n_rows,
        n_bad=int(data.target.sum()),
        metrics={"development": evaluate(data.target, pd).to_dict()},
        excluded=data.excluded,
        id_col=id_col,
        training_window=training_window,
        library_versions=library_versions(),
        git_commit=git_commit(),
        builder=builder,
    )
    return ModelArtefact(model, metadata)


def _usable(config: GbmConfig | None, data: TrainingData) -> GbmConfig | None:
    """Drop constraints on columns the data preparation left out (constant in this sample):
    a standing constraint set must not fail on a sample where one signal never fires."""
    if config is None:
        return None
    kept = {k: v for k, v in config.monotone.items() if k not in data.excluded}
    return replace(config, monotone=kept)


def scoring_frame(artefact: ModelArtefact, frame: pl.DataFrame) -> pl.DataFrame:
    """The columns a saved model reads, typed as in development."""
    if isinstance(artefact.model, GbmModel):
        specs = artefact.model.specs
    else:
        specs = tuple(spec for spec in _scorecard_specs(artefact.model))
    return typed_features(frame, specs)


def _scorecard_specs(model: ScorecardModel) -> list[FeatureSpec]:
    return [FeatureSpec(c.name, c.kind) for c in model.characteristics]
