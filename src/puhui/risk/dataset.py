"""Tabular modelling data: read a CSV/Parquet file, check the binary target, type the features."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.errors import InvalidTrainingData

logger = logging.getLogger(__name__)

NULL_MARKERS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
# A text column with (almost) one value per row is an identifier, not a characteristic.
ID_LIKE_UNIQUE_SHARE = 0.9
ID_LIKE_MIN_ROWS = 50


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    kind: FeatureKind


@dataclass(frozen=True)
class TrainingData:
    """Features typed for modelling, the 0/1 target (1 = bad) and what was left out and why."""

    features: pl.DataFrame
    target: npt.NDArray[np.int8]
    specs: tuple[FeatureSpec, ...]
    excluded: dict[str, str]
    data_hash: str

    @property
    def n_rows(self) -> int:
        return self.features.height


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: Path) -> pl.DataFrame:
    """Read a CSV or Parquet file; refuse a missing, unreadable or empty one."""
    if not path.exists():
        raise InvalidTrainingData(f"data file not found: {path}")
    if not path.is_file():
        raise InvalidTrainingData(f"data path is not a file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in {".csv", ".txt"}:
            frame = pl.read_csv(path, infer_schema_length=None, null_values=NULL_MARKERS)
        else:
            raise InvalidTrainingData(
                f"unsupported data file type {suffix!r}: use .csv or .parquet", details={}
            )
    except pl.exceptions.NoDataError:
        raise InvalidTrainingData(f"data file is empty: {path}") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidTrainingData(f"cannot read {path}: {exc}") from None
    if frame.height == 0:
        raise InvalidTrainingData(f"data file has no rows: {path}")
    return frame


def binary_target(frame: pl.DataFrame, target: str) -> npt.NDArray[np.int8]:
    """The target as 0/1 (1 = bad); refuse an unknown, missing, non-binary or one-class one."""
    if target not in frame.columns:
        raise InvalidTrainingData(
            f"target column {target!r} not found; columns are: {', '.join(frame.columns)}"
        )
    column = frame.get_column(target)
    n_missing = column.null_count()
    if column.dtype.is_float():
        n_missing += int(column.is_nan().sum())
    if n_missing:
        raise InvalidTrainingData(f"target column {target!r} has {n_missing} missing values")
    if column.dtype == pl.Boolean:
        column = column.cast(pl.Int8)
    elif column.dtype == pl.String:
        column = column.str.strip_chars()
    values = column.unique().to_list()
    allowed = {0, 1, "0", "1"}
    strange = [value for value in values if value not in allowed]
    if strange:
        shown = ", ".join(repr(value) for value in sorted(values, key=str)[:10])
        raise InvalidTrainingData(
            f"target column {target!r} is not binary 0/1 (1 = bad); its values include {shown}"
        )
    result = np.asarray([int(value) for value in column.to_list()], dtype=np.int8)
    if len(np.unique(result)) < 2:
        raise InvalidTrainingData(
            f"target column {target!r} has only one class ({int(result[0])}): "
            "a model needs both goods (0) and bads (1)"
        )
    return result


def _kind_of(dtype: pl.DataType) -> FeatureKind | None:
    if dtype.is_numeric() or dtype == pl.Boolean:
        return FeatureKind.NUMERIC
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return FeatureKind.CATEGORICAL
    return None


def prepare_training(
    frame: pl.DataFrame,
    *,
    target: str,
    id_col: str | None = None,
    exclude: Iterable[str] = (),
    data_hash: str = "",
) -> TrainingData:
    """Split a frame into typed features and the target; say which columns were left out."""
    y = binary_target(frame, target)
    excluded_names = set(exclude)
    unknown = sorted(name for name in excluded_names | {id_col or target} if name not in frame)
    if unknown:
        raise InvalidTrainingData(f"columns not found: {', '.join(unknown)}")
    excluded: dict[str, str] = dict.fromkeys(sorted(excluded_names), "excluded by request")
    if id_col is not None:
        excluded[id_col] = "identifier column"
    specs: list[FeatureSpec] = []
    for name, dtype in frame.schema.items():
        if name == target or name in excluded:
            continue
        kind = _kind_of(dtype)
        column = frame.get_column(name)
        if kind is None:
            excluded[name] = f"unsupported type {dtype}"
            continue
        n_distinct = column.drop_nulls().n_unique()
        if n_distinct <= 1:
            excluded[name] = "constant or empty"
            continue
        if (
            kind is FeatureKind.CATEGORICAL
            and frame.height >= ID_LIKE_MIN_ROWS
            and n_distinct > ID_LIKE_UNIQUE_SHARE * frame.height
        ):
            excluded[name] = "text with one value per row (identifier-like)"
            continue
        specs.append(FeatureSpec(name, kind))
    if not specs:
        raise InvalidTrainingData("no usable feature columns besides the target")
    for name, reason in excluded.items():
        logger.info("column %s left out: %s", name, reason)
    return TrainingData(
        features=typed_features(frame, specs),
        target=y,
        specs=tuple(specs),
        excluded=excluded,
        data_hash=data_hash,
    )


def typed_features(frame: pl.DataFrame, specs: Sequence[FeatureSpec]) -> pl.DataFrame:
    """The feature columns cast as the model expects: numeric to Float64, categories to text."""
    missing = [spec.name for spec in specs if spec.name not in frame.columns]
    if missing:
        raise InvalidTrainingData(f"data lacks model features: {', '.join(missing)}")
    columns: list[pl.Expr] = []
    for spec in specs:
        if spec.kind is FeatureKind.NUMERIC:
            columns.append(pl.col(spec.name).cast(pl.Float64, strict=False))
        else:
            columns.append(pl.col(spec.name).cast(pl.String))
    try:
        return frame.select(columns)
    except pl.exceptions.PolarsError as exc:
        raise InvalidTrainingData(f"cannot type the feature columns: {exc}") from None


def numeric_column(frame: pl.DataFrame, name: str) -> npt.NDArray[np.float64]:
    """A Float64 column as a NumPy array with nulls as NaN."""
    return frame.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()
