"""Sales invoices between enterprises (增值税发票): a supply-chain graph with core enterprises."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.catalog import INDUSTRIES
from puhui.market.population import CORE_OFFSET, CORE_STRIDE, ring_member_slots, statics
from puhui.market.simulation.activity import Activity
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.round_trips import RoundTrips, round_trip_amounts
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class TradeLinks:
    """Seller → buyer relationships of the chunk's sellers, one row per pair."""

    seller: I64  # row index into the chunk's slots
    buyer: I64  # slot anywhere in the market
    share: F64  # share of the seller's sales that goes to the buyer
    pair_key: I64  # entity key of the pair's monthly draws
    circular: BOOL  # a fraud ring's circular invoicing
    round_trip: BOOL  # a genuine firm invoicing the next member of its round-trip cycle


def core_enterprise_count(n_slots: int) -> int:
    if n_slots <= CORE_OFFSET:
        return 0
    return (n_slots - CORE_OFFSET + CORE_STRIDE - 1) // CORE_STRIDE


def trade_links(ctx: ChunkContext, trips: RoundTrips) -> TradeLinks:
    """Each B2B seller sells to one to five buyers (a third of them core enterprises); shells
    invoice the next member of their ring (a cycle) and one outside company; round-trip
    members invoice the next member of their cycle (and no trade of theirs goes to it)."""
    chunk, streams, slot, n_slots = ctx.statics, ctx.streams, ctx.slot, ctx.n_slots
    b2b = np.array([i.b2b_share for i in INDUSTRIES])[chunk.industry]
    issues = ~chunk.is_shell & ((b2b > 0.5) | (streams.uniform(MonthlyStream.INV_B2B, slot) < 0.1))
    size = np.clip(chunk.revenue_yuan / 2e6, 0.3, 3.0)
    k = np.where(
        issues, np.minimum(1 + streams.poisson(MonthlyStream.INV_K, 0.5 * size, slot), 5), 0
    )
    seller = np.repeat(np.arange(len(slot)), k)
    j = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    pair_key = slot[seller] * 8 + j
    n_core = core_enterprise_count(n_slots)
    to_core = (streams.uniform(MonthlyStream.INV_CORE, pair_key) < 0.35) & (n_core > 0)
    core_slot = (
        CORE_STRIDE * streams.integers(MonthlyStream.INV_BUYER, 0, max(n_core, 1), pair_key)
        + CORE_OFFSET
    )
    rand_slot = streams.integers(MonthlyStream.INV_BUYER + 1, 0, n_slots, pair_key)
    buyer = np.where(to_core, core_slot, rand_slot)
    weight = -np.log(streams.uniform(MonthlyStream.INV_W, pair_key))
    wsum = np.zeros(len(slot))
    np.add.at(wsum, seller, weight)
    share = weight / np.maximum(wsum[seller], 1e-12) * b2b[seller]
    # Shell rings: each member invoices the next (a cycle) and one outside company.
    shells = np.nonzero(chunk.is_shell)[0]
    nxt = np.array(
        [
            ring_member_slots(ctx.params.seed, n_slots, int(g))[(int(ps) + 1) % int(sz)]
            for g, ps, sz in zip(
                chunk.ring_gid[shells], chunk.ring_pos[shells], chunk.ring_size[shells], strict=True
            )
        ],
        dtype=np.int64,
    )
    outsider = streams.integers(MonthlyStream.INV_BUYER + 2, 0, n_slots, slot[shells])
    n_shells = len(shells)
    trippers = np.nonzero(trips.cycle >= 0)[0]
    n_trippers = len(trippers)
    seller = np.concatenate([seller, shells, shells, trippers])
    buyer = np.concatenate([buyer, nxt, outsider, trips.partner[trippers]])
    share = np.concatenate(
        [share, np.full(n_shells, 0.65), np.full(n_shells, 0.35), np.zeros(n_trippers)]
    )
    pair_key = np.concatenate(
        [pair_key, slot[shells] * 8 + 6, slot[shells] * 8 + 7, slot[trippers] * 8 + 5]
    )
    kind = np.repeat([0, 1, 1, 2], [len(j), n_shells, n_shells, n_trippers])
    keep = (buyer != slot[seller]) & ((kind == 2) | (buyer != trips.partner[seller]))
    seller, buyer, share, pair_key, kind = (
        seller[keep],
        buyer[keep],
        share[keep],
        pair_key[keep],
        kind[keep],
    )
    # Two draws of one seller can name the same buyer: merge them into one relationship.
    pair = seller * np.int64(n_slots + 1) + buyer
    uniq, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    merged = np.zeros(len(uniq))
    np.add.at(merged, inverse, share)
    return TradeLinks(
        seller=seller[first],
        buyer=buyer[first],
        share=merged,
        pair_key=pair_key[first],
        circular=kind[first] == 1,
        round_trip=kind[first] == 2,
    )


