"""Static facts of every enterprise slot: a pure function of (seed, market size, slot)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from puhui.market.catalog import INDUSTRIES, REGIONS
from puhui.market.hashing import Streams
from puhui.market.params import MarketParams

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

RING_BLOCK = 4096
"""Fraud rings, guarantee circles and invoice round-trip cycles live inside blocks of this many
slots, so any chunk can work out a ring's members without seeing the rest of the market."""
SHELL_SHARE = 0.012
CIRCLE_SHARE = 0.015
CORE_STRIDE = 200
"""Slot ``i`` with ``i % CORE_STRIDE == CORE_OFFSET`` is a core enterprise (a supply-chain hub)."""
CORE_OFFSET = 7
MAX_RINGS_PER_BLOCK = 64
RING_REGISTRATION_SPAN = (-6, 48)
"""Shell rings register in this range of months relative to the start month."""


class StaticStream:
    """Stream ids of static draws (never renumber: it would change every market)."""

    PERM = 1
    N_SHELL = 2
    RING_SIZE = 3
    COMPANY = 10
    INDUSTRY = 11
    DIVISION = 12
    REGION = 13
    AGE = 14
    REVENUE = 15
    EMPLOYEES = 16
    CAPITAL = 17
    GENERAL = 18
    BASE_HEALTH = 19
    LEAD = 20
    REPORT_RATIO = 21
    PACKAGED = 22
    PACKAGED_MONTH = 23
    GROWTH = 24
    SETTLE_SHARE = 25
    LOANS_BASE = 26
    VA_SHARE = 27
    ORG_MULT = 28
    RING_REG = 30
    RING_ATTACK = 31
    RING_INDUSTRY = 32
    RING_REGION = 33
    RING_AMOUNT = 34
    RING_REPS = 35
    RING_DEFAULT_LAG = 36
    SHARED_OWNER = 37
    ROUND_TRIP_SIZE = 40
    ROUND_TRIP_START = 41
    ROUND_TRIP_MONTHS = 42
    ROUND_TRIP_AMOUNT = 43
    ROUND_TRIP_INVOICE = 44
    ROUND_TRIP_COUNT = 45


@dataclass(frozen=True)
class BlockLayout:
    """Who is a shell (and in which ring) and who is in a guarantee circle, in one block."""

    ring_local: I64  # per offset: ring number inside the block, -1 if not a shell
    ring_pos: I64  # position inside its ring
    ring_sizes: I64  # per ring
    ring_members: tuple[I64, ...]  # per ring: slot offsets in ring order
    circle_local: I64  # per offset: circle number inside the block, -1 if none
    circle_pos: I64
    spare: I64  # offsets in neither a ring nor a circle, in the block's hashed order


@lru_cache(maxsize=4096)
def block_layout(seed: int, n_slots: int, block: int) -> BlockLayout:
    streams = Streams(seed)
    base = block * RING_BLOCK
    size = min(RING_BLOCK, n_slots - base)
    offsets = np.arange(size, dtype=np.int64)
    order = np.argsort(streams.bits(StaticStream.PERM, base + offsets), kind="stable")
    n_shell = int(size * SHELL_SHARE + streams.uniform(StaticStream.N_SHELL, np.array([block]))[0])
    sizes: list[int] = []
    k = 0
    while sum(sizes) < n_shell and k < MAX_RINGS_PER_BLOCK:
        draw = int(streams.integers(StaticStream.RING_SIZE, 3, 11, np.array([block * 64 + k]))[0])
        sizes.append(min(draw, n_shell - sum(sizes)))
        k += 1
    if len(sizes) > 1 and sizes[-1] < 2:
        # Fold a one-member remainder into the ring before it. (Written as
        # `sizes[-2] += sizes.pop()` it added to the ring two before, counting one ring twice,
        # and failed outright with two rings.)
        remainder = sizes.pop()
        sizes[-1] += remainder
    if sizes and sizes[-1] < 2:
        sizes = []  # a one-member "ring" is no ring
    ring_local = np.full(size, -1, dtype=np.int64)
    ring_pos = np.zeros(size, dtype=np.int64)
    members = []
    start = 0
    for ring, ring_size in enumerate(sizes):
        ids = order[start : start + ring_size]
        ring_local[ids] = ring
        ring_pos[ids] = np.arange(ring_size)
        members.append(ids.astype(np.int64))
        start += ring_size
    n_circle = int(size * CIRCLE_SHARE) // 3 * 3
    circle_local = np.full(size, -1, dtype=np.int64)
    circle_pos = np.zeros(size, dtype=np.int64)
    ids = order[start : start + n_circle]
    circle_local[ids] = np.arange(n_circle) // 3
    circle_pos[ids] = np.arange(n_circle) % 3
    return BlockLayout(
        ring_local,
        ring_pos,
        np.array(sizes, dtype=np.int64),
        tuple(members),
        circle_local,
        circle_pos,
        order[start + n_circle :].astype(np.int64),
    )


