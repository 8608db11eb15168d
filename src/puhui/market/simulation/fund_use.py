"""Where drawn money goes (资金流向): settlement debits by counterparty type around each draw.

Every application is a draw: the legacy lender's principal when it granted the application,
otherwise the amount requested (what the applicant would draw from a lender that grants it),
credited on the application day or up to three days after. Around each draw the account's
debits are reported in 10-day periods, from 30 days before to 60 days after, by counterparty
type. A period's debits are the business's usual payments plus what the firm spent of the
drawn money in it:

- **usual payments** are ``settlement_monthly``'s outflow of the month split by type (its
  ``related_party_transfer_fen`` is the related-party part) and spread evenly over the days
  of the month with cumulative floors, so the periods of a whole month add up to the month's
  outflow to the fen and nothing is invented between the two tables;
- **the proceeds** are all spent within 60 days. A clean draw pays suppliers and wages (and
  often a little to the owner); a misused one sends most of it, within 30 days, to related
  parties and the owner, to securities and real estate, or back to other lenders (借新还旧).
  Misuse is likelier for fraud-ring shells, packaged applicants and firms in distress.

Settlement-account debits of ``settlement_monthly`` never included credit proceeds (loan
money is not business flow), so the table's usual payments are that table's outflows and the
proceeds are on top of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema
from puhui.market.simulation.applications import KIND_FRAUD, KIND_PACKAGED, Applications
from puhui.market.simulation.bureau import OtherLenders
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series, empty, masked
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.legacy_loans import LegacyGrants
from puhui.market.simulation.settlement import AccountFlows
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

SUPPLIERS, WAGES_TAX, RELATED_OWNER, SECURITIES, OTHER_LENDERS = range(5)
N_TYPES = len(schema.COUNTERPARTY_TYPES)
DIVERTED_TYPES = (RELATED_OWNER, SECURITIES, OTHER_LENDERS)
PERIOD_DAYS = 10
PERIODS = np.arange(-3, 6, dtype=np.int64)
"""Period ``p`` covers days ``[10p, 10p + 10)`` after the draw day (day 0)."""
POST_PERIODS = 6
DIVERSION_PERIODS = 3
"""A misused draw's diverted money leaves within these periods (the first 30 days)."""
DRAW_LAG_DAYS = 4
"""The money arrives on the application day or up to three days after."""

MISUSE_PROBABILITY = {"fraud": 0.9, "packaged": 0.55, "distressed": 0.45, "other": 0.02}
"""Chance that a draw is misused, by what the applicant is (in this order of precedence)."""
MISUSE_TYPE_MIX = {
    # related_owner, securities_real_estate, other_lenders
    "fraud": (0.8, 0.15, 0.05),
    "packaged": (0.4, 0.2, 0.4),
    "distressed": (0.35, 0.05, 0.6),
    "other": (0.3, 0.5, 0.2),
}
DIVERTED_SHARE_RANGE = (0.45, 0.95)
"""Share of a misused draw that goes to the misuse destination within 30 days."""
DISGUISE_PROBABILITY = 0.3
DISGUISED_PART_RANGE = (0.3, 0.8)
"""Some misusers pass part of the diverted money through a related trading company that the
statement shows as a supplier — the usual way round entrusted payment (受托支付), where the
lender pays the supplier itself — a disguise no counterparty-type rule can see through."""
LUMP_PROBABILITY = 0.03
"""Monthly chance that a firm with debt elsewhere repays a maturing loan there in one lump
(one to three months of outflow), so clean firms too send large sums to other lenders."""


@dataclass(frozen=True, eq=False)
class DrawUse:
    outflows: pl.DataFrame
    truth: pl.DataFrame


@dataclass(frozen=True, eq=False)
class Draws:
    """Draws by row: application row, enterprise row, day, amount and misuse truth."""

    app_row: I64
    enterprise: I64
    day: I64  # days since 1970-01-01
    month: I64  # window offset of the draw day's month
    amount_fen: I64
    misuse: BOOL
    misuse_type: I64  # a DIVERTED_TYPES member, or -1
    diverted_share: F64  # of the amount, to the misuse destination (0 when clean)
    disguised_part: F64  # of the diverted money, paid through a sham supplier
    key: I64


def month_bounds(ctx: ChunkContext) -> I64:
    """First days of the observed months and of the month after the window."""
    return ctx.calendar.days(np.arange(ctx.months + 1, dtype=np.int64))