def invoices_table(
    ctx: ChunkContext, latent: LatentPath, business: Activity, ids: Identity, trips: RoundTrips
) -> pl.DataFrame:
    streams, window = ctx.streams, ctx.window
    links = trade_links(ctx, trips)
    seller, buyer, share, pair_key, circular, round_trip = (
        links.seller,
        links.buyer,
        links.share,
        links.pair_key,
        links.circular,
        links.round_trip,
    )
    buyers, binv = np.unique(buyer, return_inverse=True)
    buyer_statics = statics(ctx.params, buyers)
    ok_buyer = ~buyer_statics.is_shell[binv] | circular
    seller, share, pair_key, circular, round_trip, binv = (
        seller[ok_buyer],
        share[ok_buyer],
        pair_key[ok_buyer],
        circular[ok_buyer],
        round_trip[ok_buyer],
        binv[ok_buyer],
    )
    revenue = business.revenue_yuan
    # One row per (pair, month) when the seller sold and the buyer was registered; a
    # round trip runs over its cycle's months.
    active = (revenue[seller] > 0) & (window[None, :] >= buyer_statics.reg_month[binv][:, None])
    in_cycle = (window[None, :] >= trips.first[seller][:, None]) & (
        window[None, :] < trips.end[seller][:, None]
    )
    active &= np.where(round_trip[:, None], in_cycle, True)
    pi, pt = np.nonzero(active)
    pk = pair_key[pi]
    amount = (
        revenue[seller[pi], pt]
        * share[pi]
        * np.exp(np.where(circular[pi], 0.0, 0.1 * streams.normal(MonthlyStream.INV_AMT, pk, pt)))
    )
    amount = np.where(circular[pi], np.round(amount, -4), amount)
    tripped = np.nonzero(round_trip[pi])[0]
    amount[tripped] = round_trip_amounts(ctx, trips, seller[pi][tripped], pt[tripped])
    avg_inv = np.where(
        circular[pi], 100_000.0, 20_000.0 * np.exp(0.5 * streams.normal(MonthlyStream.INV_SIZE, pk))
    )
    avg_inv[tripped] = trips.invoice_yuan[seller[pi][tripped]]
    count = np.maximum(1, np.round(amount / avg_inv)).astype(np.int64)
    stress = latent.in_distress[seller[pi], pt].astype(np.float64)
    void_rate = np.where(circular[pi], 0.08, 0.01 + 0.04 * stress)
    voided = streams.poisson(MonthlyStream.INV_VOID, np.minimum(count * void_rate, 20.0), pk, pt)
    red = streams.poisson(
        MonthlyStream.INV_RED, np.minimum(count * (0.005 + 0.02 * stress), 20.0), pk, pt
    )
    return pl.DataFrame(
        {
            "seller_uscc": ids.uscc.gather(seller[pi]),
            "buyer_uscc": ctx.uscc_of(buyers).gather(binv[pi]),
            "month": date_series("month", ctx.month_days[pt]),
            "amount_fen": np.round(amount * 100).astype(np.int64),
            "invoice_count": count.astype(np.int32),
            "voided_count": voided.astype(np.int32),
            "red_letter_count": red.astype(np.int32),
        }
    )
