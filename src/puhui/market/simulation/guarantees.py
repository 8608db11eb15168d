"""Guarantees between enterprises: mutual-guarantee circles (互保圈) and one-off guarantees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.hashing import Streams
from puhui.market.population import circle_member_slot, statics
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.streams import MonthlyStream

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class OneOffGuarantees:
    """The chunk's one-off guarantees, before checking the borrower (it may be a shell, or
    the guarantor itself: such draws give no guarantee)."""

    guarantor: I64  # row index into the chunk's slots
    borrower: I64  # slot anywhere in the market


def one_off_guarantees(ctx: ChunkContext) -> OneOffGuarantees:
    """About 4% of regular companies guarantee one firm drawn from the whole market."""
    chunk, streams, slot = ctx.statics, ctx.streams, ctx.slot
    rows = np.nonzero(
        ~chunk.is_shell & chunk.is_company & (streams.uniform(MonthlyStream.GUAR, slot) < 0.04)
    )[0]
    return OneOffGuarantees(
        rows, streams.integers(MonthlyStream.GUAR + 1, 0, ctx.n_slots, slot[rows])
    )


def guarantee_start(
    streams: Streams, guarantor_slot: I64, guarantor_reg: I64, borrower_reg: I64
) -> I64:
    """First month a guarantee is in force: within a year of both firms existing (and of 36
    months before the start, the oldest guarantees still in force)."""
    out: I64 = np.maximum(np.maximum(guarantor_reg, borrower_reg), -36) + streams.integers(
        MonthlyStream.GUAR_START, 0, 12, guarantor_slot
    )
    return out


def guarantees_table(ctx: ChunkContext, ids: Identity) -> pl.DataFrame:
    chunk, slot, n_slots = ctx.statics, ctx.slot, ctx.n_slots
    # A circle member guarantees the next member of its circle of three.
    circ = np.nonzero(chunk.circle_gid >= 0)[0]
    circ_b = circle_member_slot(
        ctx.params.seed, n_slots, chunk.circle_gid[circ], (chunk.circle_pos[circ] + 1) % 3
    )
    one_off = one_off_guarantees(ctx)
    guarantor = np.concatenate([circ, one_off.guarantor])
    borrower = np.concatenate([circ_b, one_off.borrower])
    borrowers, binv = np.unique(borrower, return_inverse=True)
    borrower_statics = statics(ctx.params, borrowers)
    ok = (borrower != slot[guarantor]) & ~borrower_statics.is_shell[binv]
    guarantor, binv = guarantor[ok], binv[ok]
    start = guarantee_start(
        ctx.streams,
        slot[guarantor],
        chunk.reg_month[guarantor],
        borrower_statics.reg_month[binv],
    )
    keep = start <= ctx.months - 1
    guarantor, binv, start = guarantor[keep], binv[keep], start[keep]
    order = np.argsort(guarantor, kind="stable")
    guarantor, binv, start = guarantor[order], binv[order], start[order]
    frame = pl.DataFrame(
        {
            "guarantor_uscc": ids.uscc.gather(guarantor),
            "borrower_uscc": ctx.uscc_of(borrowers).gather(binv),
            "start_month": date_series("start_month", ctx.calendar.days(start)),
            "amount_fen": (np.round(borrower_statics.revenue_yuan[binv] * 0.3, -4) * 100).astype(
                np.int64
            ),
        }
    )
    return frame.unique(["guarantor_uscc", "borrower_uscc"], keep="first", maintain_order=True)