def _month_of(days: I64, bounds: I64) -> I64:
    out: I64 = np.searchsorted(bounds, days, side="right").astype(np.int64) - 1
    return out


def draws(ctx: ChunkContext, latent: LatentPath, apps: Applications, grants: LegacyGrants) -> Draws:
    """One draw per application whose money arrives inside the observed window."""
    streams = ctx.streams
    bounds = month_bounds(ctx)
    at = apps.month.astype(np.int64)
    key = apps.key.astype(np.int64)
    app_day = apps.frame.get_column("application_date").cast(pl.Int32).to_numpy().astype(np.int64)
    day = app_day + streams.integers(MonthlyStream.FUND_LAG, 0, DRAW_LAG_DAYS, key, at)
    amount = (apps.requested_yuan * 100).astype(np.int64)
    amount[grants.approved] = grants.principal_fen
    keep = day < bounds[-1]
    rows = np.nonzero(keep)[0]
    ai, at, key, day, amount = apps.enterprise[rows], at[rows], key[rows], day[rows], amount[rows]
    kind = apps.kind[rows]
    distressed = latent.in_distress[ai, at] | latent.in_default[ai, at]
    group = np.select(
        [kind == KIND_FRAUD, kind == KIND_PACKAGED, distressed], [0, 1, 2], default=3
    ).astype(np.int64)
    names = ("fraud", "packaged", "distressed", "other")
    chance = np.array([MISUSE_PROBABILITY[g] for g in names])[group]
    misuse = streams.uniform(MonthlyStream.FUND_MISUSE, key, at) < chance
    mix = np.cumsum(np.array([MISUSE_TYPE_MIX[g] for g in names]), axis=1)[group]
    pick = (streams.uniform(MonthlyStream.FUND_TYPE, key, at)[:, None] >= mix).sum(axis=1)
    misuse_type = np.where(misuse, np.array(DIVERTED_TYPES)[np.minimum(pick, 2)], -1)
    low, high = DIVERTED_SHARE_RANGE
    share = low + (high - low) * streams.uniform(MonthlyStream.FUND_SHARE, key, at)
    disguise = streams.uniform(MonthlyStream.FUND_DISGUISE, key, at) < DISGUISE_PROBABILITY
    d_low, d_high = DISGUISED_PART_RANGE
    part = d_low + (d_high - d_low) * streams.uniform(MonthlyStream.FUND_DISGUISED_PART, key, at)
    return Draws(
        app_row=rows,
        enterprise=ai,
        day=day,
        month=_month_of(day, bounds),
        amount_fen=amount,
        misuse=misuse,
        misuse_type=misuse_type.astype(np.int64),
        diverted_share=np.where(misuse, share, 0.0),
        disguised_part=np.where(misuse & disguise, part, 0.0),
        key=key,
    )


def cumulative_split(total: I64, weights: F64) -> I64:
    """Integer parts of ``total`` (per row) in proportion to ``weights`` (rows x parts) that
    add up to ``total`` exactly: differences of floored cumulative shares."""
    sums = weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights / np.where(sums > 0, sums, 1.0), axis=1)
    cum = np.minimum(cum, 1.0)
    floors = np.floor(total[:, None].astype(np.float64) * cum).astype(np.int64)
    floors[:, -1] = np.where(sums[:, 0] > 0, total, 0)
    floors = np.maximum.accumulate(floors, axis=1)
    out: I64 = np.diff(floors, axis=1, prepend=0)
    return out


