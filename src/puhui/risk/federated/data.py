"""The parties' data folders and their feature preparation (standardise, clip, intercept)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.federated.errors import InvalidFederatedData

FEATURES_FILE = "features.parquet"
PARTY_FILE = "party.json"
ID_COLUMN = "uscc"
LABEL_COLUMN = "defaulted"
CLIP_STANDARD_UNITS = 8.0
"""Standardised values are clipped to ±8: bounds the fixed-point range of the protocol."""

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PartyData:
    """One party's rows: ids, feature matrix (raw), feature names and labels (bank only)."""

    ids: list[str]
    features: Matrix
    feature_names: list[str]
    labels: npt.NDArray[np.int8] | None
    data_hash: str

    def rows_of(self, ids: list[str]) -> npt.NDArray[np.int64]:
        index = {identifier: i for i, identifier in enumerate(self.ids)}
        return np.array([index[identifier] for identifier in ids], dtype=np.int64)


def write_party(folder: Path, frame: pl.DataFrame, *, role: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / FEATURES_FILE)
    features = [c for c in frame.columns if c not in (ID_COLUMN, LABEL_COLUMN)]
    document = {"role": role, "rows": frame.height, "features": features}
    if role == "bank":
        document["label"] = LABEL_COLUMN
    (folder / PARTY_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")


def read_party(folder: Path, *, with_labels: bool) -> PartyData:
    path = folder / FEATURES_FILE
    if not path.is_file():
        raise InvalidFederatedData(
            f"no {FEATURES_FILE} in the party folder", details={"folder": str(folder)}
        )
    frame = pl.read_parquet(path)
    if ID_COLUMN not in frame.columns:
        raise InvalidFederatedData(f"the party's features have no {ID_COLUMN} column")
    if with_labels and LABEL_COLUMN not in frame.columns:
        raise InvalidFederatedData(f"the bank's features have no {LABEL_COLUMN} column")
    names = [c for c in frame.columns if c not in (ID_COLUMN, LABEL_COLUMN)]
    labels = frame[LABEL_COLUMN].cast(pl.Int8).to_numpy() if with_labels else None
    return PartyData(
        ids=frame[ID_COLUMN].to_list(),
        features=frame.select(names).cast(pl.Float64).fill_null(0.0).to_numpy(),
        feature_names=names,
        labels=labels,
        data_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


@dataclass(frozen=True)
class Standardiser:
    """Means and scales fitted on one party's training rows, stored with its model part."""

    means: list[float]
    scales: list[float]

    @classmethod
    def fit(cls, features: Matrix) -> Standardiser:
        means = features.mean(axis=0)
        scales = features.std(axis=0)
        scales[scales == 0.0] = 1.0
        return cls([float(m) for m in means], [float(s) for s in scales])

    def transform(self, features: Matrix) -> Matrix:
        standard = (features - np.array(self.means)) / np.array(self.scales)
        clipped: Matrix = np.clip(standard, -CLIP_STANDARD_UNITS, CLIP_STANDARD_UNITS)
        return clipped

    def to_dict(self) -> dict[str, Any]:
        return {"means": self.means, "scales": self.scales}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Standardiser:
        return cls([float(m) for m in document["means"]], [float(s) for s in document["scales"]])


def with_intercept(features: Matrix) -> Matrix:
    """The bank's design matrix: a column of ones first (the bank holds the intercept)."""
    return np.hstack([np.ones((features.shape[0], 1)), features])
