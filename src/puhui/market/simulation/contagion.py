"""Guarantee contagion (担保链风险传染): a partner's default weighs on the firms tied to it.

Inside a guarantee circle every member is hit when another member defaults (it guarantees
that member, or loses the guarantee it gave); along a one-off guarantee the guarantor is
hit when its borrower defaults (it must pay for it: 代偿). The shock follows the partner's
default *before* contagion, which any chunk can compute from the partner's slot, so chunks
stay independent; the price is that contagion travels one link and does not cascade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.population import NO_MONTH, circle_member_slot, formed_rings
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.factors import CommonFactors
from puhui.market.simulation.frames import date_series, gather
from puhui.market.simulation.guarantees import guarantee_start, one_off_guarantees
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath, default_before_contagion

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SHOCK = 2.5
"""Latent health a firm loses while a partner's default weighs on it (it pays for the
partner, banks cut its lines): its monthly default hazard rises about twentyfold, to some
2% a month, and its sales halve. About a quarter of exposed firms default within a year of
the shock instead of one in forty."""
SHOCK_MONTHS = 12
"""The shock lasts from the month after the partner's default for this many months."""
CHANNELS = ("circle", "guarantee")


@dataclass(frozen=True, eq=False)
class Contagion:
    """Exposures of the chunk's firms to their partners' defaults (one per pair), and the
    health shock they add up to (the largest of the shocks in force, not their sum)."""

    row: I64  # exposed firm: row index into the chunk's slots
    source: I64  # slot of the partner whose default exposes it
    channel: I64  # index into CHANNELS
    first: I64  # first shocked month: the partner's default month (before contagion) + 1
    shock: F64  # per row and calendar month, burn-in included: health lost


def contagion(ctx: ChunkContext, factors: CommonFactors) -> Contagion:
    chunk, slot, seed, n_slots = ctx.statics, ctx.slot, ctx.params.seed, ctx.n_slots
    circ = np.nonzero(chunk.circle_gid >= 0)[0]
    gid, pos = chunk.circle_gid[circ], chunk.circle_pos[circ]
    guaranteed = circle_member_slot(seed, n_slots, gid, (pos + 1) % 3)
    guarantor = circle_member_slot(seed, n_slots, gid, (pos + 2) % 3)
    one_off = one_off_guarantees(ctx)
    row = np.concatenate([circ, circ, one_off.guarantor])
    source = np.concatenate([guaranteed, guarantor, one_off.borrower])
    channel = np.repeat([0, 0, 1], [len(circ), len(circ), len(one_off.guarantor)])
    row_guarantees = np.repeat([True, False, True], [len(circ), len(circ), len(one_off.guarantor)])

    sources, sinv = np.unique(source, return_inverse=True)
    partners = ChunkContext.of(ctx.params, sources)
    default = default_before_contagion(partners, factors)[sinv]
    # Planned shells, not only formed ones: a ring forming in an added month must not
    # change what happened to its would-be partners before it.
    planned_shell = formed_rings(ctx.params, sources)[0][sinv]
    partner_reg = partners.statics.reg_month[sinv]
    start = guarantee_start(
        ctx.streams,
        np.where(row_guarantees, slot[row], source),
        np.where(row_guarantees, chunk.reg_month[row], partner_reg),
        np.where(row_guarantees, partner_reg, chunk.reg_month[row]),
    )
    ok = (source != slot[row]) & ~planned_shell & (default < NO_MONTH) & (start <= default)
    row, source, channel, first = row[ok], source[ok], channel[ok], default[ok] + 1

    months = ctx.calendar.months
    shock = np.zeros((len(slot), len(months)))
    in_force = (months[None, :] >= first[:, None]) & (
        months[None, :] < first[:, None] + SHOCK_MONTHS
    )
    np.maximum.at(shock, row, SHOCK * in_force)
    return Contagion(row=row, source=source, channel=channel, first=first, shock=shock)


def contagion_events_table(
    ctx: ChunkContext, latent: LatentPath, spread: Contagion, ids: Identity
) -> pl.DataFrame:
    """One row per default in the window that a shock caused or brought forward, naming the
    partner whose shock was in force in the onset month (the earliest default first, a
    circle partner before a one-off borrower)."""
    counted = latent.hastened & latent.registered & (latent.default <= ctx.months - 1)
    onset = latent.onset[spread.row]
    covers = counted[spread.row] & (spread.first <= onset) & (onset < spread.first + SHOCK_MONTHS)
    exposure = np.nonzero(covers)[0]
    exposure = exposure[
        np.lexsort(
            (spread.channel[exposure], spread.first[exposure], spread.row[exposure]),
        )
    ]
    exposure = exposure[np.unique(spread.row[exposure], return_index=True)[1]]
    rows = spread.row[exposure]
    return pl.DataFrame(
        {
            "uscc": ids.uscc.gather(rows),
            "month": date_series("month", ctx.calendar.days(latent.default[rows])),
            "source_uscc": ctx.uscc_of(spread.source[exposure]),
            "channel": gather(CHANNELS, spread.channel[exposure]),
        }
    )
