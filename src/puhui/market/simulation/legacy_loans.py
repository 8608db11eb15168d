"""A legacy lender's loans: a naive approval rule on observables; outcomes follow the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema
from puhui.market.identifiers import hex_ids
from puhui.market.population import NO_MONTH
from puhui.market.simulation.applications import Applications
from puhui.market.simulation.bureau import OtherLenders
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series, empty
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class LegacyGrants:
    """The applications the legacy lender grants (by application row) and their loans."""

    approved: BOOL  # per application row
    principal_fen: I64  # per granted loan, in application order
    loan_id: pl.Series  # per granted loan


def legacy_grants(
    ctx: ChunkContext, *, apps: Applications, grade: I64, lenders: OtherLenders
) -> LegacyGrants:
    """A naive rule: six months registered, tax grade A or B, nothing overdue, then a coin."""
    statics, streams = ctx.statics, ctx.streams
    ai = apps.enterprise.astype(np.int64)
    at = apps.month.astype(np.int64)
    key = apps.key.astype(np.int64)
    age_ok = (at - statics.reg_month[ai]) >= 6
    grade_ok = grade[ai, at] <= 2
    clean = lenders.overdue_loans[ai, at] == 0
    approve = age_ok & grade_ok & clean & (streams.uniform(MonthlyStream.APPROVE, key, at) < 0.5)
    lt, lk = at[approve], key[approve]
    principal = np.round(
        apps.requested_yuan.astype(np.float64)[approve]
        * (0.6 + 0.4 * streams.uniform(MonthlyStream.LOAN_SHARE, lk, lt)),
        -3,
    )
    principal = np.maximum(principal, 10_000.0)
    loan_id = (
        hex_ids("LN", streams.bits(MonthlyStream.LOAN_ID, lk, lt), "loan_id")
        if len(lk)
        else pl.Series("loan_id", [], dtype=pl.String)
    )
    return LegacyGrants(
        approved=approve, principal_fen=(principal * 100).astype(np.int64), loan_id=loan_id
    )


def loan_history_table(
    ctx: ChunkContext,
    *,
    latent: LatentPath,
    ids: Identity,
    apps: Applications,
    grants: LegacyGrants,
    cash_available_fen: I64,
) -> pl.DataFrame:
    """Monthly rows of every loan the legacy lender grants, until repaid or written off."""
    streams, n_months = ctx.streams, ctx.months
    approve = grants.approved
    ai = apps.enterprise.astype(np.int64)
    at = apps.month.astype(np.int64)
    key = apps.key.astype(np.int64)
    li, lt, lk = ai[approve], at[approve], key[approve]
    if len(li) == 0:
        return empty(schema.LOAN_HISTORY)
    app_id = apps.application_id[approve]
    principal_f = grants.principal_fen
    term = apps.term_months.astype(np.int64)[approve]
    rate_bp = np.round(
        450
        + 700 * streams.uniform(MonthlyStream.RATE, lk, lt)
        - 150 * np.clip(latent.health[li, lt], -1, 1)
    )
    default = latent.default[li]
    bad = (default <= lt + term) & (default < NO_MONTH)
    first_bad = np.maximum(default, lt + 1)
    last = np.where(bad, first_bad + 5, lt + term)
    last_obs = np.minimum(last, n_months - 1)
    n_rows = last_obs - lt + 1
    loan_rows = np.repeat(np.arange(len(li)), n_rows)
    offs = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    month = lt[loan_rows] + offs
    principal_row, term_row = principal_f[loan_rows], term[loan_rows]
    paid_k = np.minimum(offs, term_row)
    is_bad = bad[loan_rows] & (month >= first_bad[loan_rows])
    frozen_k = np.minimum(first_bad[loan_rows] - lt[loan_rows] - 1, term_row)
    balance = principal_row - principal_row * np.where(is_bad, frozen_k, paid_k) // term_row
    dpd = np.where(is_bad, 30 * (month - first_bad[loan_rows] + 1), 0)
    instalment = (
        principal_row // term_row + principal_row * rate_bp[loan_rows].astype(np.int64) // 120_000
    )
    cash_m = cash_available_fen[li[loan_rows], np.minimum(month, n_months - 1)]
    short = (~is_bad) & (offs > 0) & (offs < term_row) & (cash_m < instalment)
    dpd = np.where(
        short, 1 + streams.integers(MonthlyStream.TECH_DPD, 0, 25, lk[loan_rows], month), dpd
    )
    status = np.where(
        is_bad,
        np.where(dpd >= 180, "written_off", "overdue"),
        np.where(offs >= term_row, "repaid", np.where(short, "overdue", "current")),
    )
    loan_id = grants.loan_id.gather(loan_rows)
    return pl.DataFrame(
        {
            "loan_id": loan_id,
            "uscc": ids.uscc.gather(li[loan_rows]),
            "month": date_series("month", ctx.calendar.days(month)),
            "application_id": pl.Series(app_id.astype(str)).gather(loan_rows),
            "origination_month": date_series("o", ctx.calendar.days(lt[loan_rows])),
            "principal_fen": principal_row,
            "term_months": term_row.astype(np.int32),
            "annual_rate_bp": rate_bp[loan_rows].astype(np.int32),
            "balance_fen": np.where(status == "repaid", 0, balance),
            "days_past_due": dpd.astype(np.int32),
            "status": status,
        }
    )