@dataclass(frozen=True)
class Statics:
    """Static attributes of a set of slots (arrays aligned with ``slot``)."""

    slot: I64
    is_shell: BOOL
    ring_gid: I64  # global ring id, -1 if not a shell
    ring_pos: I64
    ring_size: I64
    circle_gid: I64  # -1 if none
    circle_pos: I64
    is_core: BOOL
    is_company: BOOL
    industry: I64  # index into INDUSTRIES
    division: I64  # index into the industry's divisions
    region: I64  # index into REGIONS
    reg_month: I64  # registration month relative to start (0 = start month)
    revenue_yuan: F64  # normal annual revenue
    employees: I64
    capital_yuan: F64
    is_general: BOOL
    base_health: F64
    lead_months: I64
    report_ratio: F64
    packaged_month: I64  # month of a packaged application, or a large sentinel
    growth: F64
    settle_share: F64
    loans_base: I64
    va_share: F64
    attack_month: I64  # shells: month of the ring's applications
    default_lag: I64  # shells: months from the attack to default
    ring_amount_yuan: F64  # shells: monthly circular invoice amount
    owner_slot: I64  # slot whose owner is the legal representative (regular firms)


NO_MONTH = 10_000


def ring_ids(seed: int, n_slots: int, slot: I64) -> tuple[I64, I64, I64, I64, I64]:
    """Ring and circle membership of slots: (ring gid, ring pos, ring size, circle gid, pos)."""
    n = len(slot)
    ring_gid = np.full(n, -1, dtype=np.int64)
    ring_pos = np.zeros(n, dtype=np.int64)
    ring_size = np.zeros(n, dtype=np.int64)
    circle_gid = np.full(n, -1, dtype=np.int64)
    circle_pos = np.zeros(n, dtype=np.int64)
    blocks = slot // RING_BLOCK
    for b in np.unique(blocks):
        mask = blocks == b
        lay = block_layout(seed, n_slots, int(b))
        off = slot[mask] - b * RING_BLOCK
        local = lay.ring_local[off]
        ring_gid[mask] = np.where(local >= 0, b * MAX_RINGS_PER_BLOCK + local, -1)
        ring_pos[mask] = lay.ring_pos[off]
        if len(lay.ring_sizes):
            ring_size[mask] = np.where(local >= 0, lay.ring_sizes[np.maximum(local, 0)], 0)
        cl = lay.circle_local[off]
        circle_gid[mask] = np.where(cl >= 0, b * RING_BLOCK + cl, -1)
        circle_pos[mask] = lay.circle_pos[off]
    return ring_gid, ring_pos, ring_size, circle_gid, circle_pos


def ring_member_slots(seed: int, n_slots: int, ring_gid: int) -> I64:
    block, local = divmod(ring_gid, MAX_RINGS_PER_BLOCK)
    lay = block_layout(seed, n_slots, block)
    out: I64 = lay.ring_members[local] + block * RING_BLOCK
    return out


def circle_member_slot(seed: int, n_slots: int, circle_gid: I64, pos: I64) -> I64:
    """Slot of member ``pos`` of each circle."""
    out = np.empty(len(circle_gid), dtype=np.int64)
    blocks = circle_gid // RING_BLOCK
    for b in np.unique(blocks):
        mask = blocks == b
        lay = block_layout(seed, n_slots, int(b))
        local = circle_gid[mask] - b * RING_BLOCK
        # offsets of circle members: invert (circle_local, circle_pos) for this block
        key = lay.circle_local * 3 + lay.circle_pos
        table = np.full(int(key.max()) + 1 if key.max() >= 0 else 1, -1, dtype=np.int64)
        has = lay.circle_local >= 0
        table[key[has]] = np.nonzero(has)[0]
        out[mask] = table[local * 3 + pos[mask]] + b * RING_BLOCK
    return out


def _weights(values: list[float]) -> F64:
    return np.asarray(values, dtype=np.float64)


