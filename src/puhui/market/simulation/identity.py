"""Who the rows are about: credit codes, legal representatives, the rows of monthly tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.identifiers import mobile_numbers, uscc_codes
from puhui.market.population import org_numbers
from puhui.market.simulation.context import ChunkContext, region_codes
from puhui.market.simulation.frames import date_series
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.owners import owner_rows
from puhui.market.simulation.streams import MonthlyStream

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Identity:
    """Codes and legal representatives of the chunk's slots."""

    uscc: pl.Series
    rep_slot: I64
    """Owner slot of each slot's legal representative (ring fronts live past the slot range)."""
    ring_phone: pl.Series
    """The phone a fraud ring shares (drawn for every slot, used for shells only)."""


def identity(ctx: ChunkContext) -> Identity:
    statics, streams = ctx.statics, ctx.streams
    uscc = uscc_codes(
        region_codes(statics.region), statics.is_company, org_numbers(ctx.params.seed, ctx.slot)
    )
    n_reps = 1 + (streams.uniform(MonthlyStream.OWNER + 20, statics.ring_gid) < 0.5).astype(
        np.int64
    )
    rep_slot = np.where(
        statics.is_shell,
        ctx.n_slots + statics.ring_gid * 2 + statics.ring_pos % n_reps,
        statics.owner_slot,
    )
    ring_phone = mobile_numbers(
        streams.bits(MonthlyStream.OWNER + 21, statics.ring_gid), "ring_phone"
    )
    return Identity(uscc=uscc, rep_slot=rep_slot, ring_phone=ring_phone)


def rep_id_numbers(ctx: ChunkContext, rep_slots: I64) -> pl.Series:
    """ID numbers of legal representatives (ring fronts live past the slot range)."""
    unique, inverse = np.unique(rep_slots, return_inverse=True)
    ids = owner_rows(ctx.params, unique, np.ones(len(unique), dtype=np.int64), None).id_number
    return ids.gather(inverse)


@dataclass(frozen=True, eq=False)
class MonthlyRows:
    """The (enterprise, month) rows of monthly tables: every month an enterprise is alive."""

    enterprise: I64
    """Row index into the chunk's slots."""
    month: I64
    """Offset into the observed window."""
    uscc: pl.Series
    month_date: pl.Series


def monthly_rows(ctx: ChunkContext, latent: LatentPath, ids: Identity) -> MonthlyRows:
    enterprise, month = np.nonzero(latent.alive)
    return MonthlyRows(
        enterprise=enterprise,
        month=month,
        uscc=ids.uscc.gather(enterprise).alias("uscc"),
        month_date=date_series("month", ctx.month_days[month]),
    )
