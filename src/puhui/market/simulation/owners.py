"""Legal representatives (法人代表): the owners table and the ID numbers other tables cite."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema
from puhui.market.catalog import EDUCATION, EDUCATION_WEIGHTS, GIVEN_CHARS, REGIONS, SURNAMES
from puhui.market.hashing import Streams
from puhui.market.identifiers import id_numbers, mobile_numbers
from puhui.market.params import MarketParams
from puhui.market.population import ring_member_slots, statics
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import concat_strings, date_series, gather
from puhui.market.simulation.streams import MonthlyStream

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Owners:
    id_number: pl.Series
    frame: pl.DataFrame


def owner_rows(
    params: MarketParams, owner_slot: I64, represented: I64, phone_override: pl.Series | None
) -> Owners:
    """Legal representatives: identity, age, schooling, experience; unique ID numbers."""
    streams = Streams(params.seed)
    # Unique ID numbers by construction: within a block of 365,000 owners, the slot decides
    # the (birth day-of-year, sequence) pair and the block shifts the region of birth.
    inner, block = owner_slot % 365_000, owner_slot // 365_000
    region_idx = (streams.integers(MonthlyStream.OWNER, 0, len(REGIONS), inner) + block) % len(
        REGIONS
    )
    region_code = np.array([int(r.code) for r in REGIONS])[region_idx]
    age = np.clip(
        np.round(42 + 9 * streams.normal(MonthlyStream.OWNER + 1, owner_slot)), 23, 68
    ).astype(np.int64)
    birth_year = params.start.year - age - 1
    doy = inner // 1000
    seq = inner % 1000
    birth = np.array([f"{y}-01-01" for y in birth_year], dtype="datetime64[D]") + doy.astype(
        "timedelta64[D]"
    )
    ymd = birth.astype(object)
    birth_ymd = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    age_years = np.array(
        [params.start.year - d.year - ((params.start.month, 1) < (d.month, d.day)) for d in ymd],
        dtype=np.int32,
    )
    ids = id_numbers(region_code, birth_ymd, seq)
    surname = streams.integers(MonthlyStream.OWNER + 2, 0, len(SURNAMES), owner_slot)
    given1 = streams.integers(MonthlyStream.OWNER + 3, 0, len(GIVEN_CHARS), owner_slot)
    given2 = streams.integers(MonthlyStream.OWNER + 4, 0, len(GIVEN_CHARS), owner_slot)
    two = streams.uniform(MonthlyStream.OWNER + 5, owner_slot) < 0.6
    name = concat_strings(
        [
            gather(SURNAMES, surname),
            gather(GIVEN_CHARS, given1),
            pl.Series(np.where(two, np.array(list(GIVEN_CHARS))[given2], "")),
        ]
    )
    education = streams.choice(MonthlyStream.OWNER + 6, EDUCATION_WEIGHTS, owner_slot)
    years = np.clip(
        np.round((age - 20) * streams.uniform(MonthlyStream.OWNER + 7, owner_slot)), 0, age - 18
    ).astype(np.int32)
    phone = mobile_numbers(streams.bits(MonthlyStream.OWNER + 8, owner_slot), "phone")
    if phone_override is not None:
        phone = pl.Series(
            "phone",
            np.where(
                phone_override.is_null().to_numpy(),
                phone.to_numpy(),
                phone_override.fill_null("").to_numpy(),
            ),
        )
    frame = pl.DataFrame(
        {
            "id_number": ids,
            "name": name,
            "gender": np.where(seq % 2 == 1, "M", "F"),
            "birth_date": date_series("birth_date", birth.astype(np.int64)),
            "age_years": age_years,
            "education": gather(EDUCATION, education),
            "years_in_trade": years,
            "phone": phone,
            "enterprises_represented": represented.astype(np.int32),
        },
        schema=schema.OWNERS.polars_schema(),
    )
    return Owners(ids, frame)


def owners_table(ctx: ChunkContext, registered: BOOL) -> pl.DataFrame:
    """Owners of the chunk's regular firms, and the fronts of rings whose first member it holds."""
    params, slot, n_slots = ctx.params, ctx.slot, ctx.n_slots
    is_shell, owner_slot, ring_gid = (
        ctx.statics.is_shell,
        ctx.statics.owner_slot,
        ctx.statics.ring_gid,
    )
    own = ~is_shell & registered & (owner_slot == slot)
    nxt = np.minimum(slot + 1, n_slots - 1)
    second = (statics(params, nxt).owner_slot == slot) & (nxt != slot)
    regular = owner_rows(params, slot[own], 1 + second[own].astype(np.int64), None).frame
    # Ring fronts: emitted by the chunk holding the ring's lowest slot, once registered.
    firsts = []
    for gid in np.unique(ring_gid[is_shell & registered]):
        members = ring_member_slots(params.seed, n_slots, int(gid))
        if members.min() >= slot[0] and members.min() <= slot[-1]:
            firsts.append(int(gid))
    if not firsts:
        return regular
    streams = ctx.streams
    gids = np.array(firsts, dtype=np.int64)
    n_reps = 1 + (streams.uniform(MonthlyStream.OWNER + 20, gids) < 0.5).astype(np.int64)
    rep_gid = np.repeat(gids, n_reps)
    rep_no = np.concatenate([np.arange(k) for k in n_reps])
    ring_slots = [ring_member_slots(params.seed, n_slots, int(g)) for g in rep_gid]
    sizes = np.array([len(m) for m in ring_slots])
    k_reps = np.repeat(n_reps, n_reps)
    represented = (sizes - rep_no + k_reps - 1) // k_reps
    phones = mobile_numbers(streams.bits(MonthlyStream.OWNER + 21, rep_gid), "phone")
    rings = owner_rows(params, n_slots + rep_gid * 2 + rep_no, represented, phones).frame
    # Order: a ring's fronts follow the owner of the slot just before its first member,
    # so the row order does not depend on where chunks are cut.
    position = np.concatenate(
        [slot[own] * 4, np.array([m.min() for m in ring_slots]) * 4 + 1 + rep_no]
    )
    both = pl.concat([regular, rings])
    return both[np.argsort(position, kind="stable")]
