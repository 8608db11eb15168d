"""Training on a generated market: the one path the command line and the lending simulation share.

The sample is every loan whose ``horizon_months`` outcome is known by ``as_of`` (labels from
the public loan history, never ``truth/``), with its point-in-time features; the standing
monotone constraints of :data:`MONOTONE_RISK` apply to the features that survive preparation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from puhui.risk.artefact import ModelArtefact, ModelKind, save_artefact
from puhui.risk.dataset import TrainingData, prepare_training
from puhui.risk.features import (
    HORIZON_MONTHS,
    MONOTONE_RISK,
    MarketTables,
    labelled_dataset,
    month_start_plus,
)
from puhui.risk.gbm import GbmConfig
from puhui.risk.training import save_development_profile, train_model

# The longest origination window a market sample spans (older cohorts describe another market).
MAX_WINDOW_MONTHS = 24
DEVELOPMENT_SAMPLE_FILE = "development_sample.parquet"


@dataclass(frozen=True)
class MarketTraining:
    """A model trained on a market, the labelled sample it was trained on and its preparation."""

    artefact: ModelArtefact
    sample: pl.DataFrame
    prepared: TrainingData


def _manifest(market: Path) -> dict[str, object]:
    path = market / "manifest.json"
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else {}


def available_window_months(market: Path, as_of: date, horizon_months: int) -> int:
    """The origination months with a known outcome by ``as_of`` (at most ``MAX_WINDOW_MONTHS``,
    at least one), from the market's first month in its manifest."""
    parameters = _manifest(market).get("parameters")
    start = parameters.get("start") if isinstance(parameters, dict) else None
    if start is None:
        return MAX_WINDOW_MONTHS
    year, month = (int(part) for part in str(start).split("-")[:2])
    history = (as_of.year * 12 + as_of.month) - (year * 12 + month) - horizon_months
    return max(1, min(MAX_WINDOW_MONTHS, history))


def train_on_market(
    market: Path,
    as_of: date,
    kind: ModelKind,
    *,
    trained_at: datetime,
    horizon_months: int = HORIZON_MONTHS,
    window_months: int | None = None,
    with_applications: bool = False,
    builder: str | None = None,
    out: Path | None = None,
    augment: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    augment_monotone: Mapping[str, int] | None = None,
    tables: MarketTables | None = None,
) -> MarketTraining:
    """Train a model of ``kind`` on the market's loans whose outcome is known by ``as_of``.

    ``window_months`` of origination cohorts (None: as many as the market's history holds, at
    most :data:`MAX_WINDOW_MONTHS`); a loan is bad when it defaulted within
    ``horizon_months`` of origination. With ``out`` the artefact and the development sample
    (for the validation report's stability tables) are saved there.

    ``augment`` adds feature columns to the labelled sample (one row per loan: ``uscc``,
    ``origination_month``, ``bad`` and the features), point in time like the rest — e.g. the
    relationship graph's (``puhui.graph.features.with_graph_features``), which this layer may
    not import; ``augment_monotone`` gives their expected risk directions. Without them the
    model is the default market model.

    ``tables`` replaces the market's own tables (e.g. only those a bank may read before an
    enterprise consents, for pre-approval); the manifest still dates and identifies the data.
    """
    window = (
        window_months
        if window_months is not None
        else available_window_months(market, as_of, horizon_months)
    )
    sample = labelled_dataset(
        MarketTables.from_dir(market) if tables is None else tables,
        as_of,
        horizon_months=horizon_months,
        window_months=window,
        with_applications=with_applications,
    )
    if augment is not None:
        sample = augment(sample)
    prepared = prepare_training(
        sample,
        target="bad",
        id_col="uscc",
        exclude=["origination_month"],
        data_hash=str(_manifest(market).get("content_hash", "")),
    )
    kept = {spec.name for spec in prepared.specs}
    monotone = {**MONOTONE_RISK, **(augment_monotone or {})}
    first = sample.get_column("origination_month").min()
    artefact = train_model(
        prepared,
        kind,
        trained_at=trained_at,
        target="bad",
        id_col="uscc",
        # Constraints only for the features that survived preparation (constants are dropped).
        gbm_config=GbmConfig(monotone={k: v for k, v in monotone.items() if k in kept}),
        training_window={
            "first_origination": str(first)[:7],
            "last_origination": f"{month_start_plus(as_of, -horizon_months):%Y-%m}",
            "as_of": f"{as_of:%Y-%m}",
            "window_months": str(window),
            "horizon_months": str(horizon_months),
        },
        builder=builder,
    )
    if out is not None:
        save_artefact(artefact, out)
        sample.write_parquet(out / DEVELOPMENT_SAMPLE_FILE)
        save_development_profile(artefact, prepared.features, prepared.target, out)
    return MarketTraining(artefact, sample, prepared)
