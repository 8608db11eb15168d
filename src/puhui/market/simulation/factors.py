"""Common factors of health (macro, industry, region): functions of the seed and month only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from puhui.market.catalog import INDUSTRIES, REGIONS
from puhui.market.hashing import Streams
from puhui.market.params import MarketParams
from puhui.market.simulation.context import Calendar
from puhui.market.simulation.streams import MonthlyStream

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CommonFactors:
    """AR(1) factors over the whole calendar, burn-in included."""

    macro: F64  # (months,)
    industry: F64  # (industries, months)
    region: F64  # (regions, months)


def common_factors(params: MarketParams) -> CommonFactors:
    """Macro, industry and region factors over the whole calendar: seed and month only."""
    streams = Streams(params.seed)
    months = Calendar(params).months
    n_months = len(months)
    macro_eps = streams.normal(MonthlyStream.MACRO, 0, months)
    industry_eps = streams.normal(
        MonthlyStream.INDUSTRY, np.arange(len(INDUSTRIES))[:, None], months[None, :]
    )
    region_eps = streams.normal(
        MonthlyStream.REGION, np.arange(len(REGIONS))[:, None], months[None, :]
    )
    macro = np.zeros(n_months)
    industry = np.zeros((len(INDUSTRIES), n_months))
    region = np.zeros((len(REGIONS), n_months))
    macro_now, industry_now, region_now = 0.0, np.zeros(len(INDUSTRIES)), np.zeros(len(REGIONS))
    for k in range(n_months):
        macro_now = 0.85 * macro_now + 0.08 * macro_eps[k]
        industry_now = 0.85 * industry_now + 0.08 * industry_eps[:, k]
        region_now = 0.85 * region_now + 0.05 * region_eps[:, k]
        macro[k], industry[:, k], region[:, k] = macro_now, industry_now, region_now
    if params.profile == "downturn":
        # A recession: the macro factor slides from month 6 to month 12, stays down until
        # month 24 and recovers by month 30; industrial groups are hit harder.
        shock = np.interp(months, [5, 12, 24, 30], [0.0, -0.9, -0.9, 0.0])
        macro = macro + shock
        for j, sector in enumerate(INDUSTRIES):
            if sector.season == "industrial":
                industry[j] = industry[j] + 0.35 * shock
    return CommonFactors(macro=macro, industry=industry, region=region)
