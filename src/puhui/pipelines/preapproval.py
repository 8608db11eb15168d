"""The monthly pre-approval run (主动授信): who to invite, for how much, in what order.

Every enterprise the bank knows goes through one picklable task, run by an engine (local or
Spark) on partitions of enterprises: features from data before consent → need model → PD
model → the strategy in pre-approval mode. The driver orders the pre-approved by expected
value (need probability × limit × (1 − PD), ties by USCC) and writes the contract file. The
task's output for an enterprise depends on that enterprise's rows only, so both engines give
the same list.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import polars as pl

from puhui.decision.outcome import ModelResult
from puhui.decision.preapproval import IndicativeNeed, PreapprovalMode, preapproval_mode
from puhui.decision.strategy import load_strategy
from puhui.domain.errors import InvalidInput
from puhui.domain.prospects import PROSPECT_FILE_COLUMNS, ProspectRow
from puhui.pipelines.engines import Engine
from puhui.pipelines.preapproval_inputs import (
    KNOWN_TABLES,
    check_sources,
    current_exposure,
    decision_month,
    enterprise_places,
    preapproval_inputs,
    restricted_tables,
)
from puhui.risk.artefact import ModelArtefact
from puhui.risk.features import MarketTables
from puhui.risk.need import need_features
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame

LICENCE_TYPE = "bank"
PD_MODEL_NAME = "mse_pd"
FILE_FORMATS = (".csv", ".parquet")

RESULT_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "need_probability": pl.Float64(),
    "need_amount_fen": pl.Int64(),
    "need_floor_fen": pl.Int64(),
    "need_month": pl.Date(),
    "need_duration_months": pl.Int32(),
    "limit_fen": pl.Int64(),
    "annual_rate": pl.String(),
    "grade": pl.String(),
    "pd": pl.Float64(),
    "reasons": pl.String(),
    "region_code": pl.String(),
    "industry_group": pl.String(),
    "park": pl.String(),
    "is_customer": pl.Boolean(),
    "exposure_fen": pl.Int64(),
}
"""One row per pre-approved enterprise, as the task returns it."""


class NeedScoring(Protocol):
    """The need model as the run uses it (``puhui.risk.need.NeedModel``)."""

    @property
    def sources(self) -> frozenset[str]:
        """The tables its features were computed from in training."""

    def score(self, features: pl.DataFrame, as_of: date) -> pl.DataFrame: ...


NeedFeatures = Callable[..., pl.DataFrame]
"""``need_features(tables, as_of, *, sources=...)`` (``puhui.risk.need``); module-level, so
the task pickles by reference."""


@dataclass(frozen=True)
class PreapprovalTask:
    """The per-enterprise work: one partition of enterprises in, their pre-approvals out.

    Holds the strategy as text and the PD model as its artefact (generated functions do not
    pickle): a worker compiles the strategy once and builds the scorer per partition.
    """

    as_of: date
    strategy_text: str
    strategy_source: str
    need_model: NeedScoring
    need_features: NeedFeatures
    risk_model: ModelArtefact
    risk_model_label: str

    def mode(self) -> PreapprovalMode:
        return _compiled_mode(self.strategy_source, self.strategy_text)

    def __call__(self, tables: MarketTables) -> pl.DataFrame:
        mode = self.mode()
        sources = check_sources(mode.sources_before_consent)
        visible = restricted_tables(tables, sources)
        need = self.need_model.score(
            self.need_features(visible, self.as_of, sources=self.need_model.sources), self.as_of
        )
        features, inputs = preapproval_inputs(visible, self.as_of, sources)
        scorer = scorer_for(self.risk_model.model)
        pd_values = scorer.predict_pd(scorer.matrix(scoring_frame(self.risk_model, features)))
        frame = (
            need.join(inputs, on="uscc", how="inner")
            .join(features.select("uscc").with_columns(pd=pl.Series(pd_values)), on="uscc")
            .join(current_exposure(visible, self.as_of).collect(), on="uscc", how="left")
            .join(enterprise_places(visible).collect(), on="uscc", how="left")
            .with_columns(pl.col("exposure_fen").fill_null(0))
            # A customer is invited only for the need its current loans do not already cover.
            .filter(pl.col("need_amount_fen") > pl.col("exposure_fen"))
            .filter(pl.col("need_probability") >= mode.minimum_need_probability)
            .sort("uscc")
        )
        return _decide(frame, mode, decision_month(self.as_of), self.risk_model_label)


@lru_cache(maxsize=4)
def _compiled_mode(source: str, text: str) -> PreapprovalMode:
    """The mode compiled once per process (a third of a second; a worker runs many partitions)."""
    return preapproval_mode(load_strategy(source, text=text, preapproval_sources=KNOWN_TABLES))


def _decide(frame: pl.DataFrame, mode: PreapprovalMode, day: date, label: str) -> pl.DataFrame:
    input_names = [c.name for c in mode.offer.inputs if c.name in frame.columns]
    columns: dict[str, list[object]] = {name: [] for name in RESULT_SCHEMA}
    versions = {PD_MODEL_NAME: label}
    for row in frame.iter_rows(named=True):
        floor = min(row["need_floor_fen"], row["need_amount_fen"] - row["exposure_fen"])
        if floor <= 0:
            continue
        decision = mode.evaluate(
            {name: row[name] for name in input_names},
            ModelResult(pd=row["pd"], score=None, model_versions=versions),
            IndicativeNeed(row["need_probability"], floor, row["need_duration_months"]),
            as_of=day,
            licence_type=LICENCE_TYPE,
        )
        if not decision.preapproved:
            continue
        values = {
            **{name: row.get(name) for name in RESULT_SCHEMA},
            "limit_fen": decision.limit_fen,
            "annual_rate": str(decision.annual_rate),
            "grade": decision.grade,
            "reasons": ",".join(decision.reasons),
            "is_customer": row["exposure_fen"] > 0,
        }
        for name in RESULT_SCHEMA:
            columns[name].append(values[name])
    return pl.DataFrame(columns, schema=RESULT_SCHEMA)


def run_preapproval(
    market: Path,
    as_of: date,
    *,
    engine: Engine,
    need_model: NeedScoring,
    risk_model: ModelArtefact,
    strategy: tuple[str, str],
    need_features: NeedFeatures = need_features,
    risk_model_label: str = PD_MODEL_NAME,
) -> pl.DataFrame:
    """The full list of the month, in priority order (``priority`` 1 = first).

    ``strategy`` is (source name, document text) of a strategy with a ``preapproval:``
    section; the engine reads only the tables the section allows.
    """
    if as_of.day != 1:
        raise InvalidInput("as_of must be the first day of a month")
    source, text = strategy
    task = PreapprovalTask(
        as_of, text, source, need_model, need_features, risk_model, risk_model_label
    )
    mode = task.mode()
    sources = check_sources(mode.sources_before_consent)
    beyond = sorted(need_model.sources - sources)
    if beyond:
        raise InvalidInput(
            f"the need model reads {', '.join(beyond)}, which {mode.version} may not read "
            "before consent: retrain it on the strategy's sources_before_consent"
        )
    parts = list(engine.map_enterprises(market, task, tables=sorted(sources), through=as_of))
    found = pl.concat(parts) if parts else pl.DataFrame(schema=RESULT_SCHEMA)
    return prioritised(found, mode, as_of)


def prioritised(frame: pl.DataFrame, mode: PreapprovalMode, as_of: date) -> pl.DataFrame:
    """Order by expected value, ties by USCC; number the rows; date the offers."""
    value = pl.col("need_probability") * pl.col("limit_fen").cast(pl.Float64) * (1.0 - pl.col("pd"))
    return (
        frame.with_columns(expected_value=value)
        .sort(["expected_value", "uscc"], descending=[True, False])
        .with_row_index("priority", offset=1)
        .with_columns(
            pl.col("priority").cast(pl.Int64),
            pl.lit(mode.valid_until(as_of)).alias("valid_until"),
            pl.lit(as_of).alias("month"),
        )
    )


def prospect_file_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The contract file's columns, in order, as text where the contract says so."""
    return frame.select(
        "uscc",
        "need_probability",
        "need_amount_fen",
        pl.col("need_month").dt.strftime("%Y-%m"),
        "need_duration_months",
        "limit_fen",
        "annual_rate",
        pl.col("valid_until").dt.strftime("%Y-%m-%d"),
    ).select(PROSPECT_FILE_COLUMNS)


