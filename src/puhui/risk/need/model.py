"""The need model: will the enterprise need money in the next three months, how much, how long.

Three LightGBM boosters read the need features: a classifier for the probability of a need,
a median (L1) regression for the amount relative to the firm's revenue proxy, and a median
regression for the duration (these two without the calendar-like features). The amount's
point estimate is the median regression itself (on the held-out markets no fixed rescaling
tuned at training did better, and a tuned scale moved with the month it was tuned on); the
conservative floor is the point times a low quantile of true / predicted on enterprises held
out of training, so it stays at or below the true need for at least nine needs in ten. A need
is never more than ``MAX_NEED_OVER_TYPICAL`` times the typical need of its revenue proxy. The
month is the first season month of the firm's industry calendar within the horizon, else the
next month.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.lazy import lazy_module
from puhui.risk.errors import InvalidTrainingData, ModelArtefactInvalid
from puhui.risk.features import month_start_plus
from puhui.risk.need.calendar import NEED_HORIZON_MONTHS
from puhui.risk.need.features import BASE_CAPITAL, BASE_INFLOW, NEED_FEATURE_NAMES

if TYPE_CHECKING:
    import lightgbm as lgb
else:
    lgb = lazy_module("lightgbm")

FloatArray = npt.NDArray[np.float64]

NEED_MODEL_FORMAT = "puhui-need-model"
NEED_MODEL_VERSION = "2"
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
MARGIN_BOUND = 0.5
"""Margins beyond ±50 % (an account draining after a default) say nothing more of the level."""
MAX_LOG_AMOUNT = math.log(1e13)
"""No need above RMB 100 billion: keeps a wild row finite instead of overflowing."""
MONEY_KINDS = frozenset({BASE_INFLOW, BASE_CAPITAL})
"""Proxy kinds in fen (settlement inflow, registered capital), unlike electricity in kWh."""
MAX_NEED_OVER_TYPICAL = 20.0
"""Sanity cap: a need is at most 20 times the typical need of its proxy (the proxy times its
kind's offset, see ``AmountStart.kind_offset``), whatever the industry offset, the margin
correction and the booster add. The market's needs spread about sixfold around a firm's
monthly revenue, so only an extrapolation (a kind or industry barely seen in training) reaches
the cap; without it such firms got needs thousands of times their registered capital."""


def offset_key(industry_code: float | None, base_kind: float | None) -> str:
    """Key of the log offset from the revenue proxy to the need, per industry and proxy kind."""
    industry = (
        "none" if industry_code is None or math.isnan(industry_code) else str(int(industry_code))
    )
    kind = "none" if base_kind is None or math.isnan(base_kind) else str(int(base_kind))
    return f"{industry}:{kind}"


def kind_key(base_kind: float | None) -> str:
    """Key of the fallback offset of a proxy kind over all industries (``"*:<kind>"``)."""
    kind = "none" if base_kind is None or math.isnan(base_kind) else str(int(base_kind))
    return f"*:{kind}"


def feature_matrix(features: pl.DataFrame, names: tuple[str, ...]) -> FloatArray:
    """The rows as the boosters read them (NaN for missing); a missing column is refused."""
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise InvalidTrainingData(f"need features missing: {missing}")
    if features.height == 0:
        return np.zeros((0, len(names)), dtype=np.float64)
    columns = [features.get_column(n).cast(pl.Float64).fill_null(np.nan).to_numpy() for n in names]
    return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)


CLOCK_FEATURES = frozenset(
    {"enterprise_age_months", "inflow_months_36m", "months_since_last_loan", "kwh_months_12m"}
)
"""Features that grow with the calendar as much as with the firm: the amount and duration
boosters leave them out, or they would learn the training window's dates (measured: a model
with them drifts by a fifth three months after its last snapshot)."""
AMOUNT_FEATURES = tuple(n for n in NEED_FEATURE_NAMES if n not in CLOCK_FEATURES)
BOOSTER_FEATURES: dict[str, tuple[str, ...]] = {
    "probability": NEED_FEATURE_NAMES,
    "amount": AMOUNT_FEATURES,
    "duration": AMOUNT_FEATURES,
}


@dataclass(frozen=True)
class AmountStart:
    """Where the amount regression starts: log revenue proxy, level-corrected, plus an offset.

    A need scales with the firm's usual revenue, while electricity and inflows move with how
    well it is doing now (and with the whole economy's cycle, which differs from market to
    market). The settlement margin moves with the same health, so ``margin_slope`` times the
    12-month margin takes that level out; ``offsets`` are the median log(need / corrected
    proxy) per ``offset_key``, per ``kind_key`` (the fallback of an industry with few needs of
    that kind: offsets of kWh and of fen do not mix) and ``"*"`` overall.
    """

    offsets: Mapping[str, float]
    margin_slope: float
    margin_fill: float
    """The margin assumed where none is known (the training median)."""

    def __post_init__(self) -> None:
        if "*" not in self.offsets:
            raise ModelArtefactInvalid("need model offsets lack the overall one ('*')")

    def corrected_base(self, features: pl.DataFrame) -> FloatArray:
        base = features.get_column("need_base_log").cast(pl.Float64).to_numpy()
        margin = (
            features.get_column("margin_12m")
            .cast(pl.Float64)
            .fill_null(self.margin_fill)
            .clip(-MARGIN_BOUND, MARGIN_BOUND)
        )
        return np.asarray(base + self.margin_slope * margin.to_numpy(), dtype=np.float64)

    def kind_offset(self, base_kind: float | None) -> float:
        """The offset of a proxy kind: fitted on its needs, else a prior in the kind's units.

        A kind with too few training needs (no firm scaled from its registered capital, say)
        takes 0 if its proxy is in fen (a need of the proxy's order) and the overall offset
        if it is electricity: the overall one is fitted mostly on kWh, and added to a proxy in
        fen it made needs thousands of times too large.
        """
        fitted = self.offsets.get(kind_key(base_kind))
        if fitted is not None:
            return fitted
        return 0.0 if base_kind in MONEY_KINDS else self.offsets["*"]

    def _kinds(self, features: pl.DataFrame) -> list[float | None]:
        kind = features.get_column("need_base_kind").cast(pl.Float64)
        return [None if k is None or math.isnan(k) else k for k in kind.to_list()]

    def apply(self, features: pl.DataFrame) -> FloatArray:
        industry = features.get_column("industry_code").cast(pl.Float64).fill_null(np.nan)
        offset = [
            self.offsets.get(offset_key(i, k), self.kind_offset(k))
            for i, k in zip(industry.to_list(), self._kinds(features), strict=True)
        ]
        return self.corrected_base(features) + np.asarray(offset, dtype=np.float64)

    def ceiling(self, features: pl.DataFrame) -> FloatArray:
        """The largest log need of each row: its proxy's typical need × MAX_NEED_OVER_TYPICAL."""
        base = features.get_column("need_base_log").cast(pl.Float64).to_numpy()
        typical = np.asarray([self.kind_offset(k) for k in self._kinds(features)], np.float64)
        return np.asarray(base + typical + math.log(MAX_NEED_OVER_TYPICAL), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "offsets": dict(sorted(self.offsets.items())),
            "margin_slope": self.margin_slope,
            "margin_fill": self.margin_fill,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AmountStart:
        return cls(
            offsets={k: float(v) for k, v in data["offsets"].items()},
            margin_slope=float(data["margin_slope"]),
            margin_fill=float(data["margin_fill"]),
        )


@dataclass(frozen=True)
class NeedModel:
    """A trained need model: its boosters (LightGBM text) and the ratios fixed at training."""

    as_of: date
    sources: frozenset[str]
    boosters: Mapping[str, str]
    start: AmountStart
    floor_ratio: float
    """The floor as a share of the point estimate (a low quantile of true / predicted)."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    feature_names: tuple[str, ...] = NEED_FEATURE_NAMES

    def __post_init__(self) -> None:
        if set(self.boosters) != set(BOOSTERS):
            raise ModelArtefactInvalid(f"a need model has the boosters {list(BOOSTERS)}")
        if not 0 < self.floor_ratio <= 1:
            raise ModelArtefactInvalid("a need model's floor ratio must be in (0, 1]")

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

    def predict(self, name: str, features: pl.DataFrame) -> FloatArray:
        """One booster's raw output per row (it reads its own ``BOOSTER_FEATURES``)."""
        if features.height == 0:
            return np.zeros(0, dtype=np.float64)
        x = feature_matrix(features, BOOSTER_FEATURES[name])
        return np.asarray(self._boosters[name].predict(x, num_threads=1), dtype=np.float64)

    def log_amount(self, features: pl.DataFrame) -> FloatArray:
        """The median regression's log need, at most the row's ceiling, row by row."""
        log_need = self.start.apply(features) + self.predict("amount", features)
        return np.asarray(np.minimum(log_need, self.start.ceiling(features)), dtype=np.float64)

    def score(self, features: pl.DataFrame, as_of: date) -> pl.DataFrame:
        """``uscc`` + the need's probability, amount, floor, month and duration per row."""
        if as_of.day != 1:
            raise InvalidTrainingData("as_of must be the first day of a month")
        feature_matrix(features, self.feature_names)  # every column there, or a clear error
        probability = np.clip(self.predict("probability", features), 0.0, 1.0)
        log_need = self.log_amount(features)
        point = np.maximum(MIN_AMOUNT_FEN, np.round(np.exp(np.minimum(log_need, MAX_LOG_AMOUNT))))
        floor = np.maximum(MIN_AMOUNT_FEN, np.floor(point * self.floor_ratio))
        duration = np.clip(np.rint(self.predict("duration", features)), 1, MAX_DURATION_MONTHS)
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
            "start": self.start.to_dict(),
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
                start=AmountStart.from_dict(document["start"]),
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
