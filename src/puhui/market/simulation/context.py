"""What every stage of a chunk reads: parameters, the chunk's slots and statics, the calendar."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market.catalog import REGIONS
from puhui.market.hashing import Streams
from puhui.market.identifiers import uscc_codes
from puhui.market.params import MarketParams
from puhui.market.population import Statics, org_numbers, statics

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

BURN_IN_MONTHS = 12
"""Months simulated before the start so the first observed months are in steady state."""


@dataclass(frozen=True)
class Calendar:
    """The simulated months: index k = 0..T-1 is month ``k - BURN_IN_MONTHS``."""

    params: MarketParams

    @property
    def months(self) -> I64:
        return np.arange(-BURN_IN_MONTHS, self.params.months, dtype=np.int64)

    def year_month(self, month: int) -> tuple[int, int]:
        first_day = self.params.month_date(month)
        return first_day.year, first_day.month

    def days(self, month: I64) -> I64:
        """Days since 1970-01-01 of the first day of each month offset."""
        base = np.datetime64(self.params.start.strftime("%Y-%m"), "M")
        out: I64 = (base + month.astype("timedelta64[M]")).astype("datetime64[D]").astype(np.int64)
        return out


def region_codes(region_index: I64) -> I64:
    """GB/T 2260 codes, as integers, of indices into ``REGIONS``."""
    out: I64 = np.array([int(r.code) for r in REGIONS])[region_index]
    return out


@dataclass(frozen=True, eq=False)
class ChunkContext:
    """The slots ``[first_slot, first_slot + len(slot))`` of one market and what they are
    (or, built by ``of``, any slots of it).

    Built once per chunk; every stage takes it (and the results of the stages it needs)
    and returns new values, so no stage depends on another having run first.
    """

    params: MarketParams
    streams: Streams
    calendar: Calendar
    first_slot: int
    slot: I64
    statics: Statics
    window: I64
    """Month offsets 0..months-1 of the observed window."""
    month_days: I64
    """Days since 1970-01-01 of the first day of each observed month."""

    @classmethod
    def for_slots(cls, params: MarketParams, first_slot: int, end_slot: int) -> ChunkContext:
        return cls.of(params, np.arange(first_slot, end_slot, dtype=np.int64))

    @classmethod
    def of(cls, params: MarketParams, slot: I64) -> ChunkContext:
        """Any slots of the market, e.g. a chunk's partners in other chunks whose hidden
        path a stage needs (every value is a pure function of the slot, so it is the same
        as in the partner's own chunk)."""
        calendar = Calendar(params)
        window = np.arange(params.months, dtype=np.int64)
        return cls(
            params=params,
            streams=Streams(params.seed),
            calendar=calendar,
            first_slot=int(slot[0]) if len(slot) else 0,
            slot=slot,
            statics=statics(params, slot),
            window=window,
            month_days=calendar.days(window),
        )

    @property
    def n_slots(self) -> int:
        """Enterprise slots of the whole market (not of this chunk)."""
        return self.params.enterprises

    @property
    def months(self) -> int:
        return self.params.months

    def monthly_uniform(self, stream: int) -> F64:
        """One uniform draw per slot of the chunk and observed month."""
        return self.streams.uniform(stream, self.slot[:, None], self.window[None, :])

    def uscc_of(self, slots: I64) -> pl.Series:
        """Unified social credit codes of any slots of the market (inside the chunk or not)."""
        other = statics(self.params, slots)
        return uscc_codes(
            region_codes(other.region), other.is_company, org_numbers(self.params.seed, slots)
        )
