"""Batch scoring of a market: every enterprise's PD, score, grade and reasons for a month.

The features are the feature store's (``compute_features``, the online definition) and the
scoring is the saved model's own (``scorer_for(...).assess_frame``), run per partition of
enterprises on a batch engine: locally, or on Spark's executors with the model shipped to
them inside the task. The output file appears complete or not at all.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from puhui.pipelines.engines import Engine
from puhui.risk.artefact import ModelArtefact
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import FEATURE_TABLES, MarketTables, compute_features, month_start_plus
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame


@dataclass(frozen=True)
class ScoringTask:
    """The enterprises of a partition registered before ``month``, scored by ``artefact``
    on the features known then: ``uscc``, then the model's assessment columns."""

    month: date
    artefact: ModelArtefact

    def __call__(self, tables: MarketTables) -> pl.DataFrame:
        features = compute_features(tables, self.month)
        assessed = scorer_for(self.artefact.model).assess_frame(
            scoring_frame(self.artefact, features)
        )
        return assessed.insert_column(0, features.get_column("uscc"))


def score_market(
    market: Path, month: date, artefact: ModelArtefact, out: Path, *, engine: Engine
) -> int:
    """Score every enterprise of ``market`` registered before ``month`` into ``out`` (CSV or
    Parquet by its extension, sorted by ``uscc``); the number of rows."""
    if month.day != 1:
        raise InvalidTrainingData("the month to score must be given by its first day")
    frames = engine.map_enterprises(
        market,
        ScoringTask(month, artefact),
        tables=FEATURE_TABLES,
        through=month_start_plus(month, -1),
    )
    scored = pl.concat(list(frames), how="vertical_relaxed").sort("uscc")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        if out.suffix.lower() == ".parquet":
            scored.write_parquet(temporary)
        else:
            scored.write_csv(temporary)
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return scored.height
