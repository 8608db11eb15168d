"""Invoice round trips (循环开票): genuine firms that invoice each other to inflate sales.

About 1% of enterprises, general taxpayers in business-to-business trades and weaker than
their peers, form cycles of two or three inside one block of slots (like fraud rings and
guarantee circles, so any chunk can work out its partners). For 6-18 months from a drawn
month each member invoices the next one nearly the same amount every month: the amount is
drawn from the cycle's own key, never from a member's sales, so the sellers' chunks agree
on it. The invoices come on top of the firms' real trade and are not in their declared
sales, settlement flows or anything else: invoiced sales look bigger than the business.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from puhui.market.catalog import INDUSTRIES
from puhui.market.hashing import Streams
from puhui.market.params import MarketParams
from puhui.market.population import (
    CORE_OFFSET,
    CORE_STRIDE,
    NO_MONTH,
    RING_BLOCK,
    StaticStream,
    block_layout,
    statics,
)
from puhui.market.simulation.contagion import contagion
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.factors import CommonFactors
from puhui.market.simulation.latent import latent_path
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

ROUND_TRIP_SHARE = 0.01
MAX_CYCLES_PER_BLOCK = 64
START_SPAN = (-3, 24)
"""A cycle starts in this range of months relative to the start month (a fixed plan, so
one month more only appends)."""
LENGTH_SPAN = (6, 19)
"""A cycle runs for 6 to 18 months."""
WEAK_HEALTH = 0.0
"""Only firms with a base health below this take part (the median general taxpayer in a
business-to-business trade is at about 0.1)."""
EDGE_SPREAD = 0.012
"""Each invoice of a cycle differs from the cycle's monthly amount by at most 1.5 times
this (1.8%), so any two legs of a month are within 5% of each other."""


@dataclass(frozen=True)
class CycleLayout:
    """The round-trip cycles of one block."""

    members: tuple[I64, ...]  # per cycle: slot offsets in cycle order
    monthly_yuan: F64  # per cycle: normal monthly revenue of its smallest member


@lru_cache(maxsize=512)
def cycle_layout(params: MarketParams, block: int) -> CycleLayout:
    """Cycles are cut, in the block's hashed order, from the slots in neither a ring nor a
    circle that qualify. Their statics do not depend on the window, so neither do cycles."""
    streams = Streams(params.seed)
    base = block * RING_BLOCK
    size = min(RING_BLOCK, params.enterprises - base)
    spare = block_layout(params.seed, params.enterprises, block).spare + base
    spare_statics = statics(params, spare)
    b2b = np.array([i.b2b_share for i in INDUSTRIES])[spare_statics.industry]
    eligible = (
        spare_statics.is_general
        & (b2b > 0.5)
        & (spare % CORE_STRIDE != CORE_OFFSET)
        & (spare_statics.base_health < WEAK_HEALTH)
    )
    candidates = np.nonzero(eligible)[0]
    target = min(
        int(size * ROUND_TRIP_SHARE + streams.uniform(StaticStream.ROUND_TRIP_COUNT, [block])[0]),
        len(candidates),
    )
    members: list[I64] = []
    taken = 0
    for k in range(MAX_CYCLES_PER_BLOCK):
        key = block * MAX_CYCLES_PER_BLOCK + k
        n = 2 if streams.uniform(StaticStream.ROUND_TRIP_SIZE, [key])[0] < 0.5 else 3
        if taken + n > target:
            break
        members.append(candidates[taken : taken + n])
        taken += n
    monthly = spare_statics.revenue_yuan / 12.0
    return CycleLayout(
        members=tuple((spare[m] - base).astype(np.int64) for m in members),
        monthly_yuan=np.array([monthly[m].min() for m in members], dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class RoundTrips:
    """The chunk's round-trip cycle members (per chunk row)."""

    cycle: I64  # global cycle id; -1 if none, or if the cycle never runs in the window
    partner: I64  # slot of the next member, whom the row invoices; -1 if none
    first: I64  # first month of the cycle's invoices
    end: I64  # month after the last: the planned length, cut short by a member's default
    amount_yuan: F64  # the cycle's monthly amount before the monthly draws
    invoice_yuan: F64  # the cycle's usual invoice size


def round_trips(ctx: ChunkContext, factors: CommonFactors) -> RoundTrips:
    params, slot = ctx.params, ctx.slot
    n = len(slot)
    cycle = np.full(n, -1, dtype=np.int64)
    partner = np.full(n, -1, dtype=np.int64)
    monthly = np.zeros(n)
    member_cycle: list[I64] = []
    member_slot: list[I64] = []
    for b in np.unique(slot // RING_BLOCK):
        layout = cycle_layout(params, int(b))
        base = int(b) * RING_BLOCK
        for local, members in enumerate(layout.members):
            at = np.minimum(np.searchsorted(slot, members + base), n - 1)
            inside = slot[at] == members + base
            if not inside.any():
                continue
            gid = int(b) * MAX_CYCLES_PER_BLOCK + local
            rows = at[inside]
            cycle[rows] = gid
            partner[rows] = np.roll(members, -1)[inside] + base
            monthly[rows] = layout.monthly_yuan[local]
            member_cycle.append(np.full(len(members), gid, dtype=np.int64))
            member_slot.append(members + base)
    streams = Streams(params.seed)
    first = streams.integers(StaticStream.ROUND_TRIP_START, *START_SPAN, cycle)
    end = first + streams.integers(StaticStream.ROUND_TRIP_MONTHS, *LENGTH_SPAN, cycle)
    if member_slot:
        # The cycle stops when any member defaults: every member's path, whatever its chunk.
        members_ctx = ChunkContext.of(params, np.concatenate(member_slot))
        spread = contagion(members_ctx, factors)
        default = latent_path(members_ctx, factors, spread.shock).default
        gids, inverse = np.unique(np.concatenate(member_cycle), return_inverse=True)
        first_default = np.full(len(gids), NO_MONTH, dtype=np.int64)
        np.minimum.at(first_default, inverse, default)
        end = np.minimum(end, first_default[np.searchsorted(gids, np.maximum(cycle, 0))])
    runs = (cycle >= 0) & (np.maximum(first, 0) < np.minimum(end, ctx.months))
    level = 0.3 + 0.5 * streams.uniform(StaticStream.ROUND_TRIP_AMOUNT, cycle)
    invoice = 50_000.0 * np.exp(0.4 * streams.normal(StaticStream.ROUND_TRIP_INVOICE, cycle))
    return RoundTrips(
        cycle=np.where(runs, cycle, -1),
        partner=np.where(runs, partner, -1),
        first=first,
        end=end,
        amount_yuan=monthly * level,
        invoice_yuan=invoice,
    )


def round_trip_amounts(ctx: ChunkContext, trips: RoundTrips, row: I64, month: I64) -> F64:
    """Amount (yuan) the chunk row invoices its partner in each observed month: the cycle's
    amount of the month times a small draw of the seller's own, to the nearest 100 yuan."""
    cycle = trips.cycle[row]
    common = np.exp(0.15 * ctx.streams.normal(MonthlyStream.ROUND_TRIP, cycle, month))
    own = 1.0 + EDGE_SPREAD * np.clip(
        ctx.streams.normal(MonthlyStream.ROUND_TRIP_LEG, ctx.slot[row], month), -1.5, 1.5
    )
    out: F64 = np.round(trips.amount_yuan[row] * common * own, -2)
    return out
