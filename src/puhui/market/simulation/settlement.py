"""The settlement account (结算账户): inflows, outflows, balance, and the cash it leaves free."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.simulation.activity import Activity
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.identity import MonthlyRows
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class AccountFlows:
    """Per slot and observed month, in fen except ``related_yuan``."""

    inflow_fen: I64
    outflow_fen: I64
    balance_fen: I64  # month-end balance
    related_yuan: F64  # transfers to related parties
    cash_available_fen: I64
    """What the firm could pay a lender this month (half the balance plus the surplus)."""


def account_flows(ctx: ChunkContext, latent: LatentPath, business: Activity) -> AccountFlows:
    statics, streams, slot, window = ctx.statics, ctx.streams, ctx.slot, ctx.window
    dist, post, revenue = latent.in_distress, latent.in_default, business.revenue_yuan
    n = len(slot)
    inflow = (
        revenue
        * statics.settle_share[:, None]
        * np.exp(0.05 * streams.normal(MonthlyStream.INFLOW, slot[:, None], window[None, :]))
    )
    margin = (
        0.05
        + 0.04 * (latent.health - statics.base_health[:, None])
        + 0.03 * streams.normal(MonthlyStream.MARGIN, slot[:, None], window[None, :])
        - 0.08 * dist
    )
    outflow = inflow * (1.0 - margin)
    related = np.where(
        ctx.monthly_uniform(MonthlyStream.RELATED) < np.where(dist, 0.3, 0.05),
        inflow * np.where(dist, 0.3, 0.1),
        0.0,
    )
    # Packaging (养流水): money cycled through the account in the four months before the
    # application, so turnover looks two to three times bigger than the business.
    packaged_month = statics.packaged_month[:, None]
    pumping = (
        (window[None, :] >= packaged_month - 4) & (window[None, :] < packaged_month) & latent.alive
    )
    pumped = 2.5 * statics.revenue_yuan[:, None] / 12.0 * statics.settle_share[:, None]
    inflow = np.where(pumping, inflow + pumped, inflow)
    outflow = np.where(pumping, outflow + 0.98 * pumped, outflow)
    related = np.where(pumping, related + 0.8 * pumped, related)
    shell = statics.is_shell[:, None]
    inflow = np.where(shell, revenue, inflow)
    outflow = np.where(shell, 0.99 * revenue, outflow)
    related = np.where(shell, 0.9 * revenue, related)
    inflow_fen = np.round(inflow * 100).astype(np.int64)
    outflow_fen = np.round(outflow * 100).astype(np.int64)
    balance = np.zeros((n, ctx.months), dtype=np.int64)
    running = np.round(
        statics.revenue_yuan / 12.0 * (0.3 + 1.2 * streams.uniform(MonthlyStream.BAL0, slot)) * 100
    )
    running = np.where(statics.is_shell, 1_000_000, running).astype(np.int64)
    for k in range(ctx.months):
        # After default the owner drains the account: outflows take half the balance.
        drain = np.where(post[:, k], running // 2, 0)
        outflow_fen[:, k] = np.where(post[:, k], inflow_fen[:, k] + drain, outflow_fen[:, k])
        running = np.maximum(0, running + inflow_fen[:, k] - outflow_fen[:, k])
        outflow_fen[:, k] = np.minimum(outflow_fen[:, k], running + outflow_fen[:, k])
        balance[:, k] = running
    surplus = np.maximum(0, inflow_fen - outflow_fen)
    cash = np.where(post | business.shell_gone | ~latent.alive, 0, balance // 2 + surplus).astype(
        np.int64
    )
    return AccountFlows(
        inflow_fen=inflow_fen,
        outflow_fen=outflow_fen,
        balance_fen=balance,
        related_yuan=related,
        cash_available_fen=cash,
    )


def settlement_table(
    ctx: ChunkContext, business: Activity, flows: AccountFlows, rows: MonthlyRows
) -> pl.DataFrame:
    revenue = business.revenue_yuan
    rate = np.where(revenue > 0, 2.0 + 3.0 * np.log1p(revenue / 50_000.0), 0.0)
    counterparties = ctx.streams.poisson(
        MonthlyStream.CPTY, np.minimum(rate, 25.0), ctx.slot[:, None], ctx.window[None, :]
    )
    at = (rows.enterprise, rows.month)
    return pl.DataFrame(
        {
            "uscc": rows.uscc,
            "month": rows.month_date,
            "inflow_fen": flows.inflow_fen[at],
            "outflow_fen": flows.outflow_fen[at],
            "balance_fen": flows.balance_fen[at],
            "counterparties": counterparties[at].astype(np.int32),
            "related_party_transfer_fen": np.round(flows.related_yuan * 100).astype(np.int64)[at],
        }
    )
