"""Train a model of either kind on prepared data and wrap it with its metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.artefact import (
    ModelArtefact,
    ModelKind,
    ModelMetadata,
    git_commit,
    library_versions,
    save_reference_profile,
)
from puhui.risk.dataset import FeatureSpec, TrainingData, typed_features
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.gbm import (
    CV_FOLDS,
    CV_MAX_ROWS,
    GbmConfig,
    GbmModel,
    fit_gbm,
    stratified_folds,
)
from puhui.risk.metrics import evaluate
from puhui.risk.reference_profile import ReferenceProfile, build_reference_profile
from puhui.risk.scorecard import ScorecardConfig, ScorecardModel, train_scorecard
from puhui.risk.scorer import scorer_for

FloatArray = npt.NDArray[np.float64]
OUT_OF_SAMPLE = "out_of_sample"
"""Key of the metrics measured on rows the model did not see (``folds`` 0: one holdout)."""
SCORECARD_HOLDOUT_SHARE = 0.2


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
    """Fit, measure out of sample and on the development data, and record how the model came
    to be. ``metrics["out_of_sample"]`` is the figure to quote (cross-validated up to
    ``CV_MAX_ROWS`` rows, held out above); ``metrics["development"]`` is in-sample, kept
    for the record and for comparing with later validation samples."""
    if trained_at.tzinfo is None:
        raise InvalidTrainingData("trained_at must be an aware timestamp")
    model: ScorecardModel | GbmModel
    if kind is ModelKind.SCORECARD:
        model = train_scorecard(data.features, data.target, data.specs, scorecard_config)
        rows, oos_pd, folds = _scorecard_out_of_sample(data, scorecard_config)
    else:
        fitted = fit_gbm(data.features, data.target, data.specs, _usable(gbm_config, data))
        model, rows, oos_pd = fitted.model, fitted.rows, fitted.pd
        folds = int(fitted.model.config.cv_folds or 0)
    out_of_sample = {**evaluate(data.target[rows], oos_pd).to_dict(), "folds": folds}
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
        metrics={
            OUT_OF_SAMPLE: out_of_sample,
            "development": evaluate(data.target, pd).to_dict(),
        },
        excluded=data.excluded,
        id_col=id_col,
        training_window=training_window,
        library_versions=library_versions(),
        git_commit=git_commit(),
        builder=builder,
    )
    return ModelArtefact(model, metadata)


def _scorecard_out_of_sample(
    data: TrainingData, config: ScorecardConfig | None
) -> tuple[npt.NDArray[np.int64], FloatArray, int]:
    """Every row scored by a scorecard built without it (k folds), or a holdout's rows by one
    built on the rest when the data is large; returns (rows, PD, folds; 0 = one holdout)."""
    y = data.target
    if y.size <= CV_MAX_ROWS:
        splits, folds = stratified_folds(y, CV_FOLDS, seed=0), CV_FOLDS
    else:
        k = round(1 / SCORECARD_HOLDOUT_SHARE)
        splits, folds = stratified_folds(y, k, seed=0)[:1], 0
    rows_parts: list[npt.NDArray[np.int64]] = []
    pd_parts: list[FloatArray] = []
    for fit_rows, test_rows in splits:
        rows_parts.append(test_rows)
        try:
            part = train_scorecard(
                data.features[fit_rows.tolist()], y[fit_rows], data.specs, config
            )
        except InvalidTrainingData:
            # No characteristic passes on this fold: a scorecard without any would score
            # every row at the fold's bad rate, and that is what the fold is measured with.
            pd_parts.append(np.full(test_rows.size, float(y[fit_rows].mean())))
            continue
        test = data.features[test_rows.tolist()]
        pd_parts.append(part.pd_from_points(part.total_points(test)))
    return np.concatenate(rows_parts), np.concatenate(pd_parts), folds


def out_of_sample_label(metrics: Mapping[str, Mapping[str, float]]) -> str | None:
    """How the quoted figures were measured ("cross-validated (5-fold)", "held-out"), or
    None for a model saved before they were recorded."""
    figures = metrics.get(OUT_OF_SAMPLE)
    if figures is None:
        return None
    folds = int(figures.get("folds", 0))
    return f"cross-validated ({folds}-fold)" if folds else "held-out"


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


def save_development_profile(
    artefact: ModelArtefact, features: pl.DataFrame, target: npt.ArrayLike, directory: Path
) -> ReferenceProfile:
    """Profile the development sample and save it beside the model (``reference.json``).

    The AUC and KS monitoring compares against are the out-of-sample ones the training
    measured (cross-validated or held out) when recorded: in-sample figures of a boosted model
    are optimistic, and an honest model would then look as if it had decayed.
    """
    profile = build_reference_profile(artefact.model, features, target)
    measured = artefact.metadata.metrics.get(OUT_OF_SAMPLE, {})
    if "auc" in measured:
        profile = replace(profile, auc=measured["auc"], ks=measured.get("ks", profile.ks))
    save_reference_profile(profile, directory)
    return profile
