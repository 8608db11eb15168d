"""The two models of a pre-approval run, trained on another market and kept in one folder.

Layout of a models folder (``puhui prospect train --out DIR``)::

    DIR/prospect-models.json   what was trained on: the market's seed and content hash, the
                               as-of month, the sources before consent
    DIR/need/                  the need model (``NeedModel.save``)
    DIR/pd/                    the PD model (a model artefact, ``risk.artefact``)

Both are trained from the tables the bank may read before consent, as the run scores them:
the PD model on the market's loans with features from those tables only (a model trained on
tax and bureau data would meet them missing at run time). A run refuses models trained on the
market it scores: the measures would be read on the training data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from puhui.market.params import parse_month
from puhui.pipelines.engines import open_checked
from puhui.pipelines.preapproval_inputs import check_sources, restricted_tables
from puhui.risk.artefact import ModelArtefact, load_artefact, save_artefact
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import LOAN_HISTORY, MarketTables
from puhui.risk.kinds import ModelKind
from puhui.risk.market_training import train_on_market
from puhui.risk.need import NeedModel, train_need_model

MANIFEST = "prospect-models.json"
FORMAT = 1
NEED_EVENTS = Path("truth") / "need_events"


class SameMarket(InvalidTrainingData):
    """Models trained on the market they would score."""

    code = "same_market"


@dataclass(frozen=True)
class MarketIdentity:
    """What tells two generated markets apart: the seed and the content hash of the manifest."""

    path: str
    seed: int | None
    content_hash: str

    @classmethod
    def of(cls, market: Path) -> MarketIdentity:
        manifest = market / "manifest.json"
        if not manifest.is_file():
            raise InvalidTrainingData(f"no manifest.json in {market}: not a generated market")
        document = _read_json(manifest)
        seed = document.get("seed")
        content = str(document.get("content_hash") or "")
        return cls(str(market), None if seed is None else int(seed), content)

    def same_as(self, other: MarketIdentity) -> bool:
        same_content = bool(self.content_hash) and self.content_hash == other.content_hash
        return same_content or (self.seed is not None and self.seed == other.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "seed": self.seed, "content_hash": self.content_hash}


@dataclass(frozen=True)
class ProspectModels:
    """The need model and the PD model of a run, with the market they were trained on."""

    need: NeedModel
    pd: ModelArtefact
    trained_on: MarketIdentity
    as_of: date
    sources: frozenset[str]

    @property
    def pd_label(self) -> str:
        return f"{self.pd.kind.value}@{self.pd.metadata.data_hash[:12] or 'unknown'}"

    def refuse_same_market(self, market: Path) -> None:
        scored = MarketIdentity.of(market)
        if self.trained_on.same_as(scored):
            raise SameMarket(
                f"the models were trained on {self.trained_on.path} (seed "
                f"{self.trained_on.seed}), the same market as {market} (seed {scored.seed}): "
                "train on a market generated with another seed"
            )

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.need.save(directory / "need")
        save_artefact(self.pd, directory / "pd")
        document = {
            "format": FORMAT,
            "as_of": f"{self.as_of:%Y-%m}",
            "sources": sorted(self.sources),
            "market": self.trained_on.to_dict(),
            "need_model": self.need.model_id,
            "pd_model": self.pd_label,
        }
        (directory / MANIFEST).write_text(json.dumps(document, indent=1), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> ProspectModels:
        manifest = directory / MANIFEST
        if not manifest.is_file():
            raise InvalidTrainingData(
                f"no {MANIFEST} in {directory}: give a folder `puhui prospect train` wrote"
            )
        document = _read_json(manifest)
        try:
            market = document["market"]
            trained_on = MarketIdentity(
                str(market["path"]),
                None if market["seed"] is None else int(market["seed"]),
                str(market["content_hash"]),
            )
            as_of = parse_month(str(document["as_of"]))
            sources = frozenset(str(name) for name in document["sources"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidTrainingData(
                f"{manifest} is not a manifest `puhui prospect train` wrote "
                f"(bad or missing {exc}): train the models again"
            ) from None
        return cls(
            need=NeedModel.load(directory / "need"),
            pd=load_artefact(directory / "pd"),
            trained_on=trained_on,
            as_of=as_of,
            sources=sources,
        )


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, refused with the file's name when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidTrainingData(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidTrainingData(f"{path} is not a JSON object")
    return document


def check_market(market: Path, as_of: date, sources: frozenset[str]) -> None:
    """Refuse, before any work, a market missing one of ``sources`` or a month to ``as_of``
    (the engines' check)."""
    open_checked(market, sorted(sources), through=as_of)


def check_need_events(market: Path, as_of: date) -> Path:
    """The market's need events, refused unless they reach ``as_of``: without the last
    months' events, the last snapshots would be labelled "no need"."""
    events = market / NEED_EVENTS
    if not any(events.glob("*.parquet")):
        raise InvalidTrainingData(f"market table 'truth/need_events' not found in {market}")
    last = pl.scan_parquet(str(events / "*.parquet")).select(pl.col("month").max()).collect()
    found = last.item()
    if not isinstance(found, date) or found < as_of:
        ends = "holds no event" if not isinstance(found, date) else f"ends in {found:%Y-%m}"
        raise InvalidTrainingData(
            f"market table 'truth/need_events' in {market} {ends}: it must reach {as_of:%Y-%m}"
        )
    return events


def train_prospect_models(
    market: Path,
    as_of: date,
    sources: frozenset[str],
    *,
    trained_at: datetime,
    kind: ModelKind = ModelKind.GBM,
) -> ProspectModels:
    """Train the need model and the PD model on ``market`` as of ``as_of`` from ``sources``."""
    identity = MarketIdentity.of(market)
    allowed = check_sources(sources)
    if LOAN_HISTORY not in allowed:
        raise InvalidTrainingData("the PD model learns from loan_history: allow it before consent")
    check_market(market, as_of, allowed)
    events = check_need_events(market, as_of)
    tables = restricted_tables(MarketTables.from_dir(market), allowed)
    need = train_need_model(
        tables, pl.scan_parquet(str(events / "*.parquet")), as_of, sources=allowed
    )
    pd = train_on_market(market, as_of, ModelKind(kind), trained_at=trained_at, tables=tables)
    return ProspectModels(need, pd.artefact, identity, as_of, allowed)
