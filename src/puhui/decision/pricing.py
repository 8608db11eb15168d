"""Pricing: 1-year LPR from a dated table + spread by grade, within floor, cap and legal cap."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import yaml

from puhui.decision.errors import InvalidRateTable
from puhui.domain.errors import InvalidDate, NotFound


@dataclass(frozen=True, slots=True)
class LprTable:
    """A dated rate table: each rate applies from its date until the next one."""

    name: str
    dates: tuple[dt.date, ...]
    rates: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        if not self.dates or len(self.dates) != len(self.rates):
            raise InvalidRateTable("an LPR table needs one rate per date and at least one row")
        if list(self.dates) != sorted(set(self.dates)):
            raise InvalidRateTable("LPR dates must be strictly increasing")

    def rate_on(self, as_of: dt.date) -> Decimal:
        """The rate in force on ``as_of``; before the first row there is no rate to use."""
        index = bisect.bisect_right(self.dates, as_of) - 1
        if index < 0:
            raise InvalidDate(
                f"{self.name} has no rate before {self.dates[0].isoformat()}, "
                f"asked for {as_of.isoformat()}"
            )
        return self.rates[index]


def load_lpr_table(name: str) -> LprTable:
    """A shipped LPR table by name (package data under ``puhui/decision/rates``)."""
    resource = resources.files("puhui.decision").joinpath("rates", f"{name}.yaml")
    if not resource.is_file():
        raise NotFound(f"no shipped rate table named {name!r}")
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    points = sorted(data["points"], key=lambda p: p["effective_from"])
    return LprTable(
        name=name,
        dates=tuple(p["effective_from"] for p in points),
        rates=tuple(Decimal(str(p["rate"])) for p in points),
    )


@dataclass(frozen=True, slots=True)
class LegalCap:
    """The highest annual rate a licence type may charge: fixed, or a multiple of the LPR."""

    fixed: Decimal | None
    lpr_multiple: Decimal | None

    def on(self, lpr: Decimal) -> Decimal:
        caps = []
        if self.fixed is not None:
            caps.append(self.fixed)
        if self.lpr_multiple is not None:
            caps.append(self.lpr_multiple * lpr)
        return min(caps)


PriceKey = tuple[str, dt.date, str] | tuple[str, dt.date, str, Decimal]
"""(grade, pricing date, licence type[, sum of the matching spread adjustments])."""


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    lpr: Decimal
    spread: Decimal
    risk_rate: Decimal
    floor: Decimal
    cap: Decimal
    legal_cap: Decimal
    annual_rate: Decimal
    adjustment: Decimal = Decimal(0)
    """The sum of the strategy's matching spread adjustments (included in ``spread``)."""


@dataclass(frozen=True, slots=True)
class Pricing:
    lpr: LprTable
    spread_by_grade: dict[str, Decimal]
    floor: Decimal
    cap: Decimal
    legal_caps: dict[str, LegalCap]

    def price(
        self,
        grade: str,
        as_of: dt.date,
        licence_type: str,
        adjustment: Decimal = Decimal(0),
    ) -> PriceBreakdown:
        """LPR + spread (+ the matching adjustments), raised to the floor, cut to the product
        cap and the legal cap."""
        legal = self.legal_caps.get(licence_type)
        if legal is None:
            raise NotFound(
                f"no legal cap configured for licence type {licence_type!r} "
                f"(configured: {', '.join(sorted(self.legal_caps))})"
            )
        lpr = self.lpr.rate_on(as_of)
        spread = self.spread_by_grade[grade] + adjustment
        legal_cap = legal.on(lpr)
        risk_rate = lpr + spread
        # Validation guarantees floor <= cap and floor <= legal cap, so the result satisfies all
        # three; the legal cap wins last because it is the law, not a product choice.
        rate = min(max(risk_rate, self.floor), self.cap, legal_cap)
        return PriceBreakdown(
            lpr, spread, risk_rate, self.floor, self.cap, legal_cap, rate, adjustment
        )
