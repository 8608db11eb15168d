"""Latent health, distress and default of each slot: the hidden path every observable follows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from puhui.market.population import NO_MONTH
from puhui.market.simulation.context import BURN_IN_MONTHS, ChunkContext
from puhui.market.simulation.factors import CommonFactors
from puhui.market.simulation.frames import sigmoid
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

# Default hazard of the pre-default decline ("distress onset"): monthly logit a + b * health.
# Calibrated so the annual default rate of the baseline sits in 2-3.5% (market-facts.md s7).
HAZARD_INTERCEPT = -6.9
HAZARD_SLOPE = -1.25
DISTRESS_DROP = 2.5
"""How far latent health falls over the lead months between onset and default."""
CLOSE_AFTER_DEFAULT = 2
"""An enterprise keeps filing for this many months after its default month, then closes."""


@dataclass(frozen=True, eq=False)
class LatentPath:
    """Per slot (rows) and month: arrays over the observed window unless named ``_full``."""

    onset: I64  # month of distress onset, NO_MONTH if none
    default: I64  # default month, NO_MONTH if none
    close: I64  # month the enterprise closes, NO_MONTH if never
    lead: I64  # months from onset to default
    health_full: F64  # latent health after distress, burn-in included
    health: F64
    in_distress: BOOL
    in_default: BOOL  # from the default month on
    pd_12m: F64  # true probability of default within 12 months
    alive: BOOL  # registered and not yet closed
    registered: BOOL  # per slot: registered by the last observed month
    hastened: BOOL  # per slot: a contagion shock brought the default forward (or caused it)


def health_before_distress(ctx: ChunkContext, factors: CommonFactors) -> F64:
    """Latent health over the calendar (burn-in included), before any distress decline."""
    statics, streams, slot = ctx.statics, ctx.streams, ctx.slot
    months = ctx.calendar.months
    n, n_months = len(slot), len(months)
    common = (
        factors.macro[None, :] + factors.industry[statics.industry] + factors.region[statics.region]
    )
    # Guarantee circles (互保圈) share a factor: their members fall together.
    circle = np.zeros((n, n_months))
    members = statics.circle_gid >= 0
    if members.any():
        circle_eps = streams.normal(
            MonthlyStream.CIRCLE, statics.circle_gid[members][:, None], months[None, :]
        )
        circle_now = np.zeros(members.sum())
        for k in range(n_months):
            circle_now = 0.85 * circle_now + 0.2 * circle_eps[:, k]
            circle[members, k] = circle_now
    eps = streams.normal(MonthlyStream.EPS, slot[:, None], months[None, :])
    deviation = 0.5 * streams.normal(MonthlyStream.X0, slot)
    health = np.empty((n, n_months))
    for k in range(n_months):
        deviation = 0.9 * deviation + 0.22 * eps[:, k]
        health[:, k] = statics.base_health + deviation + common[:, k] + 0.5 * circle[:, k]
    return health


def distress_onset(ctx: ChunkContext, health: F64) -> tuple[I64, F64]:
    """First month the logistic hazard of ``health`` starts a decline (NO_MONTH if none), and
    the uniform draws it compared against (a shell's onset is its ring's plan, not this)."""
    statics, months = ctx.statics, ctx.calendar.months
    hazard = sigmoid(HAZARD_INTERCEPT + HAZARD_SLOPE * health)
    allowed = (months[None, :] >= -statics.lead_months[:, None]) & (
        months[None, :] >= statics.reg_month[:, None]
    )
    draws = ctx.streams.uniform(MonthlyStream.ONSET, ctx.slot[:, None], months[None, :])
    hit = (draws < hazard) & allowed
    hit &= ~statics.is_shell[:, None]
    onset: I64 = np.where(hit.any(axis=1), months[np.argmax(hit, axis=1)], NO_MONTH)
    return onset, draws


def default_before_contagion(ctx: ChunkContext, factors: CommonFactors) -> I64:
    """Default month of regular firms without any contagion shock (NO_MONTH if none): the
    default their guarantee partners react to. Shells are not guarantee partners."""
    onset, _ = distress_onset(ctx, health_before_distress(ctx, factors))
    out: I64 = np.where(onset < NO_MONTH, onset + ctx.statics.lead_months, NO_MONTH)
    return out


def latent_path(ctx: ChunkContext, factors: CommonFactors, shock: F64) -> LatentPath:
    """Distress onset by a logistic hazard of health, the decline to default, closing, PD.

    ``shock`` (slot x calendar month, burn-in included) lowers health where a guarantee
    partner's default hits the firm (``contagion``); zero elsewhere.
    """
    statics = ctx.statics
    months = ctx.calendar.months
    n_full = len(months)
    unshocked = health_before_distress(ctx, factors)
    health = unshocked - shock
    onset, draws = distress_onset(ctx, health)
    # The shock only raises the hazard, so the onset can only come earlier: it came because
    # of the shock when, in its month, the unshocked hazard would not have started it.
    at = (np.arange(len(onset)), np.clip(onset - months[0], 0, n_full - 1))
    hastened = (
        (onset < NO_MONTH)
        & ~statics.is_shell
        & (draws[at] >= sigmoid(HAZARD_INTERCEPT + HAZARD_SLOPE * unshocked[at]))
    )
    lead = np.where(statics.is_shell, statics.default_lag, statics.lead_months)
    onset = np.where(statics.is_shell, statics.attack_month, onset)
    default = np.where(onset < NO_MONTH, onset + lead, NO_MONTH)
    close = np.where(default < NO_MONTH, default + CLOSE_AFTER_DEFAULT, NO_MONTH)
    in_distress = (months[None, :] >= onset[:, None]) & (months[None, :] < default[:, None])
    in_default = months[None, :] >= default[:, None]
    decline = np.where(
        in_distress,
        DISTRESS_DROP * (months[None, :] - onset[:, None] + 1) / np.maximum(lead, 1)[:, None],
        np.where(in_default, DISTRESS_DROP + 1.0, 0.0),
    )
    health_full = np.where(statics.is_shell[:, None], -2.0, health - decline)
    hazard_now = sigmoid(HAZARD_INTERCEPT + HAZARD_SLOPE * health)
    pd_12m = 1.0 - (1.0 - hazard_now) ** np.maximum(13 - lead, 1)[:, None]
    soon = default[:, None] <= months[None, :] + 12
    pd_12m = np.where(in_distress | in_default, np.where(soon, 1.0, pd_12m), pd_12m)
    pd_12m = np.where(statics.is_shell[:, None], np.where(soon, 1.0, 0.05), pd_12m)

    observed = slice(BURN_IN_MONTHS, n_full)
    window = ctx.window
    return LatentPath(
        onset=onset,
        default=default,
        close=close,
        lead=lead,
        health_full=health_full,
        health=health_full[:, observed],
        in_distress=in_distress[:, observed],
        in_default=in_default[:, observed],
        pd_12m=pd_12m[:, observed],
        alive=(window[None, :] >= statics.reg_month[:, None]) & (window[None, :] <= close[:, None]),
        registered=statics.reg_month <= ctx.months - 1,
        hastened=hastened,
    )
