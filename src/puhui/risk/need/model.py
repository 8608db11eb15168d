"""The need model: will the enterprise need money in the next three months, how much, how long.

Three LightGBM boosters read the same features: a classifier for the probability of a need,
a median (L1) regression for the amount relative to the firm's revenue proxy, and a median
regression for the duration. The amount's point estimate and its conservative floor are the
regression scaled by two ratios measured on enterprises held out of training: the scale that
minimises the median absolute percentage error, and a low quantile of true / predicted so the
floor stays at or below the true need for at least nine needs in ten. The month is the first
season month of the firm's industry calendar within the horizon, else the next month.

Every output of a row comes from that row alone (tree predictions, no batch statistics).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.errors import InvalidTrainingData, ModelArtefactInvalid
from puhui.risk.features import month_start_plus
from puhui.risk.need.calendar import NEED_HORIZON_MONTHS
from puhui.risk.need.features import NEED_FEATURE_NAMES

FloatArray = npt.NDArray[np.float64]

NEED_MODEL_FORMAT = "puhui-need-model"
NEED_MODEL_VERSION = "1"
"""The definition the model was built for (features, outputs); a saved model of another
version is refused on load rather than scored with columns it does not know."""
MANIFEST = "manifest.json"
BOOSTERS = ("probability", "amount", "duration")
SCORE_SCHEMA: dict[str, Any] = {
    "uscc": pl.String,
    "need_probability": pl.Float64,
    "need_amount_fen": pl.Int64,
    "need_floor_fen": pl.Int64,
    "need_month": pl.Date,
    "need_duration_months": pl.Int32,
}
MIN_AMOUNT_FEN = 100
"""The smallest amount the model answers (one yuan): amounts and floors are positive."""
MAX_DURATION_MONTHS = 36


def offset_key(industry_code: float | None, base_kind: float | None) -> str:
    """Key of the log offset from the revenue proxy to the need, per industry and proxy kind."""
    industry = (
        "none" if industry_code is None or math.isnan(industry_code) else str(int(industry_code))
    )
    kind = "none" if base_kind is None or math.isnan(base_kind) else str(int(base_kind))
    return f"{industry}:{kind}"


def feature_matrix(features: pl.DataFrame, names: tuple[str, ...]) -> FloatArray:
    """The rows as the boosters read them (NaN for missing); a missing column is refused."""
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise InvalidTrainingData(f"need features missing: {missing}")
    if features.height == 0:
        return np.zeros((0, len(names)), dtype=np.float64)
    columns = [features.get_column(n).cast(pl.Float64).fill_null(np.nan).to_numpy() for n in names]
    return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)


def log_start(features: pl.DataFrame, offsets: Mapping[str, float]) -> FloatArray:
    """log(revenue proxy) + the median log(need / proxy) of the row's industry and proxy kind."""
    base = features.get_column("need_base_log").cast(pl.Float64).to_numpy()
    industry = features.get_column("industry_code").cast(pl.Float64).fill_null(np.nan).to_list()
    kind = features.get_column("need_base_kind").cast(pl.Float64).fill_null(np.nan).to_list()
    overall = offsets["*"]
    offset = [offsets.get(offset_key(i, k), overall) for i, k in zip(industry, kind, strict=True)]
    return np.asarray(base + np.asarray(offset, dtype=np.float64), dtype=np.float64)


