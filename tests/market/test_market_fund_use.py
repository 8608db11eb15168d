"""Draw outflows (资金流向): exact amounts that agree with the settlement table, misuse only in
truth/, misuse likelier for shells, packaged applicants and distressed firms."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.market import schema, store
from puhui.market.params import MarketParams
from puhui.market.simulate import simulate_chunk
from puhui.market.simulation.activity import activity
from puhui.market.simulation.bureau import other_lenders
from puhui.market.simulation.contagion import contagion
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.factors import common_factors
from puhui.market.simulation.fund_use import (
    cumulative_split,
    month_bounds,
    spread,
    usual_payments,
)
from puhui.market.simulation.latent import latent_path
from puhui.market.simulation.settlement import account_flows

TYPES = list(schema.COUNTERPARTY_TYPES)
DIVERTED = ["related_owner", "securities_real_estate", "other_lenders"]


@pytest.fixture(scope="module")
def outflows(small_market: Path) -> pl.DataFrame:
    return store.read(small_market, "draw_outflows")


@pytest.fixture(scope="module")
def truth(small_market: Path) -> pl.DataFrame:
    return store.read(small_market, "draw_use_truth")


def test_the_misuse_flags_live_only_under_truth() -> None:
    assert schema.DRAW_OUTFLOWS.folder == "tables/draw_outflows"
    assert schema.TRUTH_DRAW_USE.folder == "truth/draw_use_truth"
    public = set(schema.DRAW_OUTFLOWS.column_names)
    assert not public & {"is_misuse", "misuse_type", "diverted_fen", "diverted_share"}


def test_every_draw_has_every_type_in_every_period_it_shows(outflows: pl.DataFrame) -> None:
    per_period = outflows.group_by("application_id", "days_from_draw").agg(
        pl.col("counterparty_type").sort()
    )
    assert per_period["counterparty_type"].to_list() == [sorted(TYPES)] * per_period.height
    assert set(outflows["days_from_draw"].unique().to_list()) <= set(range(-30, 60, 10))
    assert outflows["amount_fen"].min() >= 0  # type: ignore[operator]
    assert outflows.select(schema.DRAW_OUTFLOWS.key).is_unique().all()


def test_one_draw_per_application_with_the_legacy_principal_when_granted(
    small_market: Path, outflows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    apps = store.read(small_market, "applications")
    draws = outflows.unique("application_id").join(apps, on="application_id")
    assert draws.height == outflows["application_id"].n_unique()
    assert truth.height == draws.height
    lag = (draws["draw_date"] - draws["application_date"]).dt.total_days()
    assert lag.min() >= 0
    assert lag.max() <= 3
    loans = store.read(small_market, "loan_history").unique("loan_id")
    granted = draws.filter(pl.col("loan_id").is_not_null()).join(
        loans.select("loan_id", "application_id", "principal_fen"), on=["loan_id", "application_id"]
    )
    assert granted.height == draws["loan_id"].drop_nulls().len() > 0
    assert (granted["draw_amount_fen"] == granted["principal_fen"]).all()
    others = draws.filter(pl.col("loan_id").is_null())
    assert (others["draw_amount_fen"] == others["requested_amount_fen"]).all()


def test_the_rows_of_a_draw_add_up_to_usual_payments_plus_the_whole_draw(
    small_market: Path, truth: pl.DataFrame
) -> None:
    """Over the 60 days after a draw the debits are the settlement outflow of those days
    (spread evenly over each month) plus exactly the amount drawn. Each counterparty type is
    spread on its own, so a part month may differ from spreading the total by a fen per type
    (whole months agree exactly: next test)."""
    params = store.read_parameters(small_market)
    frames = simulate_chunk(params, 0, 400)
    rows = frames["draw_outflows"]
    settlement = frames["settlement_monthly"].select("uscc", "month", "outflow_fen")
    complete = (
        rows.filter(pl.col("days_from_draw") >= 0)
        .group_by("application_id")
        .agg(
            pl.col("uscc").first(),
            pl.col("draw_date").first(),
            pl.col("draw_amount_fen").first(),
            pl.col("days_from_draw").n_unique().alias("periods"),
            pl.col("amount_fen").sum().alias("debits_fen"),
        )
        .filter(pl.col("periods") == 6)
    )
    assert complete.height > 20
    for row in complete.iter_rows(named=True):
        usual = _spread_outflow(settlement, row["uscc"], row["draw_date"], 60)
        slack = abs(row["debits_fen"] - usual - row["draw_amount_fen"])
        assert slack <= 3 * len(TYPES), row["application_id"]


def test_usual_payments_split_the_settlement_outflow_exactly(small_market: Path) -> None:
    """By type, a month's usual payments add up to ``outflow_fen``; the related-party type is
    ``related_party_transfer_fen``; spreading a month over its days loses nothing."""
    params = store.read_parameters(small_market)
    ctx = ChunkContext.for_slots(params, 0, 300)
    factors = common_factors(params)
    latent = latent_path(ctx, factors, contagion(ctx, factors).shock)
    business = activity(ctx, latent)
    flows = account_flows(ctx, latent, business)
    usual = usual_payments(ctx, latent, flows, other_lenders(ctx, latent), np.arange(len(ctx.slot)))
    assert (usual >= 0).all()
    outflow = np.where(latent.alive, flows.outflow_fen, 0)
    assert (usual.sum(axis=2) == outflow).all()
    related = np.round(flows.related_yuan * 100).astype(np.int64)
    alive = latent.alive & (related <= outflow)
    assert (usual[:, :, 2][alive] == related[alive]).all()
    bounds = month_bounds(ctx)
    month = np.full(len(ctx.slot), 3, dtype=np.int64)
    cuts = bounds[3] + np.array([0, 7, 10, 19, 30, bounds[4] - bounds[3]])
    pieces = [
        spread(usual[:, 3], month, np.full_like(month, lo), np.full_like(month, hi), bounds)
        for lo, hi in itertools.pairwise(cuts)
    ]
    assert (sum(pieces) == usual[:, 3]).all()
    assert all((piece >= 0).all() for piece in pieces)


def _spread_outflow(settlement: pl.DataFrame, uscc: str, start: date, days: int) -> int:
    """The month outflows spread over days [start, start + days) by cumulative floors."""
    monthly = dict(
        settlement.filter(pl.col("uscc") == uscc).select("month", "outflow_fen").iter_rows()
    )
    total = 0
    day = start
    end = start + timedelta(days=days)
    while day < end:
        month = date(day.year, day.month, 1)
        nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        stop = min(end, nxt)
        length = (nxt - month).days
        value = monthly.get(month, 0)
        a, b = (day - month).days, (stop - month).days
        total += value * b // length - value * a // length
        day = stop
    return total


def test_misuse_is_likelier_for_shells_packaged_and_distressed(
    small_market: Path, truth: pl.DataFrame
) -> None:
    apps = store.read(small_market, "applications_truth")
    joined = truth.join(apps, on="application_id")
    ordinary = joined.filter(~pl.col("is_fraud") & ~pl.col("is_packaged"))
    risky = joined.filter(pl.col("is_fraud") | pl.col("is_packaged"))
    assert risky.height > 10
    assert risky["is_misuse"].mean() > 3 * ordinary["is_misuse"].mean()  # type: ignore[operator]
    assert 0.0 < ordinary["is_misuse"].mean() < 0.2  # type: ignore[operator]
    misused = truth.filter("is_misuse")
    assert set(misused["misuse_type"].unique().to_list()) <= set(DIVERTED)
    assert (
        truth.filter(~pl.col("is_misuse"))["misuse_type"].null_count()
        == truth.filter(~pl.col("is_misuse")).height
    )


def test_clean_draws_mostly_pay_suppliers_and_wages_yet_some_pay_the_owner(
    outflows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    clean = truth.filter(~pl.col("is_misuse"))
    assert clean["diverted_share"].median() < 0.05  # type: ignore[operator]
    assert (clean["diverted_fen"] > 0).mean() > 0.3  # type: ignore[operator]
    misused = truth.filter("is_misuse")
    assert misused["diverted_share"].median() > 0.4  # type: ignore[operator]
    post = outflows.filter(pl.col("days_from_draw").is_between(0, 20)).join(
        clean.select("application_id"), on="application_id"
    )
    by_type = post.group_by("counterparty_type").agg(pl.col("amount_fen").sum())
    shares = dict(by_type.iter_rows())
    assert shares["suppliers"] + shares["wages_tax"] > 0.7 * sum(shares.values())


def test_cumulative_split_is_exact_and_proportional() -> None:
    total = np.array([100, 7, 0, 1_000_000_001], dtype=np.int64)
    weights = np.array([[1.0, 1.0, 1.0], [0.5, 0.0, 0.5], [1.0, 2.0, 3.0], [0.1, 0.2, 0.7]])
    parts = cumulative_split(total, weights)
    assert (parts.sum(axis=1) == total).all()
    assert (parts >= 0).all()
    assert parts[1, 1] == 0
    assert abs(parts[3, 2] - 700_000_000) <= 1


def test_draw_outflows_are_deterministic_by_seed() -> None:
    params = MarketParams(enterprises=300, months=14, start=date(2024, 3, 1), seed=5)
    a = simulate_chunk(params, 0, 300)
    b = simulate_chunk(params, 0, 300)
    assert a["draw_outflows"].equals(b["draw_outflows"])
    assert a["draw_use_truth"].equals(b["draw_use_truth"])
    other = simulate_chunk(MarketParams(300, 14, date(2024, 3, 1), seed=6), 0, 300)
    assert not a["draw_outflows"].equals(other["draw_outflows"])