def formed_rings(params: MarketParams, slot: I64) -> tuple[BOOL, I64, I64, I64, I64, I64]:
    """Ring and circle membership of slots in a market of ``params.months`` months.

    Returns (planned shell, ring gid, ring pos, ring size, circle gid, circle pos). A ring
    planned to register after the last month of the window does not form in this market:
    its slots hold ordinary firms (gid -1), so a market of N slots has N enterprises.
    """
    planned_gid, ring_pos, ring_size, circle_gid, circle_pos = ring_ids(
        params.seed, params.enterprises, slot
    )
    planned_shell = planned_gid >= 0
    streams = Streams(params.seed)
    planned_reg = streams.integers(StaticStream.RING_REG, *RING_REGISTRATION_SPAN, planned_gid)
    formed = planned_shell & (planned_reg <= params.months - 1)
    return (
        planned_shell,
        np.where(formed, planned_gid, -1),
        np.where(formed, ring_pos, 0),
        np.where(formed, ring_size, 0),
        circle_gid,
        circle_pos,
    )


def statics(params: MarketParams, slot: I64) -> Statics:
    """Every static attribute of the given slots of a market; depends on nothing else."""
    seed, n_slots = params.seed, params.enterprises
    streams = Streams(seed)
    slot = np.asarray(slot, dtype=np.int64)
    planned_shell, ring_gid, ring_pos, ring_size, circle_gid, circle_pos = formed_rings(
        params, slot
    )
    is_shell = ring_gid >= 0
    # The planned layout, not the window, decides core positions and shared owners, so a
    # longer window changes only the slots of rings that form in the added months.
    is_core = (slot % CORE_STRIDE == CORE_OFFSET) & ~planned_shell

    is_company = (streams.uniform(StaticStream.COMPANY, slot) < 1.0 / 3.2) | is_core | is_shell
    industry = streams.choice(StaticStream.INDUSTRY, _weights([i.weight for i in INDUSTRIES]), slot)
    core_industry = np.where(streams.uniform(StaticStream.INDUSTRY + 100, slot) < 0.6, 0, 1)
    industry = np.where(is_core, core_industry, industry)
    # Shell rings are trading and consulting firms: wholesale or business services.
    ring_industry = np.where(streams.uniform(StaticStream.RING_INDUSTRY, ring_gid) < 0.7, 1, 7)
    industry = np.where(is_shell, ring_industry, industry)
    n_div = np.array([len(i.divisions) for i in INDUSTRIES])
    division = streams.integers(StaticStream.DIVISION, 0, 1_000_000, slot) % n_div[industry]
    region = streams.choice(StaticStream.REGION, _weights([r.weight for r in REGIONS]), slot)
    region = np.where(
        is_shell,
        streams.choice(StaticStream.RING_REGION, _weights([r.weight for r in REGIONS]), ring_gid),
        region,
    )

    # Firm age: exponential with a mean of about five years (registry median lifespans 6-10
    # years, exits peak in years 3-7), at least one month before the start.
    age_months = 1 + np.floor(-np.log(streams.uniform(StaticStream.AGE, slot)) * 60.0).astype(
        np.int64
    )
    age_months = np.minimum(age_months, 360)
    ring_reg = streams.integers(StaticStream.RING_REG, *RING_REGISTRATION_SPAN, ring_gid)
    reg_month = np.where(is_shell, ring_reg, -age_months)

    ind_median = np.array([i.median_revenue_yuan for i in INDUSTRIES])
    rev_z = streams.normal(StaticStream.REVENUE, slot)
    revenue = ind_median[industry] * np.where(is_company, 3.5, 0.55) * np.exp(0.95 * rev_z)
    revenue = np.where(is_core, revenue * 25.0, revenue)
    per_emp = np.array([i.revenue_per_employee_yuan for i in INDUSTRIES])[industry]
    per_emp = np.where(is_company, per_emp / 1.5, per_emp)
    employees = np.maximum(
        1, np.round(revenue / per_emp * np.exp(0.35 * streams.normal(StaticStream.EMPLOYEES, slot)))
    ).astype(np.int64)
    employees = np.where(is_company, employees, np.minimum(employees, 12))
    employees = np.where(is_shell, 1 + (slot % 3), employees)
    capital = np.where(
        is_company,
        np.maximum(
            10_000.0,
            np.round(revenue * 0.3 * np.exp(0.8 * streams.normal(StaticStream.CAPITAL, slot)), -4),
        ),
        np.maximum(1_000.0, np.round(revenue * 0.05, -3)),
    )
    capital = np.where(is_shell, np.where(slot % 2 == 0, 1_000_000.0, 5_000_000.0), capital)
    is_general = (revenue > 5_000_000) | (
        is_company & (revenue > 1_000_000) & (streams.uniform(StaticStream.GENERAL, slot) < 0.25)
    )
    is_general = is_general | is_shell  # shells register as general taxpayers to issue VAT invoices

    health_offset = np.array([i.health_offset for i in INDUSTRIES])[industry]
    age_effect = np.select(
        [age_months < 12, age_months < 36, age_months < 84], [-0.5, -0.25, -0.05], default=0.1
    )
    size_effect = 0.2 * np.clip(np.log(revenue / ind_median[industry]), -2.5, 2.5)
    base_health = (
        0.75 * streams.normal(StaticStream.BASE_HEALTH, slot)
        + health_offset
        + age_effect
        + size_effect
    )
    base_health = np.where(is_shell, -2.0, base_health)

    lead = streams.integers(StaticStream.LEAD, 3, 7, slot)
    report_ratio = np.where(
        is_general,
        0.97 + 0.03 * streams.uniform(StaticStream.REPORT_RATIO, slot),
        0.78 + 0.22 * streams.uniform(StaticStream.REPORT_RATIO, slot),
    )
    # Packaged applicants (中介包装) are weak firms an intermediary dresses up to borrow.
    packaged = (
        ~is_shell & (base_health < -0.2) & (streams.uniform(StaticStream.PACKAGED, slot) < 0.04)
    )
    packaged_month = np.where(
        packaged, streams.integers(StaticStream.PACKAGED_MONTH, 1, 60, slot), NO_MONTH
    )
    attack = np.where(
        is_shell,
        ring_reg + 6 + streams.integers(StaticStream.RING_ATTACK, 0, 7, ring_gid),
        NO_MONTH,
    )
    default_lag = np.where(
        is_shell, streams.integers(StaticStream.RING_DEFAULT_LAG, 2, 4, ring_gid), 0
    )
    ring_amount = np.where(
        is_shell,
        np.round(500_000 * np.exp(0.6 * streams.normal(StaticStream.RING_AMOUNT, ring_gid)), -4),
        0.0,
    )
    # About 3% of owners run a second business (the previous slot's owner represents it):
    # legitimate shared phones and legal persons that naive fraud rules must not flag.
    prev = np.maximum(slot - 1, 0)
    prev_shell = ring_ids(seed, n_slots, prev)[0] >= 0
    shared = (
        (slot >= 1)
        & (streams.uniform(StaticStream.SHARED_OWNER, slot) < 0.03)
        & ~(streams.uniform(StaticStream.SHARED_OWNER, prev) < 0.03)
        & ~planned_shell
        & ~prev_shell
    )
    return Statics(
        owner_slot=np.where(shared, prev, slot),
        slot=slot,
        is_shell=is_shell,
        ring_gid=ring_gid,
        ring_pos=ring_pos,
        ring_size=ring_size,
        circle_gid=circle_gid,
        circle_pos=circle_pos,
        is_core=is_core,
        is_company=is_company,
        industry=industry,
        division=division,
        region=region,
        reg_month=reg_month,
        revenue_yuan=revenue,
        employees=employees,
        capital_yuan=capital,
        is_general=is_general,
        base_health=base_health,
        lead_months=lead,
        report_ratio=report_ratio,
        packaged_month=packaged_month,
        growth=0.03 + 0.06 * streams.normal(StaticStream.GROWTH, slot),
        settle_share=0.6 + 0.4 * streams.uniform(StaticStream.SETTLE_SHARE, slot),
        loans_base=np.minimum(
            streams.poisson(
                StaticStream.LOANS_BASE, 0.5 + 0.3 * np.clip(np.log10(revenue / 1e5), 0, 3), slot
            ),
            6,
        ),
        va_share=0.2 + 0.1 * streams.uniform(StaticStream.VA_SHARE, slot),
        attack_month=attack,
        default_lag=default_lag,
        ring_amount_yuan=ring_amount,
    )


def org_numbers(seed: int, slot: I64) -> I64:
    """A bijection of slots onto 8-digit organisation numbers (so codes never collide)."""
    streams = Streams(seed)
    # Ends in 3: coprime with 10**8, so the map is a bijection.
    mult = int(streams.integers(StaticStream.ORG_MULT, 0, 1_000_000, np.array([0]))[0]) * 10 + 3
    add = int(streams.integers(StaticStream.ORG_MULT + 1, 0, 100_000_000, np.array([0]))[0])
    out: I64 = (slot * mult + add) % 100_000_000
    return out