def check_out_path(out: Path) -> str:
    """The file format from the extension, refused before any work when it is not known."""
    suffix = out.suffix.lower()
    if suffix not in FILE_FORMATS:
        raise InvalidInput(
            f"--out must end in .csv or .parquet (the format is taken from it), got {out.name!r}"
        )
    return suffix


def write_prospects(frame: pl.DataFrame, out: Path) -> Path:
    """Write the contract file atomically (a crash never leaves half a list)."""
    suffix = check_out_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.partial")
    body = prospect_file_frame(frame)
    if suffix == ".csv":
        body.write_csv(temporary)
    else:
        body.write_parquet(temporary, statistics=False)
    os.replace(temporary, out)
    return out


def prospect_rows(frame: pl.DataFrame) -> list[ProspectRow]:
    """The run's rows as the platform's values (checked on construction)."""
    return [
        ProspectRow(
            uscc=row["uscc"],
            month=row["month"],
            need_probability=row["need_probability"],
            need_amount_fen=row["need_amount_fen"],
            need_month=row["need_month"],
            need_duration_months=row["need_duration_months"],
            limit_fen=row["limit_fen"],
            annual_rate=Decimal(row["annual_rate"]),
            valid_until=row["valid_until"],
            grade=row["grade"],
            priority=row["priority"],
            region_code=row["region_code"],
            industry_group=row["industry_group"],
            park=row["park"],
            is_customer=row["is_customer"],
            reasons=tuple(code for code in row["reasons"].split(",") if code),
        )
        for row in frame.iter_rows(named=True)
    ]
