"""The borrower's all-in annual cost with partner fees, checked against the legal cap.

Fees a facilitation partner charges per loan are the borrower's cost (综合融资成本) and count
against the cap of the licence type (``decision.pricing.LegalCap``: fixed, or a multiple of the
LPR). A fee that is a share of interest received is paid by the bank out of the interest the
rate already charges, so it adds nothing to the borrower's cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from puhui.decision.pricing import LegalCap
from puhui.domain.partners.agreements import Agreement, all_in_annual_cost


@dataclass(frozen=True, slots=True)
class AllInCost:
    annual_rate: Decimal
    partner_fees_fen: int
    all_in_annual_cost: Decimal
    legal_cap: Decimal

    @property
    def within_cap(self) -> bool:
        return self.all_in_annual_cost <= self.legal_cap


def borrower_all_in_cost(
    agreement: Agreement | None,
    *,
    annual_rate: Decimal,
    principal_fen: int,
    term_months: int,
    legal_cap: LegalCap,
    lpr: Decimal,
) -> AllInCost:
    """The loan's all-in annual cost under the agreement (None: no partner) and the cap."""
    fees = agreement.fees.per_loan_fen if agreement is not None else 0
    cost = all_in_annual_cost(
        annual_rate, principal_fen=principal_fen, term_months=term_months, partner_fees_fen=fees
    )
    return AllInCost(annual_rate, fees, cost, legal_cap.on(lpr))
