"""The hidden truth of a chunk: enterprise outcomes, monthly health and PD, common factors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.catalog import INDUSTRIES, REGIONS
from puhui.market.population import NO_MONTH
from puhui.market.simulation.context import BURN_IN_MONTHS, ChunkContext
from puhui.market.simulation.factors import CommonFactors
from puhui.market.simulation.frames import date_series, masked
from puhui.market.simulation.identity import Identity, MonthlyRows
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.round_trips import RoundTrips

I64 = npt.NDArray[np.int64]


def enterprises_truth_table(
    ctx: ChunkContext, latent: LatentPath, ids: Identity, trips: RoundTrips
) -> pl.DataFrame:
    statics, calendar = ctx.statics, ctx.calendar
    has_default = latent.default < NO_MONTH
    default_days = calendar.days(np.where(has_default, latent.default, 0))
    onset_days = calendar.days(np.where(has_default, latent.onset, 0))
    close_days = calendar.days(np.where(has_default, latent.close, 0))
    packaged = statics.packaged_month < ctx.months
    packaged_days = calendar.days(np.where(packaged, statics.packaged_month, 0))
    frame = pl.DataFrame(
        {
            "uscc": ids.uscc,
            "enterprise_index": ctx.slot,
            "default_month": masked(date_series("d", default_days), has_default),
            "distress_onset_month": masked(date_series("d", onset_days), has_default),
            "lead_months": masked(latent.lead.astype(np.int32), has_default),
            "close_month": masked(date_series("d", close_days), has_default),
            "fraud_ring_id": masked(
                np.char.add("R", statics.ring_gid.astype(str)), statics.is_shell
            ),
            "is_shell": statics.is_shell,
            "packaging_month": masked(date_series("d", packaged_days), packaged),
            "base_health": statics.base_health,
            "guarantee_circle_id": masked(
                np.char.add("G", statics.circle_gid.astype(str)), statics.circle_gid >= 0
            ),
            "round_trip_id": masked(np.char.add("T", trips.cycle.astype(str)), trips.cycle >= 0),
        }
    )
    return frame.filter(pl.Series(latent.registered))


def monthly_truth_table(
    latent: LatentPath, cash_available_fen: I64, rows: MonthlyRows
) -> pl.DataFrame:
    at = (rows.enterprise, rows.month)
    return pl.DataFrame(
        {
            "uscc": rows.uscc,
            "month": rows.month_date,
            "latent_health": latent.health[at],
            "pd_12m": latent.pd_12m[at],
            "in_distress": latent.in_distress[at],
            "in_default": latent.in_default[at],
            "cash_available_fen": cash_available_fen[at],
        }
    )


def macro_table(ctx: ChunkContext, factors: CommonFactors) -> pl.DataFrame:
    """Factors over the observed window, one row per (month, factor)."""
    observed = slice(BURN_IN_MONTHS, len(factors.macro))
    names = (
        ["macro"]
        + [f"industry:{i.group}" for i in INDUSTRIES]
        + [f"region:{r.code}" for r in REGIONS]
    )
    values = np.vstack(
        [factors.macro[None, observed], factors.industry[:, observed], factors.region[:, observed]]
    )
    factor_idx, month_idx = np.meshgrid(np.arange(len(names)), np.arange(ctx.months), indexing="ij")
    return pl.DataFrame(
        {
            "month": date_series("month", ctx.month_days[month_idx.ravel()]),
            "factor": np.array(names)[factor_idx.ravel()],
            "value": values.ravel(),
        }
    ).sort(["month", "factor"])
