"""Environmental penalties and their truth in the synthetic market (schema 1.3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from puhui.market import schema, store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.simulate import simulate_chunk


def _penalised(market: Path) -> pl.DataFrame:
    counts = store.read(market, "environmental_penalties").group_by("uscc").agg(n=pl.len())
    return (
        store.read(market, "environment_truth")
        .join(counts, on="uscc", how="left")
        .with_columns(penalised=pl.col("n").fill_null(0) > 0)
    )


def test_polluters_are_penalised_far_more_often_than_clean_enterprises(
    green_market: Path,
) -> None:
    rates = dict(
        _penalised(green_market).group_by("is_polluter").agg(pl.col("penalised").mean()).iter_rows()
    )
    assert rates[True] > 0.35
    assert rates[False] < 0.06
    assert rates[True] > 8 * rates[False]


def test_truth_covers_every_registered_enterprise_and_is_consistent(green_market: Path) -> None:
    truth = store.read(green_market, "environment_truth")
    enterprises = store.read(green_market, "enterprises")
    assert truth.get_column("uscc").sort().equals(enterprises.get_column("uscc").sort())
    assert truth.filter(
        pl.col("is_green") != (pl.col("green_activity") & ~pl.col("is_polluter"))
    ).is_empty()
    assert 0.03 < truth.get_column("is_polluter").mean() < 0.2  # type: ignore[operator]


def test_green_activity_follows_the_division(green_market: Path) -> None:
    joined = store.read(green_market, "environment_truth").join(
        store.read(green_market, "enterprises").select("uscc", "industry_code"), on="uscc"
    )
    share = dict(joined.group_by("industry_code").agg(pl.col("green_activity").mean()).iter_rows())
    assert share["C38"] > 0.25
    assert share["F52"] < 0.05


def test_penalty_rows_follow_the_contract(green_market: Path) -> None:
    penalties = store.read(green_market, "environmental_penalties")
    assert penalties.height > 50
    assert set(penalties.get_column("source").unique()) == {"administrative", "court"}
    assert set(penalties.get_column("severity").unique()) == {"minor", "serious"}
    assert penalties.filter(pl.col("amount_fen") <= 0).is_empty()
    assert penalties.filter(
        pl.col("decision_date").dt.truncate("1mo") != pl.col("month")
    ).is_empty()
    assert penalties.select("penalty_id", "uscc").is_duplicated().sum() == 0
    known = set(store.read(green_market, "enterprises").get_column("uscc"))
    assert set(penalties.get_column("uscc")) <= known
    assert not set(penalties.columns) & schema.TRUTH_ONLY_COLUMNS


def test_chunking_does_not_change_the_penalties(green_market: Path, tmp_path: Path) -> None:
    params = store.read_parameters(green_market)
    out = tmp_path / "other-chunks"
    generate_market(params, out, chunk_size=1_700)
    for name in ("environmental_penalties", "environment_truth"):
        a = store.read(green_market, name).sort(schema.TABLES[name].key)
        b = store.read(out, name).sort(schema.TABLES[name].key)
        assert a.equals(b), name


def test_one_month_more_only_appends_penalties() -> None:
    base = MarketParams(enterprises=600, months=24, start=date(2023, 1, 1), seed=3)
    longer = MarketParams(enterprises=600, months=25, start=base.start, seed=3)
    a = simulate_chunk(base, 0, 600)["environmental_penalties"]
    b = simulate_chunk(longer, 0, 600)["environmental_penalties"]
    key = list(schema.ENVIRONMENTAL_PENALTIES.key)
    assert a.sort(key).equals(b.filter(pl.col("month") < pl.date(2025, 1, 1)).sort(key))
