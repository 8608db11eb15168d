"""Small helpers that turn NumPy arrays into the Polars columns of the market's tables."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]


def sigmoid(logit: F64) -> F64:
    out: F64 = 1.0 / (1.0 + np.exp(-logit))
    return out


def date_series(name: str, days: I64) -> pl.Series:
    """A ``Date`` column from days since 1970-01-01."""
    return pl.Series(name, np.asarray(days, dtype=np.int32)).cast(pl.Date)


def concat_strings(parts: list[pl.Series], separator: str = "") -> pl.Series:
    return pl.select(pl.concat_str(parts, separator=separator)).to_series()


def masked(values: pl.Series | npt.NDArray[np.generic], keep: BOOL, name: str = "") -> pl.Series:
    """``values`` where ``keep``, null elsewhere."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    frame = pl.DataFrame({"v": series, "k": np.asarray(keep, dtype=bool)})
    return frame.select(pl.when(pl.col("k")).then(pl.col("v")).alias(name)).to_series()


def gather(values: list[str] | tuple[str, ...] | str, index: I64) -> pl.Series:
    return pl.Series(list(values)).gather(np.asarray(index, dtype=np.int64))


def empty(table: schema.Table) -> pl.DataFrame:
    return pl.DataFrame(schema=table.polars_schema())
