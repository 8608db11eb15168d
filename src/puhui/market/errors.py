"""Errors of the market simulator, each with a stable code.

Each one subclasses the platform's generic error it refines (``InvalidInput``, ``NotFound``,
``Conflict``), so callers that catch those, and the web layer's mapping, keep working.
"""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, NotFound


class InvalidMarketParameter(InvalidInput):
    """A parameter of a market run (size, months, start, seed, profile, chunking) is out of
    its range; ``details["field"]`` names it."""

    code = "invalid_market_parameter"


class MarketOutputNotEmpty(Conflict):
    """The output folder holds something: a market needs ``overwrite``; anything else is kept."""

    code = "market_output_not_empty"


class MarketNotFound(NotFound):
    """A folder holds no finished market (no manifest, or generation did not complete)."""

    code = "market_not_found"


class MarketManifestUnreadable(InvalidInput):
    """A market's manifest is not the JSON the generator writes."""

    code = "market_manifest_unreadable"


class UnknownMarketTable(InvalidInput):
    code = "unknown_market_table"


class MarketTableMissing(NotFound):
    code = "market_table_missing"


class EnterpriseNotInMarket(NotFound):
    code = "enterprise_not_in_market"


class MonthOutsideMarket(InvalidInput):
    code = "month_outside_market"


class NegativeAmountDue(InvalidInput):
    code = "negative_amount_due"
