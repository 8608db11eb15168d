"""Monthly business activity: seasonality, the activity level health implies, and revenue."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from puhui.market.catalog import season_matrix
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Activity:
    """Per slot and observed month."""

    season: F64  # seasonal factor of the slot's industry
    level: F64  # activity level relative to the firm's normal, from health
    revenue_yuan: F64  # true monthly sales (zero when not alive)
    shell_gone: BOOL  # shells after their ring's attack: no more filings


def activity(ctx: ChunkContext, latent: LatentPath) -> Activity:
    statics, streams, slot, window = ctx.statics, ctx.streams, ctx.slot, ctx.window
    industry_season = season_matrix([ctx.calendar.year_month(int(k)) for k in window])
    season = industry_season[statics.industry]
    level = np.exp(0.3 * (latent.health - statics.base_health[:, None]))
    trend = np.exp(statics.growth[:, None] * window[None, :] / 12.0)
    noise = np.exp(
        0.12 * streams.normal(MonthlyStream.REV, slot[:, None], window[None, :]) - 0.0072
    )
    revenue = statics.revenue_yuan[:, None] / 12.0 * season * level * trend * noise
    revenue = np.where(latent.in_default, 0.3 * revenue, revenue)
    shell_active = (window[None, :] > statics.reg_month[:, None]) & (
        window[None, :] <= statics.attack_month[:, None] + 1
    )
    shell_revenue = statics.ring_amount_yuan[:, None] * (
        1.0 + 0.05 * streams.normal(MonthlyStream.REV + 1, slot[:, None], window[None, :])
    )
    revenue = np.where(
        statics.is_shell[:, None], np.where(shell_active, shell_revenue, 0.0), revenue
    )
    return Activity(
        season=season,
        level=level,
        revenue_yuan=np.where(latent.alive, revenue, 0.0),
        shell_gone=statics.is_shell[:, None]
        & (window[None, :] > statics.attack_month[:, None] + 1),
    )