def proceeds_spending(ctx: ChunkContext, d: Draws) -> I64:
    """Fen of each draw spent per counterparty type and post-draw period (draws x types x 6)."""
    streams = ctx.streams
    n = len(d.key)
    at = d.month
    mix = streams.uniform(MonthlyStream.FUND_OWNER_SHARE, d.key, at)
    owner = np.where(streams.uniform(MonthlyStream.FUND_OWNER, d.key, at) < 0.5, 0.1 * mix**2, 0.0)
    lenders = np.where(
        streams.uniform(MonthlyStream.FUND_ELSEWHERE, d.key, at) < 0.15,
        0.08 * streams.uniform(MonthlyStream.FUND_ELSEWHERE_SHARE, d.key, at),
        0.0,
    )
    wages = 0.1 + 0.2 * streams.uniform(MonthlyStream.FUND_WAGES, d.key, at)
    # The clean part: suppliers and wages over 60 days, front-loaded; a little to the owner.
    clean = 1.0 - d.diverted_share
    type_share = np.zeros((n, N_TYPES))
    type_share[:, WAGES_TAX] = clean * wages
    type_share[:, RELATED_OWNER] = clean * owner
    type_share[:, OTHER_LENDERS] = clean * lenders
    type_share[:, SUPPLIERS] = clean * (1.0 - wages - owner - lenders)
    jitter = streams.uniform(
        MonthlyStream.FUND_TIMING, d.key[:, None], at[:, None] * 16 + np.arange(POST_PERIODS)
    )
    profile = np.array([0.24, 0.2, 0.16, 0.15, 0.13, 0.12])[None, :] * (0.6 + 0.8 * jitter)
    profile /= profile.sum(axis=1, keepdims=True)
    weights = type_share[:, :, None] * profile[:, None, :]
    # The diverted part leaves within 30 days, mostly in the first ten.
    early = streams.uniform(
        MonthlyStream.FUND_DIVERT_TIMING, d.key[:, None], at[:, None] * 4 + np.arange(3)
    )
    divert_profile = np.array([0.6, 0.28, 0.12])[None, :] * (0.5 + early)
    divert_profile /= divert_profile.sum(axis=1, keepdims=True)
    rows = np.nonzero(d.misuse)[0]
    diverted = d.diverted_share[rows, None] * divert_profile[rows]
    disguised = d.disguised_part[rows, None]
    weights[rows, d.misuse_type[rows], :DIVERSION_PERIODS] += diverted * (1.0 - disguised)
    weights[rows, SUPPLIERS, :DIVERSION_PERIODS] += diverted * disguised
    spent = cumulative_split(d.amount_fen, weights.reshape(n, -1))
    return spent.reshape(n, N_TYPES, POST_PERIODS)


def usual_payments(
    ctx: ChunkContext,
    latent: LatentPath,
    flows: AccountFlows,
    lenders: OtherLenders,
    firms: I64,
) -> I64:
    """Settlement outflow of the chunk's rows ``firms`` in each month split by counterparty
    type (firms x months x types); the types add up to ``settlement_monthly.outflow_fen``
    exactly and the related type is its ``related_party_transfer_fen``."""
    streams, window = ctx.streams, ctx.window
    slot = ctx.slot[firms]
    alive = latent.alive[firms]
    outflow = np.where(alive, flows.outflow_fen[firms], 0)
    related = np.round(flows.related_yuan[firms] * 100).astype(np.int64)
    related = np.where(alive, np.minimum(related, outflow), 0)
    rest = (outflow - related).astype(np.float64)
    balance_fen = lenders.balance_yuan[firms] * 100
    wage_share = 0.15 + 0.15 * streams.uniform(MonthlyStream.FUND_USUAL_WAGES, slot)
    wages = np.floor(rest * wage_share[:, None]).astype(np.int64)
    cell = (slot[:, None], window[None, :])
    lump = (streams.uniform(MonthlyStream.FUND_LUMP, *cell) < LUMP_PROBABILITY) & (balance_fen > 0)
    lump_size = 1.0 + 2.0 * streams.uniform(MonthlyStream.FUND_LUMP_SIZE, *cell)
    service = np.floor(
        np.where(
            lump,
            np.minimum(0.6 * rest, balance_fen * lump_size),
            np.minimum(0.3 * rest, balance_fen * 0.04),
        )
    ).astype(np.int64)
    invests = streams.uniform(MonthlyStream.FUND_SECURITIES, *cell) < 0.03
    securities_share = 0.05 * streams.uniform(MonthlyStream.FUND_SECURITIES_SHARE, *cell)
    securities = np.where(invests, np.floor(rest * securities_share), 0).astype(np.int64)
    wages = np.minimum(wages, np.floor(rest).astype(np.int64) - service - securities)
    out = np.zeros((len(slot), ctx.months, N_TYPES), dtype=np.int64)
    out[:, :, WAGES_TAX] = wages
    out[:, :, RELATED_OWNER] = related
    out[:, :, SECURITIES] = securities
    out[:, :, OTHER_LENDERS] = service
    out[:, :, SUPPLIERS] = outflow - related - wages - securities - service
    return out


def spread(monthly: I64, month: I64, lo: I64, hi: I64, bounds: I64) -> I64:
    """Fen of ``monthly`` (rows x types) paid on days [lo, hi) of ``month`` (absolute days),
    the month's amount spread evenly over its days with cumulative floors."""
    start = bounds[month]
    length = (bounds[month + 1] - start)[:, None]
    a = (lo - start)[:, None]
    b = (hi - start)[:, None]
    out: I64 = monthly * b // length - monthly * a // length
    return out


