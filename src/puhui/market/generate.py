"""Generate a market: chunks of enterprises, optionally in worker processes, streamed to Parquet."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from puhui.market import schema
from puhui.market.digest import combine, frame_digest, to_hex
from puhui.market.errors import InvalidMarketParameter, MarketOutputNotEmpty
from puhui.market.params import MarketParams
from puhui.market.simulate import simulate_chunk
from puhui.market.store import MANIFEST, part_path, table_dir

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
DEFAULT_CHUNK_SIZE = 20_000
MAX_WORKERS = 16

ChunkSummary = dict[str, tuple[int, list[int]]]


def _run_chunk(params: MarketParams, lo: int, hi: int, out_dir: str) -> ChunkSummary:
    """Simulate one chunk, write one part file per table, return row counts and digests."""
    frames = simulate_chunk(params, lo, hi)
    summary: ChunkSummary = {}
    for name, frame in frames.items():
        table = schema.TABLES[name]
        if frame.height or lo == 0:  # the first chunk always writes, so every table exists
            frame.write_parquet(part_path(Path(out_dir), table, lo), compression="lz4")
        summary[name] = (frame.height, [int(v) for v in frame_digest(frame)])
    return summary


def _prepare(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise MarketOutputNotEmpty(
            f"--out {out_dir} exists and is not a directory", details={"field": "out"}
        )
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise MarketOutputNotEmpty(
                f"--out {out_dir} is not empty; pass --overwrite to replace a market there",
                details={"field": "out"},
            )
        if not (out_dir / MANIFEST).is_file():
            raise MarketOutputNotEmpty(
                f"--out {out_dir} is not empty and holds no market ({MANIFEST}); "
                "refusing to delete it even with --overwrite",
                details={"field": "out"},
            )
        for name in ("tables", "truth", MANIFEST):
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in schema.ALL_TABLES:
        table_dir(out_dir, table).mkdir(parents=True, exist_ok=True)


def generate_market(
    params: MarketParams,
    out_dir: Path | str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write every table of the market under ``out_dir`` and return the manifest.

    The content (and every content hash) depends only on ``params``: chunk size and the
    number of worker processes change speed and file layout, never a value. With
    ``workers > 1`` chunks run in ``spawn`` processes, so a calling script needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    if not 1 <= chunk_size <= 1_000_000:
        raise InvalidMarketParameter(
            "--chunk-size must be between 1 and 1,000,000", details={"field": "chunk_size"}
        )
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidMarketParameter(
            f"--workers must be between 1 and {MAX_WORKERS}", details={"field": "workers"}
        )
    out = Path(out_dir)
    _prepare(out, overwrite)
    started = time.perf_counter()
    n = params.enterprises
    chunks = [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]
    totals: dict[str, tuple[int, np.ndarray[Any, np.dtype[np.uint64]]]] = {
        t.name: (0, np.zeros(2, dtype=np.uint64)) for t in schema.ALL_TABLES
    }

    def absorb(summary: ChunkSummary) -> None:
        for name, (rows, lanes) in summary.items():
            count, acc = totals[name]
            totals[name] = (count + rows, combine(acc, np.array(lanes, dtype=np.uint64)))

    done = 0
    if workers == 1 or len(chunks) == 1:
        for lo, hi in chunks:
            absorb(_run_chunk(params, lo, hi, str(out)))
            done += 1
            if progress:
                progress(done, len(chunks))
    else:
        # spawn, not fork: Polars' thread pool does not survive a fork.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_run_chunk, params, lo, hi, str(out)) for lo, hi in chunks]
            for future in futures:
                absorb(future.result())
                done += 1
                if progress:
                    progress(done, len(chunks))
    tables = {
        t.name: {
            "folder": t.folder,
            "truth": t.truth,
            "rows": totals[t.name][0],
            "content_hash": to_hex(totals[t.name][1]),
        }
        for t in schema.ALL_TABLES
    }
    market_hash = hashlib.sha256(
        json.dumps({k: v["content_hash"] for k, v in sorted(tables.items())}).encode()
    ).hexdigest()
    manifest: dict[str, Any] = {
        "status": "complete",
        "schema_version": schema.SCHEMA_VERSION,
        "generator_version": GENERATOR_VERSION,
        "seed": params.seed,
        "parameters": params.to_json(),
        "tables": tables,
        "content_hash": market_hash,
        "hash_method": (
            "per table: sum mod 2^64 over rows of a splitmix64 hash of each row's values, "
            "in two lanes (independent of chunking and file layout)"
        ),
        "run": {
            "chunk_size": chunk_size,
            "workers": workers,
            "chunks": len(chunks),
            "seconds": round(time.perf_counter() - started, 3),
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
    logger.info("market of %d enterprises x %d months written", n, params.months)
    return manifest
