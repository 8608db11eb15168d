"""Same seed and parameters, same content: whatever the chunks or workers; one month more
changes nothing earlier but the slots of a ring that registers in that month."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.market import schema, store
from puhui.market.generate import generate_market
from puhui.market.hashing import Streams
from puhui.market.params import MarketParams
from puhui.market.population import RING_REGISTRATION_SPAN, StaticStream, ring_ids

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
_USCC_COLUMNS = ("uscc", "seller_uscc", "buyer_uscc", "guarantor_uscc", "borrower_uscc")


def _slots_that_became_shells(short: Path, longer: Path) -> pl.DataFrame:
    """Slots of rings that register in the added month: ordinary firms in the shorter market
    (a ring forms only once it registers), shells in the longer one. Their uscc is the
    shorter market's."""
    became = store.read(longer, "enterprises_truth").filter("is_shell").select("enterprise_index")
    return (
        store.read(short, "enterprises_truth")
        .filter(~pl.col("is_shell"))
        .join(became, on="enterprise_index", how="semi")
        .select("enterprise_index", "uscc")
    )


def _without(
    frame: pl.DataFrame, table: schema.Table, short: Path, usccs: list[str]
) -> pl.DataFrame:
    """``frame`` (a table of the shorter market) without the rows that name these firms."""
    keep = pl.lit(True)
    for column in _USCC_COLUMNS:
        if column in table.column_names:
            keep = keep & ~pl.col(column).is_in(usccs)
    if table.name == "owners":
        enterprises = store.read(short, "enterprises").filter(pl.col("uscc").is_in(usccs))
        keep = keep & ~pl.col("id_number").is_in(enterprises["legal_rep_id_number"].to_list())
    if table.name == "applications_truth":
        applications = store.read(short, "applications").filter(pl.col("uscc").is_in(usccs))
        keep = keep & ~pl.col("application_id").is_in(applications["application_id"].to_list())
    return frame.filter(keep)


def _assert_earlier_rows_unchanged(
    table: schema.Table, short_dir: Path, longer_dir: Path, cut: date
) -> None:
    """Rows before ``cut`` (the added month) are the same in both markets, except rows that
    name the slots of a ring registering in the added month."""
    usccs = _slots_that_became_shells(short_dir, longer_dir)["uscc"].to_list()
    short = _without(store.read(short_dir, table.name), table, short_dir, usccs)
    longer = store.read(longer_dir, table.name)
    column = _MONTH_COLUMN.get(table.name, "month")
    if column in table.column_names:
        earlier = pl.col(column) < cut
        assert longer.filter(earlier).equals(short.filter(earlier)), table.name
        return
    # Tables without a month: rows of the shorter market are unchanged in the longer one,
    # except hidden facts that the added month reveals (a default that starts in it).
    key = list(table.key)
    if table.name == "enterprises_truth":
        stable = [
            "uscc",
            "enterprise_index",
            "fraud_ring_id",
            "is_shell",
            "base_health",
            "guarantee_circle_id",
        ]
        short, longer = short.select(stable), longer.select(stable)
    matched = longer.join(short.select(key), on=key, how="semi")
    assert matched.height == short.height, table.name
    assert matched.sort(key).equals(short.sort(key)), table.name


@pytest.mark.parametrize("table", list(schema.ALL_TABLES), ids=lambda t: t.name)
def test_generating_one_month_more_changes_nothing_earlier(
    table: schema.Table, small_market: Path, small_market_one_month_more: Path
) -> None:
    _assert_earlier_rows_unchanged(
        table, small_market, small_market_one_month_more, cut=date(2025, 1, 1)
    )


def _month_a_ring_registers(params: MarketParams) -> int:
    """A month offset (>= 1) in which some planned fraud ring of ``params`` registers."""
    planned = ring_ids(params.seed, params.enterprises, np.arange(params.enterprises))[0]
    gids = np.unique(planned[planned >= 0])
    months = Streams(params.seed).integers(StaticStream.RING_REG, *RING_REGISTRATION_SPAN, gids)
    return int(np.min(months[months >= 1]))


def test_a_ring_that_registers_in_the_added_month_changes_only_its_own_slots(
    tmp_path: Path,
) -> None:
    month = _month_a_ring_registers(TINY)
    short_params = MarketParams(TINY.enterprises, month, TINY.start, TINY.seed)
    longer_params = MarketParams(TINY.enterprises, month + 1, TINY.start, TINY.seed)
    generate_market(short_params, tmp_path / "short", chunk_size=900)
    generate_market(longer_params, tmp_path / "longer", chunk_size=450)
    became = _slots_that_became_shells(tmp_path / "short", tmp_path / "longer")
    assert became.height >= 2  # a ring has at least two members
    for path in (tmp_path / "short", tmp_path / "longer"):
        assert store.read(path, "enterprises").height == TINY.enterprises
    cut = short_params.month_date(month)
    for table in schema.ALL_TABLES:
        _assert_earlier_rows_unchanged(table, tmp_path / "short", tmp_path / "longer", cut)


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
