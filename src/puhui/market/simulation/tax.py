"""VAT filings (增值税申报): declared sales, VAT, late filing, arrears, tax credit grade."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.simulation.activity import Activity
from puhui.market.simulation.context import BURN_IN_MONTHS, ChunkContext
from puhui.market.simulation.frames import gather, sigmoid
from puhui.market.simulation.identity import MonthlyRows
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

I64 = npt.NDArray[np.int64]


def tax_credit_grades(ctx: ChunkContext, latent: LatentPath) -> I64:
    """Annual tax credit grade (0..4 = A, B, M, C, D) from health at the previous December."""
    statics, window = ctx.statics, ctx.window
    years = np.array([ctx.calendar.year_month(int(k))[0] for k in window])
    months = np.array([ctx.calendar.year_month(int(k))[1] for k in window])
    dec_prev = window - months  # month offset of December of the previous year
    jan = window - months + 1
    idx = np.clip(dec_prev + BURN_IN_MONTHS, 0, latent.health_full.shape[1] - 1)
    score = latent.health_full[:, idx] + 0.3 * ctx.streams.normal(
        MonthlyStream.GRADE, ctx.slot[:, None], years[None, :]
    )
    grade = np.select([score > 0.9, score > -0.7, score > -1.7], [0, 1, 3], default=4)
    young = (jan[None, :] - statics.reg_month[:, None]) < 12
    out: I64 = np.where(young, 2, grade).astype(np.int64)
    return out


def tax_table(
    ctx: ChunkContext,
    latent: LatentPath,
    business: Activity,
    grade: I64,
    rows: MonthlyRows,
) -> pl.DataFrame:
    statics = ctx.statics
    health, dist, post = latent.health, latent.in_distress, latent.in_default
    late = ctx.monthly_uniform(MonthlyStream.LATE) < sigmoid(
        -4.2 - 0.8 * health + 2.2 * dist + 3.0 * post
    )
    late = np.where(statics.is_shell[:, None], business.shell_gone, late)
    missed = late & (ctx.monthly_uniform(MonthlyStream.MISSED) < 0.4)
    declared = np.where(
        missed, 0, np.round(business.revenue_yuan * statics.report_ratio[:, None] * 100)
    )
    declared = declared.astype(np.int64)
    small = ~statics.is_general[:, None]
    exempt = small & (declared <= 10_000_000)
    vat = np.where(
        small,
        np.where(exempt, 0, np.round(declared * 0.01)),
        np.round(declared * 0.13 * statics.va_share[:, None]),
    ).astype(np.int64)
    unpaid = ctx.monthly_uniform(MonthlyStream.UNPAID) < sigmoid(
        -5.0 - 0.8 * health + 2.5 * dist + 4.0 * post
    )
    clear = ctx.monthly_uniform(MonthlyStream.CLEAR) < 0.5
    arrears = np.zeros_like(declared)
    prev = np.zeros(len(ctx.slot), dtype=np.int64)
    for k in range(ctx.months):
        prev = np.where(unpaid[:, k], prev + vat[:, k], np.where(clear[:, k], 0, prev))
        arrears[:, k] = prev
    at = (rows.enterprise, rows.month)
    return pl.DataFrame(
        {
            "uscc": rows.uscc,
            "month": rows.month_date,
            "declared_sales_fen": declared[at],
            "vat_payable_fen": vat[at],
            "vat_exempt": exempt[at],
            "late_filing": late[at],
            "arrears_fen": arrears[at],
            "tax_credit_grade": gather("ABMCD", grade[at]),
        }
    )
