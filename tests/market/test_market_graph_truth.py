"""Relationship patterns for graph detectors: invoice round trips, guarantee circles and
contagion along guarantees, each matched by its hidden truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from puhui.market import store
from puhui.market.catalog import INDUSTRIES
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.population import ring_ids
from puhui.market.simulation.contagion import SHOCK_MONTHS, contagion
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.factors import common_factors
from puhui.market.simulation.latent import latent_path

MODERATE = MarketParams(enterprises=12_000, months=36, start=date(2023, 1, 1), seed=11)
B2B_GROUPS = [i.group for i in INDUSTRIES if i.b2b_share > 0.5]


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "moderate"
    generate_market(MODERATE, out, chunk_size=5_000)
    return out


def _round_trippers(market: Path) -> pl.DataFrame:
    return (
        store.read(market, "enterprises_truth")
        .filter(pl.col("round_trip_id").is_not_null())
        .select("uscc", "round_trip_id", "is_shell")
    )


def _legs(market: Path) -> pl.DataFrame:
    """Invoices between two members of the same round-trip cycle."""
    members = _round_trippers(market)
    return (
        store.read(market, "invoices")
        .join(
            members.select(pl.col("uscc").alias("seller_uscc"), "round_trip_id"), on="seller_uscc"
        )
        .join(
            members.select(pl.col("uscc").alias("buyer_uscc"), pl.col("round_trip_id").alias("b")),
            on="buyer_uscc",
        )
        .filter(pl.col("round_trip_id") == pl.col("b"))
    )


def test_round_trippers_are_genuine_general_taxpayers_in_b2b_trades(market: Path) -> None:
    members = _round_trippers(market)
    assert members.height >= 0.007 * MODERATE.enterprises
    assert not members["is_shell"].any()
    sizes = members.group_by("round_trip_id").len()["len"]
    assert sizes.is_in([2, 3]).all()
    registry = store.read(market, "enterprises").join(members, on="uscc")
    assert (registry["taxpayer_type"] == "general").all()
    assert registry["industry_group"].is_in(B2B_GROUPS).all()


def test_round_trip_cycles_invoice_near_equal_amounts_each_month(market: Path) -> None:
    members = _round_trippers(market)
    legs = _legs(market)
    # Inside a cycle every member invoices exactly one member and is invoiced by one.
    edges = legs.select("round_trip_id", "seller_uscc", "buyer_uscc").unique()
    assert (edges.group_by("seller_uscc").len()["len"] == 1).all()
    assert (edges.group_by("buyer_uscc").len()["len"] == 1).all()
    size = members.group_by("round_trip_id").len().rename({"len": "size"})
    months = (
        legs.group_by("round_trip_id", "month")
        .agg(
            pl.len().alias("legs"),
            (pl.col("amount_fen").max() / pl.col("amount_fen").min()).alias("spread"),
        )
        .join(size, on="round_trip_id")
    )
    full = months.filter(pl.col("legs") == pl.col("size"))
    # A cycle runs with all its legs (until a member defaults), each month's legs within 5%
    # of each other; every cycle of the truth runs in the window, most for several months.
    assert months.height == full.height
    assert full["spread"].max() <= 1.05
    per_cycle = full.group_by("round_trip_id").len()["len"]
    assert per_cycle.len() == size.height
    assert per_cycle.median() >= 6


def test_near_equal_mutual_invoicing_of_genuine_firms_is_a_designed_round_trip(
    market: Path,
) -> None:
    truth = store.read(market, "enterprises_truth")
    shells = truth.filter("is_shell")["uscc"]
    inv = store.read(market, "invoices").filter(~pl.col("seller_uscc").is_in(shells.implode()))
    back = inv.select(
        pl.col("seller_uscc").alias("buyer_uscc"),
        pl.col("buyer_uscc").alias("seller_uscc"),
        "month",
        pl.col("amount_fen").alias("back_fen"),
    )
    mutual = (
        inv.join(back, on=["seller_uscc", "buyer_uscc", "month"])
        .filter((pl.col("amount_fen") - pl.col("back_fen")).abs() <= 0.05 * pl.col("amount_fen"))
        .group_by("seller_uscc", "buyer_uscc")
        .len()
        .filter(pl.col("len") >= 3)
    )
    assert mutual.height > 0
    ids = truth.select("uscc", "round_trip_id")
    found = mutual.join(ids.rename({"uscc": "seller_uscc"}), on="seller_uscc").join(
        ids.rename({"uscc": "buyer_uscc", "round_trip_id": "b"}), on="buyer_uscc"
    )
    assert found.height == mutual.height
    assert (found["round_trip_id"] == found["b"]).all()  # nulls would make this fail


def test_round_trippers_invoice_more_than_they_declare(market: Path) -> None:
    truth = store.read(market, "enterprises_truth").select("uscc", "round_trip_id")
    registry = store.read(market, "enterprises").filter(
        (pl.col("taxpayer_type") == "general") & pl.col("industry_group").is_in(B2B_GROUPS)
    )
    legs = _legs(market).select("round_trip_id", "month").unique()
    invoiced = (
        store.read(market, "invoices")
        .group_by(pl.col("seller_uscc").alias("uscc"), "month")
        .agg(pl.col("amount_fen").sum().alias("invoiced"))
    )
    ratio = (
        store.read(market, "tax_monthly")
        .join(registry.select("uscc"), on="uscc")
        .join(truth, on="uscc")
        .join(invoiced, on=["uscc", "month"])
        .filter(pl.col("declared_sales_fen") > 0)
        .with_columns((pl.col("invoiced") / pl.col("declared_sales_fen")).alias("ratio"))
    )
    tripping = ratio.join(legs, on=["round_trip_id", "month"])
    others = ratio.filter(pl.col("round_trip_id").is_null())
    assert tripping.height > 100
    assert tripping["ratio"].median() > others["ratio"].median() + 0.2


def test_guarantee_circles_of_the_truth_are_the_three_cycles_of_guarantees(
    small_market: Path,
) -> None:
    truth = store.read(small_market, "enterprises_truth").filter(
        pl.col("guarantee_circle_id").is_not_null()
    )
    assert truth.height >= 9
    assert (truth.group_by("guarantee_circle_id").len()["len"] == 3).all()
    g = store.read(small_market, "guarantees").select("guarantor_uscc", "borrower_uscc")
    a, b, c = (g.rename({"guarantor_uscc": x, "borrower_uscc": y}) for x, y in ("ab", "bc", "ca"))
    cycles = a.join(b, on="b").join(c, on=["c", "a"])
    found = {frozenset(row) for row in cycles.select("a", "b", "c").iter_rows()}
    designed = {
        frozenset(group["uscc"])
        for group in truth.partition_by("guarantee_circle_id", include_key=False)
    }
    assert found == designed


def test_a_partners_default_makes_circle_members_default_more_often() -> None:
    """The same circle members with and without the contagion shock (a counterfactual, on
    the 2,900 circle members of a 200,000-slot market)."""
    params = MarketParams(enterprises=200_000, months=36, start=date(2023, 1, 1), seed=3)
    slots = np.arange(params.enterprises)
    members = slots[ring_ids(params.seed, params.enterprises, slots)[3] >= 0]
    ctx = ChunkContext.of(params, members)
    factors = common_factors(params)
    spread = contagion(ctx, factors)
    shocked = latent_path(ctx, factors, spread.shock)
    unshocked = latent_path(ctx, factors, np.zeros_like(spread.shock))
    circle = spread.channel == 0  # a member may also guarantee a firm outside its circle
    assert circle.sum() >= 300

    def share_defaulting_after_exposure(default: npt.NDArray[np.int64]) -> float:
        after = default[spread.row[circle]] - spread.first[circle]
        return float(((after >= 0) & (after < SHOCK_MONTHS + 6)).mean())

    with_shock = share_defaulting_after_exposure(shocked.default)
    without = share_defaulting_after_exposure(unshocked.default)
    assert with_shock > 4 * without
    assert with_shock > 0.15
    # The shock only brings defaults forward, and only of exposed firms.
    assert (shocked.default <= unshocked.default).all()
    exposed = np.zeros(len(members), dtype=bool)
    exposed[spread.row] = True
    assert (shocked.default[~exposed] == unshocked.default[~exposed]).all()
    assert (shocked.hastened == (shocked.default < unshocked.default)).all()


def test_contagion_events_name_a_partner_that_defaulted_first(market: Path) -> None:
    events = store.read(market, "contagion_events")
    assert events.height >= 3
    truth = store.read(market, "enterprises_truth").select(
        "uscc", "default_month", "guarantee_circle_id"
    )
    source = truth.rename(
        {
            "uscc": "source_uscc",
            "default_month": "source_default",
            "guarantee_circle_id": "source_circle",
        }
    )
    joined = events.join(truth, on="uscc").join(source, on="source_uscc")
    assert joined.height == events.height
    assert (joined["default_month"] == joined["month"]).all()
    assert (joined["source_default"] < joined["month"]).all()
    circle = joined.filter(pl.col("channel") == "circle")
    assert (circle["guarantee_circle_id"] == circle["source_circle"]).all()
    guarantee = joined.filter(pl.col("channel") == "guarantee").select(
        pl.col("uscc").alias("guarantor_uscc"), pl.col("source_uscc").alias("borrower_uscc")
    )
    links = store.read(market, "guarantees")
    assert guarantee.join(links, on=["guarantor_uscc", "borrower_uscc"]).height == guarantee.height
    assert set(joined["channel"]) <= {"circle", "guarantee"}
