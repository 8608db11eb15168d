"""Dealer loans (经销商贷): lines sized from purchases from a core enterprise, drawn to pay it.

A dealer line is an ordinary credit line of servicing (statements, end of day, ledger, early
warning all apply) on the dealer programme product of its core enterprise; every draw is an
entrusted payment (受托支付) to the core, recorded as the receipt's payee. See ADR 0037.
"""

from puhui.services.dealers.lines import (
    CoreBacking,
    DealerAccess,
    DealerDraw,
    DealerLine,
    DealerLineDeclined,
    DealerLineView,
    DealerNotNamed,
    DealerReceipt,
    DealerSizing,
    NotADealerLine,
    NotYourDealerLine,
    dealer_line,
    dealer_product,
    default_maturity,
    draw_to_core,
    enterprise_names,
    list_dealer_lines,
    open_dealer_line,
    size_dealer_line,
)

__all__ = [
    "CoreBacking",
    "DealerAccess",
    "DealerDraw",
    "DealerLine",
    "DealerLineDeclined",
    "DealerLineView",
    "DealerNotNamed",
    "DealerReceipt",
    "DealerSizing",
    "NotADealerLine",
    "NotYourDealerLine",
    "dealer_line",
    "dealer_product",
    "default_maturity",
    "draw_to_core",
    "enterprise_names",
    "list_dealer_lines",
    "open_dealer_line",
    "size_dealer_line",
]
