"""Court records (裁判文书, 被执行人, 失信): cases filed, closed, executions and listings."""

from __future__ import annotations

import numpy as np
import polars as pl

from puhui.market import schema
from puhui.market.catalog import REGIONS
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series, empty, sigmoid
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

PROVINCE_ABBR = {
    "11": "京",
    "13": "冀",
    "21": "辽",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "50": "渝",
    "51": "川",
    "53": "滇",
    "61": "陕",
}
"""One-character province abbreviations used in case numbers."""
CASE_EVENTS = ("filed", "closed", "executed_listed", "dishonest_listed")
CASE_TYPES = ("contract_dispute", "loan_dispute", "labour_dispute", "sales_dispute")


def court_cases_table(ctx: ChunkContext, latent: LatentPath, ids: Identity) -> pl.DataFrame:
    statics, streams, slot, n_months = ctx.statics, ctx.streams, ctx.slot, ctx.months
    dist, post = latent.in_distress, latent.in_default
    chance = 0.003 + 0.006 * sigmoid(-latent.health) + 0.12 * dist + 0.35 * post
    chance = np.where(statics.is_shell[:, None], np.where(post, 0.35, 0.0), chance)
    hit = latent.alive & (ctx.monthly_uniform(MonthlyStream.CASE) < chance)
    ci, ct = np.nonzero(hit)
    if len(ci) == 0:
        return empty(schema.COURT_CASES)
    key = slot[ci]
    stressed = dist[ci, ct] | post[ci, ct]
    defendant = streams.uniform(MonthlyStream.CASE_ROLE, key, ct) < np.where(stressed, 0.95, 0.6)
    type_draw = streams.uniform(MonthlyStream.CASE_TYPE, key, ct)
    case_type = np.where(
        stressed,
        np.select([type_draw < 0.6, type_draw < 0.9], [1, 0], default=2),
        np.select([type_draw < 0.5, type_draw < 0.8], [0, 3], default=2),
    )
    amount = (
        np.round(
            statics.revenue_yuan[ci]
            * 0.08
            * np.exp(0.8 * streams.normal(MonthlyStream.CASE_AMT, key, ct)),
            -2,
        )
        * 100
    )
    lag = streams.uniform(MonthlyStream.CASE_LAG, key, ct)
    executed = defendant & stressed & (lag < 0.7)
    exec_t = ct + 1 + (streams.integers(MonthlyStream.CASE_LAG + 1, 0, 3, key, ct))
    dishonest = executed & (streams.uniform(MonthlyStream.CASE_LAG + 2, key, ct) < 0.5)
    dish_t = exec_t + 1 + streams.integers(MonthlyStream.CASE_LAG + 3, 0, 4, key, ct)
    close_t = ct + 2 + streams.integers(MonthlyStream.CASE_LAG + 4, 0, 7, key, ct)
    event_t = np.stack([ct, close_t, exec_t, dish_t])
    event_ok = np.stack([np.ones(len(ci), bool), ~executed, executed, dishonest]) & (
        event_t < n_months
    )
    region = np.array([r.code for r in REGIONS])[statics.region[ci]]
    province = np.array([PROVINCE_ABBR.get(c[:2], "京") for c in region])
    years = np.array([ctx.calendar.year_month(int(k))[0] for k in range(n_months)])[ct]
    number = streams.integers(MonthlyStream.CASE_NO, 1, 30_000, key, ct)
    case_id = np.char.add(
        np.char.add(np.char.add(np.char.add("(", years.astype(str)), ")"), province),
        np.char.add(
            np.char.add(np.char.add(region.astype("U4"), "民初"), number.astype(str)), "号"
        ),
    )
    day = streams.integers(MonthlyStream.CASE_DAY, 0, 28, key, ct)
    row, event_idx = np.nonzero(event_ok.T)  # case by case, events in order
    event_month = event_t[event_idx, row]
    return pl.DataFrame(
        {
            "case_id": case_id[row],
            "uscc": ids.uscc.gather(ci[row]),
            "event_date": date_series("event_date", ctx.calendar.days(event_month) + day[row]),
            "month": date_series("month", ctx.calendar.days(event_month)),
            "event": np.array(CASE_EVENTS)[event_idx],
            "role": np.where(defendant[row], "defendant", "plaintiff"),
            "case_type": np.array(CASE_TYPES)[case_type[row]],
            "amount_fen": amount[row].astype(np.int64),
        }
    )
