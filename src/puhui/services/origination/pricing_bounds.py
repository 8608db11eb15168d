"""The bounds the decision engine's pricing and limit rules put on an offer a person makes.

An approver may set an offer's limit, rate and term by hand; the same rules the strategy
prices with still hold: the rate is at least the 1-year LPR in force and at most the legal
cap of the lender's licence type, and the limit stays within the strategy's minimum and its
product cap. The active (champion) strategy says what they are; with none active, the shipped
LPR table still sets the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from puhui.decision.pricing import LprTable, load_lpr_table
from puhui.domain.errors import ConfigurationError
from puhui.services.origination.governance import SetupSource
from puhui.services.origination.ports import TermBound

DEFAULT_LPR_TABLE = "lpr_1y"
"""The shipped table the floor comes from while no strategy version is active."""


@dataclass
class StrategyOfferBounds:
    """Implements origination's ``OfferBounds`` with the live strategy's pricing and limits."""

    live: SetupSource
    licence_type: str = "bank"
    _fallback_lpr: LprTable | None = None

    def _lpr_floor(self, table: LprTable, as_of: date) -> TermBound:
        return TermBound("annual_rate", f"LPR floor ({table.name})", table.rate_on(as_of), None)

    def offer_bounds(self, as_of: date) -> tuple[TermBound, ...]:
        champion = self.live.current().champion
        if champion is None:
            if self._fallback_lpr is None:
                self._fallback_lpr = load_lpr_table(DEFAULT_LPR_TABLE)
            return (self._lpr_floor(self._fallback_lpr, as_of),)
        strategy = champion.compiled
        pricing = strategy.pricing
        legal = pricing.legal_caps.get(self.licence_type)
        if legal is None:
            raise ConfigurationError(
                f"strategy {champion.label} has no legal cap for licence type "
                f"{self.licence_type!r} (configured: {', '.join(sorted(pricing.legal_caps))})"
            )
        lpr = pricing.lpr.rate_on(as_of)
        limits = strategy.limit_rule
        return (
            self._lpr_floor(pricing.lpr, as_of),
            TermBound("annual_rate", f"legal cap ({self.licence_type})", None, legal.on(lpr)),
            TermBound(
                "limit_fen",
                f"strategy {champion.label} limit",
                Decimal(limits.minimum_fen),
                Decimal(limits.product_cap_fen),
            ),
        )
