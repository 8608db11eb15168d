"""The enterprise registry (工商登记): names, addresses, phones, accounts, size bands."""

from __future__ import annotations

import numpy as np
import polars as pl

from puhui.market.catalog import (
    BRAND_CHARS,
    INDUSTRIES,
    INDUSTRY_WORDS,
    PARK_SUFFIXES,
    REGIONS,
    ROADS,
)
from puhui.market.identifiers import mobile_numbers
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.frames import date_series, masked
from puhui.market.simulation.identity import Identity, rep_id_numbers
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream


def enterprises_table(ctx: ChunkContext, latent: LatentPath, ids: Identity) -> pl.DataFrame:
    statics, streams, slot = ctx.statics, ctx.streams, ctx.slot
    keep = latent.registered
    ind_groups = np.array([i.group for i in INDUSTRIES])[statics.industry]
    divisions = np.array(
        [
            INDUSTRIES[i].divisions[d]
            for i, d in zip(statics.industry, statics.division, strict=True)
        ]
    )
    city = np.array([r.name for r in REGIONS])[statics.region]
    brand1 = streams.integers(
        MonthlyStream.NAME,
        0,
        len(BRAND_CHARS),
        np.where(statics.is_shell, statics.ring_gid, slot),
    )
    brand2 = streams.integers(MonthlyStream.NAME + 1, 0, len(BRAND_CHARS), slot)
    words = np.array(
        [
            INDUSTRY_WORDS[g][k % len(INDUSTRY_WORDS[g])]
            for g, k in zip(
                ind_groups, streams.integers(MonthlyStream.NAME + 2, 0, 1000, slot), strict=True
            )
        ]
    )
    chars = np.array(list(BRAND_CHARS))
    suffix = np.where(
        statics.is_company,
        "有限公司",
        np.where(np.isin(ind_groups, ["retail", "catering", "accommodation"]), "店", "经营部"),
    )
    name = np.char.add(
        np.char.add(np.char.add(np.char.add(city, chars[brand1]), chars[brand2]), words),
        suffix,
    )
    road = np.array(ROADS)[streams.integers(MonthlyStream.NAME + 3, 0, len(ROADS), slot)]
    number = streams.integers(MonthlyStream.NAME + 4, 1, 999, slot)
    ring_road = np.array(ROADS)[
        streams.integers(MonthlyStream.NAME + 3, 0, len(ROADS), statics.ring_gid)
    ]
    ring_no = streams.integers(MonthlyStream.NAME + 4, 1, 999, statics.ring_gid)
    ring_room = 1001 + (statics.ring_pos % 2) * 100
    address = np.where(
        statics.is_shell,
        np.char.add(
            np.char.add(np.char.add(city, ring_road), ring_no.astype(str)),
            np.char.add(np.char.add("号", ring_room.astype(str)), "室"),
        ),
        np.char.add(np.char.add(np.char.add(city, road), number.astype(str)), "号"),
    )
    in_park = streams.uniform(MonthlyStream.NAME + 5, slot) < np.where(statics.is_shell, 0.9, 0.5)
    park_idx = streams.integers(
        MonthlyStream.NAME + 6,
        0,
        len(PARK_SUFFIXES),
        np.where(statics.is_shell, statics.ring_gid, slot),
    )
    park = np.char.add(city, np.array(PARK_SUFFIXES)[park_idx])
    own_phone = mobile_numbers(streams.bits(MonthlyStream.OWNER + 8, ids.rep_slot), "p").to_numpy()
    biz_phone = mobile_numbers(streams.bits(MonthlyStream.NAME + 7, slot), "p").to_numpy()
    phone = np.where(statics.is_company, biz_phone, own_phone)
    phone = np.where(statics.is_shell, ids.ring_phone.to_numpy(), phone)
    account = (
        pl.Series(
            (streams.bits(MonthlyStream.NAME + 8, slot) >> np.uint64(4)).astype(np.int64) % 10**15
        )
        .cast(pl.String)
        .str.zfill(15)
    )
    micro_emp = np.array([i.micro_employees for i in INDUSTRIES])[statics.industry]
    micro_rev = np.array([i.micro_revenue_yuan for i in INDUSTRIES])[statics.industry]
    micro = (statics.employees < micro_emp) | (statics.revenue_yuan < micro_rev)
    size_band = np.where(
        micro, "micro", np.where(statics.revenue_yuan > 40_000_000, "medium", "small")
    )
    reg_days = ctx.calendar.days(statics.reg_month) + streams.integers(
        MonthlyStream.NAME + 9, 0, 28, slot
    )
    frame = pl.DataFrame(
        {
            "uscc": ids.uscc,
            "name": name,
            "legal_form": np.where(statics.is_company, "company", "individual_business"),
            "industry_code": divisions,
            "industry_section": np.array([i.section for i in INDUSTRIES])[statics.industry],
            "industry_group": ind_groups,
            "region_code": np.array([r.code for r in REGIONS])[statics.region],
            "registration_date": date_series("registration_date", reg_days),
            "registered_capital_fen": np.round(statics.capital_yuan * 100).astype(np.int64),
            "taxpayer_type": np.where(statics.is_general, "general", "small_scale"),
            "employees": statics.employees.astype(np.int32),
            "size_band": size_band,
            "park": masked(park, in_park),
            "phone": phone,
            "address": address,
            "settlement_account": "6217" + account,
            "legal_rep_id_number": rep_id_numbers(ctx, ids.rep_slot),
        }
    )
    return frame.filter(pl.Series(keep))
