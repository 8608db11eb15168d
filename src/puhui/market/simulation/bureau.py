"""The credit bureau (征信): loans and overdues at other lenders, and hard enquiries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import sigmoid
from puhui.market.simulation.identity import MonthlyRows
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class OtherLenders:
    """Per slot and observed month: the firm's standing with other lenders."""

    loans: I64
    balance_yuan: F64
    overdue_loans: I64
    max_days_past_due: I64
    enquiry_rate: F64
    """Monthly rate of hard enquiries before any application of the firm's own."""


def other_lenders(ctx: ChunkContext, latent: LatentPath) -> OtherLenders:
    statics, streams, slot, window = ctx.statics, ctx.streams, ctx.slot, ctx.window
    dist, post = latent.in_distress, latent.in_default
    packaged_month = statics.packaged_month[:, None]
    packaging = (window[None, :] >= packaged_month - 3) & (window[None, :] <= packaged_month + 6)
    loans = (
        statics.loans_base[:, None]
        + (dist & (ctx.monthly_uniform(MonthlyStream.LOANS) < 0.6)).astype(np.int64)
        + packaging.astype(np.int64)
    )
    balance = loans * np.round(
        statics.revenue_yuan[:, None]
        * 0.12
        * np.exp(0.1 * streams.normal(MonthlyStream.LOANS, slot[:, None], window[None, :])),
        -3,
    )
    since_onset = window[None, :] - latent.onset[:, None] + 1
    ramp = since_onset / np.maximum(latent.lead, 1)[:, None]
    draw = ctx.monthly_uniform(MonthlyStream.OVERDUE)
    overdue_distressed = dist & (draw < 0.8 * ramp)
    overdue_normal = ~dist & ~post & (draw < sigmoid(-5.5 - 1.0 * latent.health))
    overdue = np.where(
        post, np.maximum(loans, 1), (overdue_distressed | overdue_normal).astype(np.int64)
    )
    loans = np.maximum(loans, overdue)
    dpd_draw = ctx.monthly_uniform(MonthlyStream.DPD)
    dpd = np.where(
        post,
        30 * (window[None, :] - latent.default[:, None] + 1),
        np.where(
            overdue_distressed,
            1 + np.floor(29 * dpd_draw),
            np.where(overdue_normal, 1 + np.floor(20 * dpd_draw), 0),
        ),
    ).astype(np.int64)
    shell_attack = (
        statics.is_shell[:, None]
        & (window[None, :] >= statics.attack_month[:, None] - 1)
        & (window[None, :] <= statics.attack_month[:, None] + 1)
    )
    pack_window = (window[None, :] >= packaged_month - 2) & (window[None, :] <= packaged_month)
    return OtherLenders(
        loans=loans,
        balance_yuan=balance,
        overdue_loans=overdue,
        max_days_past_due=dpd,
        enquiry_rate=0.08 + 0.5 * dist + 2.5 * pack_window + 3.0 * shell_attack,
    )


def hard_enquiries(
    ctx: ChunkContext, lenders: OtherLenders, applicant: I64, application_month: I64
) -> I64:
    """Hard enquiries at other lenders follow applications (shopping around) and stress."""
    extra = np.zeros(lenders.enquiry_rate.shape, dtype=np.float64)
    np.add.at(extra, (applicant, application_month), 1.0)
    return ctx.streams.poisson(
        MonthlyStream.ENQ,
        np.minimum(lenders.enquiry_rate + 0.8 * extra, 20.0),
        ctx.slot[:, None],
        ctx.window[None, :],
    )


def bureau_table(lenders: OtherLenders, enquiries: I64, rows: MonthlyRows) -> pl.DataFrame:
    at = (rows.enterprise, rows.month)
    return pl.DataFrame(
        {
            "uscc": rows.uscc,
            "month": rows.month_date,
            "other_lender_loans": lenders.loans[at].astype(np.int32),
            "other_lender_balance_fen": (lenders.balance_yuan * 100).astype(np.int64)[at],
            "overdue_loans": lenders.overdue_loans[at].astype(np.int32),
            "max_days_past_due": lenders.max_days_past_due[at].astype(np.int32),
            "hard_enquiries": enquiries[at].astype(np.int32),
        }
    )