@dataclass(frozen=True)
class NeedModel:
    """A trained need model: its boosters (LightGBM text) and the ratios fixed at training."""

    as_of: date
    sources: frozenset[str]
    boosters: Mapping[str, str]
    offsets: Mapping[str, float]
    """Median log(need / revenue proxy) by ``offset_key``; ``"*"`` is the overall one."""
    point_scale: float
    floor_ratio: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    feature_names: tuple[str, ...] = NEED_FEATURE_NAMES

    def __post_init__(self) -> None:
        if set(self.boosters) != set(BOOSTERS):
            raise ModelArtefactInvalid(f"a need model has the boosters {list(BOOSTERS)}")
        if not (self.point_scale > 0 and 0 < self.floor_ratio <= 1):
            raise ModelArtefactInvalid("need model scale must be > 0 and floor ratio in (0, 1]")
        if "*" not in self.offsets:
            raise ModelArtefactInvalid("need model offsets lack the overall one ('*')")

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(_canonical(self._document(with_hash=False)).encode()).hexdigest()

    @property
    def model_id(self) -> str:
        return f"need-{self.as_of:%Y%m}-{self.content_hash[:12]}"

    @property
    def version(self) -> str:
        return NEED_MODEL_VERSION

    @cached_property
    def _boosters(self) -> dict[str, lgb.Booster]:
        return {name: lgb.Booster(model_str=text) for name, text in self.boosters.items()}

    def matrix(self, features: pl.DataFrame) -> FloatArray:
        return feature_matrix(features, self.feature_names)

    def predict(self, name: str, x: FloatArray) -> FloatArray:
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        out = self._boosters[name].predict(x, num_threads=1)
        return np.asarray(out, dtype=np.float64)

    def log_start(self, features: pl.DataFrame) -> FloatArray:
        """Revenue proxy plus its industry offset: where the amount regression starts from."""
        return log_start(features, self.offsets)

    def log_amount(self, features: pl.DataFrame, x: FloatArray) -> FloatArray:
        """The median regression's log need (before the point scale), row by row."""
        return np.asarray(self.log_start(features) + self.predict("amount", x), dtype=np.float64)

    def score(self, features: pl.DataFrame, as_of: date) -> pl.DataFrame:
        """``uscc`` + the need's probability, amount, floor, month and duration per row."""
        if as_of.day != 1:
            raise InvalidTrainingData("as_of must be the first day of a month")
        x = self.matrix(features)
        probability = np.clip(self.predict("probability", x), 0.0, 1.0)
        log_need = self.log_amount(features, x)
        point = np.maximum(MIN_AMOUNT_FEN, np.round(np.exp(log_need) * self.point_scale))
        floor = np.maximum(MIN_AMOUNT_FEN, np.floor(point * self.floor_ratio))
        duration = np.clip(np.rint(self.predict("duration", x)), 1, MAX_DURATION_MONTHS)
        ahead = features.get_column("months_to_season").cast(pl.Float64).to_list()
        months = [
            month_start_plus(
                as_of, int(a) if a is not None and 1 <= a <= NEED_HORIZON_MONTHS else 1
            )
            for a in ahead
        ]
        return pl.DataFrame(
            {
                "uscc": features.get_column("uscc"),
                "need_probability": probability,
                "need_amount_fen": point.astype(np.int64),
                "need_floor_fen": floor.astype(np.int64),
                "need_month": months,
                "need_duration_months": duration.astype(np.int32),
            },
            schema=SCORE_SCHEMA,
        )

    def _document(self, *, with_hash: bool) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format": NEED_MODEL_FORMAT,
            "version": NEED_MODEL_VERSION,
            "as_of": self.as_of.isoformat(),
            "sources": sorted(self.sources),
            "feature_names": list(self.feature_names),
            "offsets": dict(sorted(self.offsets.items())),
            "point_scale": self.point_scale,
            "floor_ratio": self.floor_ratio,
            "metrics": dict(sorted(self.metrics.items())),
            "boosters": {
                name: hashlib.sha256(text.encode()).hexdigest()
                for name, text in sorted(self.boosters.items())
            },
        }
        if with_hash:
            document["model_id"] = self.model_id
            document["content_hash"] = self.content_hash
        return document

    def save(self, directory: Path) -> None:
        """Write the boosters and a manifest (ids, as-of, sources, features, content hash)."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in self.boosters.items():
            (directory / f"{name}.txt").write_text(text, encoding="utf-8")
        manifest = json.dumps(self._document(with_hash=True), indent=1, ensure_ascii=False)
        (directory / MANIFEST).write_text(manifest, encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> NeedModel:
        """Read a saved model; a missing, altered or incompatible folder is refused."""
        path = directory / MANIFEST
        if not path.is_file():
            raise ModelArtefactInvalid(f"no need model in {directory}: {MANIFEST} not found")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelArtefactInvalid(f"{path} is not valid JSON: {exc}") from exc
        if document.get("format") != NEED_MODEL_FORMAT:
            raise ModelArtefactInvalid(f"{directory} does not hold a need model")
        if document.get("version") != NEED_MODEL_VERSION:
            raise ModelArtefactInvalid(
                f"need model {directory} is version {document.get('version')!r}; "
                f"this code reads version {NEED_MODEL_VERSION} (retrain it)"
            )
        if tuple(document.get("feature_names", ())) != NEED_FEATURE_NAMES:
            raise ModelArtefactInvalid(
                f"need model {directory} was trained on other features than these; retrain it"
            )
        boosters: dict[str, str] = {}
        for name in BOOSTERS:
            booster = directory / f"{name}.txt"
            if not booster.is_file():
                raise ModelArtefactInvalid(f"need model {directory} lacks {booster.name}")
            boosters[name] = booster.read_text(encoding="utf-8")
        try:
            model = cls(
                as_of=date.fromisoformat(document["as_of"]),
                sources=frozenset(document["sources"]),
                boosters=boosters,
                offsets={k: float(v) for k, v in document["offsets"].items()},
                point_scale=float(document["point_scale"]),
                floor_ratio=float(document["floor_ratio"]),
                metrics={k: float(v) for k, v in document["metrics"].items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelArtefactInvalid(f"need model manifest {path} is incomplete: {exc}") from exc
        if model.content_hash != document.get("content_hash"):
            raise ModelArtefactInvalid(
                f"need model {directory} was altered after it was saved (content hash differs)"
            )
        return model


def _canonical(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
