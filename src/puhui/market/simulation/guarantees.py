"""Guarantees between enterprises: mutual-guarantee circles (互保圈) and one-off guarantees."""

from __future__ import annotations

import numpy as np
import polars as pl

from puhui.market.population import circle_member_slot, statics
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.streams import MonthlyStream


def guarantees_table(ctx: ChunkContext, ids: Identity) -> pl.DataFrame:
    chunk, streams, slot, n_slots = ctx.statics, ctx.streams, ctx.slot, ctx.n_slots
    # A circle member guarantees the next member of its circle of three.
    circ = np.nonzero(chunk.circle_gid >= 0)[0]
    circ_b = circle_member_slot(
        ctx.params.seed, n_slots, chunk.circle_gid[circ], (chunk.circle_pos[circ] + 1) % 3
    )
    rnd = np.nonzero(
        ~chunk.is_shell & chunk.is_company & (streams.uniform(MonthlyStream.GUAR, slot) < 0.04)
    )[0]
    rnd_b = streams.integers(MonthlyStream.GUAR + 1, 0, n_slots, slot[rnd])
    guarantor = np.concatenate([circ, rnd])
    borrower = np.concatenate([circ_b, rnd_b])
    borrowers, binv = np.unique(borrower, return_inverse=True)
    borrower_statics = statics(ctx.params, borrowers)
    ok = (borrower != slot[guarantor]) & ~borrower_statics.is_shell[binv]
    guarantor, binv = guarantor[ok], binv[ok]
    start = np.maximum(
        np.maximum(chunk.reg_month[guarantor], borrower_statics.reg_month[binv]), -36
    ) + streams.integers(MonthlyStream.GUAR_START, 0, 12, slot[guarantor])
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
