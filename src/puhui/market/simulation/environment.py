"""Environmental conduct (schema 1.3): a hidden green/polluting latent, penalties and their truth.

Each enterprise has two hidden static traits drawn from its own streams (so adding them left
every earlier value of every market unchanged):

- ``green_activity``: the enterprise's main business is a green one (it makes photovoltaic
  parts, runs an energy-saving service, grows certified green produce...). How likely that is
  depends on its GB/T 4754 division (``GREEN_ACTIVITY_SHARE``), but the division alone does
  not say it: a public screen can only guess it from the industry code.
- ``env_risk``: how badly it treats the environment, standard-normal around an offset of its
  division (``ENV_RISK_OFFSET``: dyeing, plastics and metal finishing pollute more), lower
  for green businesses. Polluters are the enterprises with ``env_risk`` above
  ``POLLUTER_THRESHOLD`` (about one in ten).

Environmental penalties (``environmental_penalties``) follow ``env_risk``: administrative
penalties (环保行政处罚) by the ecology and environment bureau and, more rarely, court cases on
environmental pollution liability (环境污染责任纠纷). A polluter is not always caught: over
two years about half of them have a record, and a few clean enterprises have a minor one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema
from puhui.market.catalog import INDUSTRIES, REGIONS
from puhui.market.simulation.context import ChunkContext
from puhui.market.simulation.court import PROVINCE_ABBR
from puhui.market.simulation.frames import date_series, empty, sigmoid
from puhui.market.simulation.identity import Identity
from puhui.market.simulation.latent import LatentPath
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

GREEN_ACTIVITY_SHARE: dict[str, float] = {
    "C13": 0.05,  # food processing: a few certified green food makers
    "C18": 0.02,
    "C29": 0.12,  # rubber and plastics: recycled materials
    "C33": 0.04,
    "C34": 0.30,  # general equipment: energy-saving boilers, pumps, fans
    "C38": 0.45,  # electrical machinery: photovoltaic parts, batteries, chargers
    "C39": 0.15,  # electronics: energy-efficient components
    "E47": 0.05,
    "E48": 0.20,  # civil engineering: sewage plants, sponge-city works
    "E50": 0.15,  # building installation: energy-saving retrofits
    "G54": 0.12,  # road transport: new-energy vehicle fleets
    "L72": 0.08,  # business services: energy audits, environmental consulting
    "I65": 0.05,
    "A01": 0.25,  # crop growing: green and organic produce
    "A03": 0.15,
}
"""Hidden share of each division's enterprises whose main business is green (0.01 if absent)."""

ENV_RISK_OFFSET: dict[str, float] = {
    "C13": 0.3,
    "C18": 0.8,  # textiles and dyeing
    "C29": 0.7,
    "C33": 0.8,  # metal products: plating, surface treatment
    "C34": 0.3,
    "C38": 0.2,
    "C39": 0.2,
    "E47": 0.4,
    "E48": 0.4,
    "E50": 0.0,
    "G54": 0.2,
    "H62": -0.2,
    "A01": 0.0,
    "A03": 0.5,  # livestock: manure
}
"""Division offset of the environmental-risk latent (-0.6 if absent: shops and offices)."""

GREEN_RISK_SHIFT = -0.6
POLLUTER_THRESHOLD = 1.5
VIOLATIONS = ("air_emission", "wastewater", "solid_waste", "noise", "eia_violation")
SOURCES = ("administrative", "court")


@dataclass(frozen=True)
class Environment:
    green_activity: BOOL
    env_risk: F64
    is_polluter: BOOL


def environment(ctx: ChunkContext) -> Environment:
    statics, streams, slot = ctx.statics, ctx.streams, ctx.slot
    division = np.array(
        [
            INDUSTRIES[i].divisions[d]
            for i, d in zip(statics.industry, statics.division, strict=True)
        ],
        dtype=object,
    )
    share = np.array([GREEN_ACTIVITY_SHARE.get(d, 0.01) for d in division], dtype=np.float64)
    offset = np.array([ENV_RISK_OFFSET.get(d, -0.6) for d in division], dtype=np.float64)
    green = (streams.uniform(MonthlyStream.ENV_GREEN, slot) < share) & ~statics.is_shell
    risk = (
        offset
        + np.where(green, GREEN_RISK_SHIFT, 0.0)
        + streams.normal(MonthlyStream.ENV_RISK, slot)
    )
    return Environment(green_activity=green, env_risk=risk, is_polluter=risk > POLLUTER_THRESHOLD)


def environmental_penalties_table(
    ctx: ChunkContext, latent: LatentPath, ids: Identity, env: Environment
) -> pl.DataFrame:
    streams, slot, n_months = ctx.streams, ctx.slot, ctx.months
    logit = -7.4 + 1.9 * env.env_risk
    chance = sigmoid(logit)[:, None] * np.ones((1, n_months))
    hit = latent.alive & (ctx.monthly_uniform(MonthlyStream.ENV_PENALTY) < chance)
    ei, et = np.nonzero(hit)
    if len(ei) == 0:
        return empty(schema.ENVIRONMENTAL_PENALTIES)
    key = slot[ei]
    is_court = streams.uniform(MonthlyStream.ENV_SOURCE, key, et) < 0.12
    violation = streams.integers(MonthlyStream.ENV_KIND, 0, len(VIOLATIONS), key, et)
    serious = streams.uniform(MonthlyStream.ENV_SEVERITY, key, et) < sigmoid(
        -1.5 + 1.2 * (env.env_risk[ei] - POLLUTER_THRESHOLD)
    )
    base = np.where(serious, 200_000.0, 20_000.0)
    amount_yuan = np.round(
        base * np.exp(0.7 * streams.normal(MonthlyStream.ENV_AMOUNT, key, et)), -2
    )
    region = np.array([r.code for r in REGIONS])[ctx.statics.region[ei]]
    province = np.array([PROVINCE_ABBR.get(c[:2], "京") for c in region])
    years = np.array([ctx.calendar.year_month(int(k))[0] for k in range(n_months)])[et]
    number = streams.integers(MonthlyStream.ENV_NUMBER, 1, 10_000, key, et)
    admin_id = np.char.add(
        np.char.add(np.char.add(province, "环罚〔"), years.astype(str)),
        np.char.add(np.char.add("〕", number.astype(str)), "号"),
    )
    court_id = np.char.add(
        np.char.add(np.char.add("(", years.astype(str)), ")"),
        np.char.add(
            np.char.add(np.char.add(province, region.astype("U4")), "民初环"),
            np.char.add(number.astype(str), "号"),
        ),
    )
    day = streams.integers(MonthlyStream.ENV_DAY, 0, 28, key, et)
    return pl.DataFrame(
        {
            "penalty_id": np.where(is_court, court_id, admin_id),
            "uscc": ids.uscc.gather(ei),
            "decision_date": date_series("decision_date", ctx.calendar.days(et) + day),
            "month": date_series("month", ctx.calendar.days(et)),
            "source": np.array(SOURCES)[is_court.astype(np.int64)],
            "violation": np.array(VIOLATIONS)[violation],
            "severity": np.where(serious, "serious", "minor"),
            "amount_fen": (amount_yuan * 100).astype(np.int64),
        }
    )


def environment_truth_table(
    ctx: ChunkContext, latent: LatentPath, ids: Identity, env: Environment
) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "uscc": ids.uscc,
            "green_activity": env.green_activity,
            "env_risk": env.env_risk,
            "is_polluter": env.is_polluter,
            "is_green": env.green_activity & ~env.is_polluter,
        }
    )
    return frame.filter(pl.Series(latent.registered))
