"""True funding needs (the hidden demand) and which of them lead to an application."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.catalog import INDUSTRIES, SPRING_FESTIVAL_MONTH
from puhui.market.identifiers import hex_ids
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
TEXT = npt.NDArray[np.generic]

NEED_REASONS = ("seasonal_stock", "expansion", "receivable_gap", "distress")


@dataclass(frozen=True, eq=False)
class NeedsApplied:
    """The needs that turn into applications (one per need), in need order."""

    enterprise: I64  # row index into the chunk's slots
    month: I64  # offset into the observed window
    amount_yuan: F64
    duration_months: I64
    need_id: TEXT  # need ids as text


@dataclass(frozen=True, eq=False)
class Demand:
    truth: pl.DataFrame  # the need_events table
    applied: NeedsApplied


def demand(ctx: ChunkContext, latent: LatentPath, ids: Identity) -> Demand:
    statics, streams, slot = ctx.statics, ctx.streams, ctx.slot
    dist = latent.in_distress
    months = np.array([ctx.calendar.year_month(int(k)) for k in ctx.window])
    cal_m = months[:, 1]
    cny = np.array([SPRING_FESTIVAL_MONTH.get(int(y), 2) for y in months[:, 0]])
    cny_next = np.array([SPRING_FESTIVAL_MONTH.get(int(y) + 1, 2) for y in months[:, 0]])
    consumer = np.array([i.season == "consumer" for i in INDUSTRIES])[statics.industry][:, None]
    # Consumer firms stock up in the month before the Spring Festival: January for a February
    # festival, and the December before (the previous year) for a January one.
    before_festival = ((cal_m == 12) & (cny_next == 1)) | ((cal_m == cny - 1) & (cny == 2))
    seasonal_c = before_festival | (cal_m == 9) | (cal_m == 10)
    seasonal_i = (cal_m == 11) | (cal_m == 12) | (cal_m == cny + 1)
    seasonal = np.where(consumer, seasonal_c[None, :], seasonal_i[None, :])
    thriving = latent.health > statics.base_health[:, None] + 0.3
    chance = 0.022 * np.where(seasonal, 1.9, 1.0) * np.where(thriving, 1.4, 1.0) + 0.15 * dist
    eligible = latent.alive & ~latent.in_default & ~statics.is_shell[:, None]
    need = eligible & (ctx.monthly_uniform(MonthlyStream.NEED) < chance)
    # Indices into NEED_REASONS.
    reason = np.where(dist, 3, np.where(seasonal, 0, np.where(thriving, 1, 2)))
    monthly_rev = statics.revenue_yuan[:, None] / 12.0
    amount = (
        monthly_rev
        * (0.8 + 2.2 * ctx.monthly_uniform(MonthlyStream.NEED_AMT))
        * np.where(reason == 1, 1.6, 1.0)
    )
    amount = np.maximum(10_000.0, np.round(amount, -3))
    duration_draw = ctx.monthly_uniform(MonthlyStream.NEED_DUR)
    shortest = np.array([3, 12, 3, 6])[reason]
    longest = np.array([6, 36, 9, 12])[reason]
    duration = (shortest + np.floor(duration_draw * (longest - shortest + 1))).astype(np.int64)
    rows_i, rows_t = np.nonzero(need)
    need_bits = streams.bits(MonthlyStream.NEED + 50, slot[rows_i], rows_t)
    need_id = hex_ids("ND", need_bits, "need_id")
    truth = pl.DataFrame(
        {
            "need_id": need_id,
            "uscc": ids.uscc.gather(rows_i),
            "month": date_series("month", ctx.month_days[rows_t]),
            "amount_fen": (amount[rows_i, rows_t] * 100).astype(np.int64),
            "duration_months": duration[rows_i, rows_t].astype(np.int32),
            "reason": np.array(NEED_REASONS)[reason[rows_i, rows_t]],
        }
    )
    apply = ctx.monthly_uniform(MonthlyStream.APPLY)[rows_i, rows_t] < np.where(
        dist[rows_i, rows_t], 0.7, 0.45
    )
    return Demand(
        truth=truth,
        applied=NeedsApplied(
            enterprise=rows_i[apply],
            month=rows_t[apply],
            amount_yuan=amount[rows_i, rows_t][apply],
            duration_months=duration[rows_i, rows_t][apply],
            need_id=need_id.to_numpy()[apply],
        ),
    )
