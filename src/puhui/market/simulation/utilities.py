"""Water and electricity (水电): monthly use and late payment."""

from __future__ import annotations

import numpy as np
import polars as pl

from puhui.market.catalog import INDUSTRIES
from puhui.market.simulation.activity import Activity
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import sigmoid
from puhui.market.simulation.identity import MonthlyRows
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream


def utilities_table(
    ctx: ChunkContext, latent: LatentPath, business: Activity, rows: MonthlyRows
) -> pl.DataFrame:
    statics, streams, slot, window = ctx.statics, ctx.streams, ctx.slot, ctx.window
    kwh_rate = np.array([i.kwh_per_yuan for i in INDUSTRIES])[statics.industry]
    trend = np.exp(statics.growth[:, None] * window[None, :] / 12.0)
    kwh = (
        statics.revenue_yuan[:, None]
        / 12.0
        * kwh_rate[:, None]
        * np.sqrt(business.season)
        * business.level**1.3
        * trend
        * np.exp(0.08 * streams.normal(MonthlyStream.KWH, slot[:, None], window[None, :]))
    )
    kwh = np.where(latent.in_default, 0.25 * kwh, kwh)
    kwh = np.where(
        statics.is_shell[:, None], 80 + 200 * ctx.monthly_uniform(MonthlyStream.KWH + 1), kwh
    )
    water_ratio = 0.003 + 0.01 * streams.uniform(MonthlyStream.WATER, slot)
    water = (
        kwh
        * water_ratio[:, None]
        * np.exp(0.1 * streams.normal(MonthlyStream.WATER, slot[:, None], window[None, :]))
    )
    late = ctx.monthly_uniform(MonthlyStream.UTIL_LATE) < sigmoid(
        -4.0 - 0.7 * latent.health + 2.0 * latent.in_distress + 3.0 * latent.in_default
    )
    at = (rows.enterprise, rows.month)
    return pl.DataFrame(
        {
            "uscc": rows.uscc,
            "month": rows.month_date,
            "electricity_kwh": np.round(kwh).astype(np.int64)[at],
            "water_tonnes": np.round(water).astype(np.int64)[at],
            "late_payment": late[at],
        }
    )
