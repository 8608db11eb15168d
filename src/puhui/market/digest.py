"""Content hashes of tables that do not depend on how rows were split into chunks or files."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from puhui.market.hashing import mix64

U64 = npt.NDArray[np.uint64]
_LANES = np.array(
    [0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89],
    dtype=np.uint64,
)
_NULL = np.uint64(0x5BD1E9955BD1E995)
_COLUMN = np.uint64(0x9E3779B97F4A7C15)


def _string_hashes(series: pl.Series) -> U64:
    """Stable 64-bit hash of each string, computed once per distinct value."""
    encoded = pc.dictionary_encode(series.rechunk().to_arrow())
    table = _distinct_string_hashes(pc.cast(encoded.dictionary, pa.large_string()))
    raw = encoded.indices
    if raw.null_count:
        raw = pc.fill_null(raw, pa.scalar(0, raw.type))  # nulls are masked by the caller
    indices = np.asarray(raw.to_numpy(zero_copy_only=False), dtype=np.int64)
    if not len(table):
        return np.zeros(len(indices), dtype=np.uint64)
    out: U64 = table[indices]
    return out


def _distinct_string_hashes(arrow: pa.Array) -> U64:
    """Hash of each string from its UTF-8 bytes and length, vectorised over a byte matrix
    built one position at a time (cost: values x longest value)."""
    n = len(arrow)
    buffers = arrow.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arrow.offset : arrow.offset + n + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(1, dtype=np.uint8)
    )
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if n else 0
    with np.errstate(over="ignore"):
        h = mix64(lengths.astype(np.uint64) + _COLUMN)
        last = max(len(data) - 1, 0)
        for pos in range(longest):
            # Only strings that reach this position are mixed again: a value's hash must not
            # depend on the other values in its column.
            has = pos < lengths
            byte = data[np.minimum(starts + pos, last)].astype(np.uint64)
            h = np.where(has, mix64(h ^ (byte + np.uint64(pos + 1) * _COLUMN)), h)
    return h


def _column_hashes(series: pl.Series) -> U64:
    nulls = series.is_null().to_numpy()
    if series.dtype == pl.String:
        values = _string_hashes(series)
    elif series.dtype == pl.Float64:
        values = series.fill_null(0.0).to_numpy().astype(np.float64).view(np.uint64)
    else:
        physical = series.to_physical() if series.dtype == pl.Date else series
        values = physical.fill_null(0).cast(pl.Int64).to_numpy().astype(np.int64).view(np.uint64)
    out: U64 = np.where(nulls, _NULL, values)
    return out


def frame_digest(frame: pl.DataFrame) -> U64:
    """Two 64-bit lanes: the sum over rows of a hash of each row (a multiset hash).

    Sums commute, so chunks can be hashed apart and added; row order inside the files is
    fixed by construction (enterprise order), so nothing is lost in practice.
    """
    acc = np.zeros(len(frame), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, name in enumerate(frame.columns):
            col = _column_hashes(frame.get_column(name))
            acc = mix64(acc + col * (np.uint64(2 * position + 1) * _COLUMN))
        lanes = np.array([mix64(acc ^ lane).sum(dtype=np.uint64) for lane in _LANES[:2]])
    return lanes.astype(np.uint64)


def combine(total: U64, part: U64) -> U64:
    """Add the digest of one more part (modulo 2^64 per lane)."""
    with np.errstate(over="ignore"):
        out: U64 = (total + part).astype(np.uint64)
    return out


def to_hex(lanes: U64) -> str:
    return "".join(f"{int(v):016x}" for v in lanes)