def draw_use(
    ctx: ChunkContext,
    *,
    latent: LatentPath,
    ids: Identity,
    apps: Applications,
    grants: LegacyGrants,
    flows: AccountFlows,
    lenders: OtherLenders,
) -> DrawUse:
    """The public ``draw_outflows`` rows and the hidden ``draw_use_truth`` of each draw."""
    d = draws(ctx, latent, apps, grants)
    n = len(d.key)
    if n == 0:
        return DrawUse(empty(schema.DRAW_OUTFLOWS), empty(schema.TRUTH_DRAW_USE))
    bounds = month_bounds(ctx)
    spent = proceeds_spending(ctx, d)
    # Only the firms that draw need their usual payments (the draws are per slot and month,
    # so computing them for a subset changes no value).
    firms, firm_of_draw = np.unique(d.enterprise, return_inverse=True)
    usual = usual_payments(ctx, latent, flows, lenders, firms)
    n_periods = len(PERIODS)
    draw_row = np.repeat(np.arange(n), n_periods)
    period = np.tile(PERIODS, n)
    lo = d.day[draw_row] + PERIOD_DAYS * period
    hi = lo + PERIOD_DAYS
    inside = (lo >= bounds[0]) & (hi <= bounds[-1])
    draw_row, period, lo, hi = draw_row[inside], period[inside], lo[inside], hi[inside]
    first = _month_of(lo, bounds)
    last = _month_of(hi - 1, bounds)
    ent = d.enterprise[draw_row]
    firm = firm_of_draw.reshape(-1)[draw_row]
    split = np.minimum(hi, bounds[first + 1])
    amount = spread(usual[firm, first], first, lo, split, bounds)
    spill = last > first
    amount[spill] += spread(
        usual[firm[spill], last[spill]], last[spill], split[spill], hi[spill], bounds
    )
    post = period >= 0
    amount[post] += spent[draw_row[post], :, period[post]]
    known = np.maximum(last, d.month[draw_row])
    n_rows = len(draw_row)
    row = np.repeat(np.arange(n_rows), N_TYPES)
    app_row = d.app_row[draw_row]
    loan_of_app = np.full(len(apps.key), -1, dtype=np.int64)
    loan_of_app[np.nonzero(grants.approved)[0]] = np.arange(int(grants.approved.sum()))
    loan_index = loan_of_app[d.app_row]
    loan_ids = masked(
        grants.loan_id.gather(np.maximum(loan_index, 0))
        if grants.loan_id.len()
        else pl.Series([""] * n, dtype=pl.String),
        loan_index >= 0,
    )
    app_ids = apps.frame.get_column("application_id")
    outflows = pl.DataFrame(
        {
            "application_id": app_ids.gather(app_row[row]),
            "loan_id": loan_ids.gather(draw_row[row]),
            "uscc": ids.uscc.gather(ent[row]),
            "draw_date": date_series("draw_date", d.day[draw_row[row]]),
            "draw_amount_fen": d.amount_fen[draw_row[row]],
            "month": date_series("month", bounds[known[row]]),
            "days_from_draw": (PERIOD_DAYS * period[row]).astype(np.int32),
            "counterparty_type": np.tile(np.array(schema.COUNTERPARTY_TYPES), n_rows),
            "amount_fen": amount.reshape(-1),
        }
    )
    disguised = np.floor(d.amount_fen * d.diverted_share * d.disguised_part).astype(np.int64)
    diverted = spent[:, list(DIVERTED_TYPES), :DIVERSION_PERIODS].sum(axis=(1, 2)) + disguised
    names = np.array(schema.COUNTERPARTY_TYPES)
    truth = pl.DataFrame(
        {
            "application_id": app_ids.gather(d.app_row),
            "uscc": ids.uscc.gather(d.enterprise),
            "month": date_series("month", bounds[d.month]),
            "draw_date": date_series("draw_date", d.day),
            "is_misuse": d.misuse,
            "misuse_type": masked(names[np.maximum(d.misuse_type, 0)], d.misuse),
            "diverted_fen": diverted,
            "diverted_share": diverted / np.maximum(d.amount_fen, 1),
        }
    )
    return DrawUse(outflows=outflows, truth=truth)
