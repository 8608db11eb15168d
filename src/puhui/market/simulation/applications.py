"""Credit applications: from true needs, packaged applicants and fraud rings; devices and IPs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.identifiers import hex_ids, mobile_numbers
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.demand import NeedsApplied
from puhui.market.simulation.frames import concat_strings, date_series, masked
from puhui.market.simulation.identity import Identity, rep_id_numbers
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

N_INTERMEDIARY_AGENTS_PER = 5_000
"""One intermediary agent (中介) per this many enterprise slots (at least three)."""
IP_FIRST_OCTETS = np.array(
    [
        36,
        39,
        42,
        58,
        60,
        101,
        106,
        111,
        112,
        113,
        114,
        115,
        116,
        117,
        118,
        119,
        120,
        121,
        122,
        123,
        124,
        125,
        180,
        182,
        183,
        202,
        218,
        219,
        220,
        221,
        222,
        223,
    ],
    dtype=np.int64,
)
"""First octets of mainland ISP address blocks."""
CHANNELS = ("qr", "branch", "partner", "intermediary")
KIND_NEED, KIND_PACKAGED, KIND_FRAUD = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Applications:
    """The applications table, its truth, and what the legacy lender decides on (by row)."""

    frame: pl.DataFrame
    truth: pl.DataFrame
    enterprise: I64  # row index into the chunk's slots
    month: I64  # offset into the observed window
    kind: I64  # KIND_NEED, KIND_PACKAGED or KIND_FRAUD
    key: I64  # entity key of the application's draws
    application_id: npt.NDArray[np.generic]
    requested_yuan: F64
    term_months: I64


def applications(
    ctx: ChunkContext, latent: LatentPath, ids: Identity, needs: NeedsApplied
) -> Applications:
    statics, streams, slot, n_months = ctx.statics, ctx.streams, ctx.slot, ctx.months
    need_i = needs.enterprise.astype(np.int64)
    need_t = needs.month.astype(np.int64)
    # Packaged applicants apply in their packaging month through an intermediary.
    packaged = np.nonzero((statics.packaged_month < n_months) & ~statics.is_shell)[0]
    packaged_t = statics.packaged_month[packaged]
    ok = (
        latent.alive[packaged, np.minimum(packaged_t, n_months - 1)]
        & ~latent.in_default[packaged, np.minimum(packaged_t, n_months - 1)]
    )
    packaged, packaged_t = packaged[ok], packaged_t[ok]
    # Shells apply in the attack month, some again the month after.
    shells = np.nonzero(statics.is_shell & (statics.attack_month < n_months))[0]
    shells_t = statics.attack_month[shells]
    second = shells[
        (streams.uniform(MonthlyStream.SHELL_SECOND, slot[shells]) < 0.4)
        & (shells_t + 1 < n_months)
    ]
    shells = np.concatenate([shells, second])
    shells_t = np.concatenate([shells_t, statics.attack_month[second] + 1])
    kind = np.concatenate(
        [
            np.full(len(need_i), KIND_NEED, np.int64),
            np.full(len(packaged), KIND_PACKAGED, np.int64),
            np.full(len(shells), KIND_FRAUD),
        ]
    )
    ai = np.concatenate([need_i, packaged, shells])
    at = np.concatenate([need_t, packaged_t, shells_t])
    order = np.lexsort((kind, at, ai))
    ai, at, kind = ai[order], at[order], kind[order]
    n_other = len(packaged) + len(shells)
    need_ids = np.concatenate([needs.need_id.astype(str), np.full(n_other, "")])[order]
    amount = np.concatenate([needs.amount_yuan.astype(np.float64), np.zeros(n_other)])[order]
    duration = np.concatenate(
        [needs.duration_months.astype(np.int64), np.zeros(n_other, np.int64)]
    )[order]
    n_app = len(ai)
    key = slot[ai] * 8 + kind
    draw = streams.uniform(MonthlyStream.REQ, key, at)
    monthly_rev = statics.revenue_yuan[ai] / 12.0
    terms = np.array([3, 6, 12, 24, 36])
    need_term = terms[np.minimum(np.searchsorted(terms, duration), 4)]
    is_need, is_packaged = kind == KIND_NEED, kind == KIND_PACKAGED
    requested = np.select(
        [is_need, is_packaged],
        [
            np.maximum(10_000.0, np.round(amount * (0.9 + 0.4 * draw), -4)),
            np.round(4.0 * monthly_rev * (0.8 + 0.4 * draw), -4),
        ],
        default=np.round(300_000 + 700_000 * draw, -5),
    )
    requested = np.maximum(requested, 10_000.0)
    term = np.select([is_need, is_packaged], [need_term, 12], default=np.where(draw < 0.5, 12, 24))
    channel_draw = streams.uniform(MonthlyStream.CHANNEL, key, at)
    channel_regular = np.searchsorted(
        np.cumsum([0.36, 0.27, 0.30, 0.07]), channel_draw, side="right"
    )
    channel = np.select(
        [is_need, is_packaged],
        [np.minimum(channel_regular, 3), np.where(channel_draw < 0.85, 3, 2)],
        default=np.where(channel_draw < 0.65, 3, 2),
    )
    day = streams.integers(MonthlyStream.DAY, 0, 28, key, at)
    app_days = ctx.month_days[at] + day
    rep_slot = ids.rep_slot[ai]
    device, ip = devices_and_ips(ctx, kind=kind, applicant=ai, month=at, key=key, rep_slot=rep_slot)
    owner_phone = mobile_numbers(
        streams.bits(MonthlyStream.OWNER + 8, rep_slot), "phone"
    ).to_numpy()
    ring_phone = ids.ring_phone.to_numpy()[ai]
    phone = np.where(kind == KIND_FRAUD, ring_phone, owner_phone)
    app_id = hex_ids("AP", streams.bits(MonthlyStream.APP_ID, key, at), "application_id")
    frame = pl.DataFrame(
        {
            "application_id": app_id,
            "uscc": ids.uscc.gather(ai),
            "month": date_series("month", ctx.month_days[at]),
            "application_date": date_series("application_date", app_days),
            "legal_rep_id_number": rep_id_numbers(ctx, rep_slot)
            if n_app
            else pl.Series([], dtype=pl.String),
            "phone": pl.Series(phone, dtype=pl.String),
            "device_id": device,
            "ip_address": ip,
            "channel": np.array(CHANNELS)[channel],
            "requested_amount_fen": (requested * 100).astype(np.int64),
            "requested_term_months": term.astype(np.int32),
        }
    )
    truth = pl.DataFrame(
        {
            "application_id": app_id,
            "is_fraud": kind == KIND_FRAUD,
            "fraud_ring_id": masked(
                np.char.add("R", statics.ring_gid[ai].astype(str)), kind == KIND_FRAUD
            ),
            "is_packaged": is_packaged,
            "need_id": masked(need_ids.astype(str), need_ids != ""),
        }
    )
    return Applications(
        frame=frame,
        truth=truth,
        enterprise=ai,
        month=at,
        kind=kind,
        key=key,
        application_id=app_id.to_numpy(),
        requested_yuan=requested,
        term_months=term,
    )


def devices_and_ips(
    ctx: ChunkContext, *, kind: I64, applicant: I64, month: I64, key: I64, rep_slot: I64
) -> tuple[pl.Series, pl.Series]:
    """Devices and networks: people use their own phone; ring members share the ring's
    two devices and subnet; an intermediary agent applies for most packaged clients."""
    statics, streams = ctx.statics, ctx.streams
    n_agents = max(3, ctx.n_slots // N_INTERMEDIARY_AGENTS_PER)
    agent = streams.integers(MonthlyStream.DEVICE + 1, 0, n_agents, ctx.slot[applicant])
    draw = streams.uniform(MonthlyStream.DEVICE, key, month)
    dev_key = np.select(
        [kind == KIND_FRAUD, (kind == KIND_PACKAGED) & (draw < 0.7), draw < 0.05],
        [
            (1 << 40) + statics.ring_gid[applicant] * 2 + (statics.ring_pos[applicant] % 2),
            (1 << 41) + agent,
            (1 << 42) + key * 64 + month,
        ],
        default=rep_slot,
    )
    device = hex_ids("DV", streams.bits(MonthlyStream.DEVICE + 2, dev_key), "device_id", 16)
    ip_key = np.select(
        [kind == KIND_FRAUD, (kind == KIND_PACKAGED) & (draw < 0.6)],
        [(1 << 40) + statics.ring_gid[applicant], (1 << 41) + agent],
        default=(1 << 42) + key * 64 + month,
    )
    ip_bits = streams.bits(MonthlyStream.IP, ip_key)
    last = np.where(
        kind == KIND_FRAUD,
        2 + (streams.bits(MonthlyStream.IP + 1, key, month) % np.uint64(250)).astype(np.int64),
        1 + (ip_bits >> np.uint64(40)).astype(np.int64) % 254,
    )
    octets = [
        IP_FIRST_OCTETS[(ip_bits % np.uint64(len(IP_FIRST_OCTETS))).astype(np.int64)],
        (ip_bits >> np.uint64(8)).astype(np.int64) % 256,
        (ip_bits >> np.uint64(16)).astype(np.int64) % 256,
        last,
    ]
    ip = concat_strings(
        [pl.Series(o.astype(np.int64)).cast(pl.String) for o in octets], separator="."
    )
    return device, ip.alias("ip_address")
