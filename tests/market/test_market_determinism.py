"""Same seed and parameters, same content: whatever the chunks, workers or extra months."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.market import schema, store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

TINY = MarketParams(enterprises=900, months=14, start=date(2024, 3, 1), seed=5)


def _hashes(path: Path) -> dict[str, str]:
    manifest = json.loads((path / "manifest.json").read_text())
    return {k: v["content_hash"] for k, v in manifest["tables"].items()}


@pytest.mark.slow  # starts two worker processes
def test_content_is_identical_whatever_the_chunk_size_and_worker_count(tmp_path: Path) -> None:
    whole = generate_market(TINY, tmp_path / "whole", chunk_size=900)
    chunked = generate_market(TINY, tmp_path / "chunked", chunk_size=250, workers=2)
    assert whole["content_hash"] == chunked["content_hash"]
    assert _hashes(tmp_path / "whole") == _hashes(tmp_path / "chunked")
    for table in schema.ALL_TABLES:
        a = store.read(tmp_path / "whole", table.name)
        b = store.read(tmp_path / "chunked", table.name)
        assert a.equals(b), table.name


def test_a_different_seed_gives_a_different_market(tmp_path: Path) -> None:
    a = generate_market(TINY, tmp_path / "a", chunk_size=900)
    other = MarketParams(TINY.enterprises, TINY.months, TINY.start, seed=6)
    b = generate_market(other, tmp_path / "b", chunk_size=900)
    assert a["content_hash"] != b["content_hash"]


_MONTH_COLUMN = {
    "enterprises": "registration_date",
    "guarantees": "start_month",
}


@pytest.mark.parametrize("table", list(schema.ALL_TABLES), ids=lambda t: t.name)
def test_generating_one_month_more_changes_nothing_earlier(
    table: schema.Table, small_market: Path, small_market_one_month_more: Path
) -> None:
    short = store.read(small_market, table.name)
    longer = store.read(small_market_one_month_more, table.name)
    cut = date(2025, 1, 1)  # the added month
    column = _MONTH_COLUMN.get(table.name, "month")
    if column in table.column_names:
        assert longer.filter(pl.col(column) < cut).equals(short.filter(pl.col(column) < cut))
        return
    # Tables without a month: rows of the shorter market are unchanged in the longer one,
    # except hidden facts that the added month reveals (a default that starts in it).
    key = list(table.key)
    if table.name == "enterprises_truth":
        stable = ["uscc", "enterprise_index", "fraud_ring_id", "is_shell", "base_health"]
        short, longer = short.select(stable), longer.select(stable)
    matched = longer.join(short.select(key), on=key, how="semi")
    assert matched.height == short.height
    assert matched.sort(key).equals(short.sort(key)), table.name


def test_digest_of_parts_adds_up_to_digest_of_the_whole() -> None:
    from puhui.market.digest import combine, frame_digest

    frame = pl.DataFrame(
        {
            "s": ["current", "written_off", None, "甲乙", "", "current", "x" * 40],
            "n": [1, 2, 3, None, 5, 6, 7],
            "f": [0.5, None, 1.5, 2.0, -1.0, 0.0, 3.25],
            "d": [date(2024, 1, 1)] * 7,
        }
    )
    whole = frame_digest(frame)
    for cut in range(1, frame.height):
        parts = combine(frame_digest(frame[:cut]), frame_digest(frame[cut:]))
        assert (parts == whole).all()
    changed = frame.with_columns(pl.col("s").fill_null("null"))
    assert (frame_digest(changed) != whole).any()
