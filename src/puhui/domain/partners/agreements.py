"""Partner institutions and their agreements: joint lending (联合贷款) and facilitation (助贷)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.money import Fen, Rounding, round_fen
from puhui.domain.partners.errors import (
    AgreementNotActive,
    ConcentrationLimitBreached,
    InvalidAgreement,
)
from puhui.domain.partners.shares import require_partner_share


class AgreementKind(Enum):
    JOINT_LENDING = "joint-lending"
    """Both fund in shares, both approve, risk and return are shared."""
    FACILITATION = "facilitation"
    """The partner brings customers and earns fees; the bank funds all and decides alone."""

    @classmethod
    def parse(cls, text: str) -> AgreementKind:
        for kind in cls:
            if kind.value == text.strip().lower():
                return kind
        raise InvalidAgreement(
            f"unknown agreement kind {text!r}; choose joint-lending or facilitation"
        )


class Approver(Enum):
    BANK = "bank"
    BOTH = "both"

    @classmethod
    def parse(cls, text: str) -> Approver:
        for approver in cls:
            if approver.value == text.strip().lower():
                return approver
        raise InvalidAgreement(f"unknown approver {text!r}; choose bank or both")


class AgreementStatus(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class FeeTerms:
    """A facilitation fee: a fixed amount per loan funded, or a share of interest received."""

    per_loan_fen: int = 0
    interest_share: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.per_loan_fen < 0:
            raise InvalidAgreement("a per-loan fee must not be negative")
        if not self.interest_share.is_finite() or not 0 <= self.interest_share <= 1:
            raise InvalidAgreement("a fee share of interest must be a fraction from 0 to 1")
        if self.per_loan_fen and self.interest_share:
            raise InvalidAgreement("a fee is either per loan or a share of interest, not both")

    @property
    def charges(self) -> bool:
        return self.per_loan_fen > 0 or self.interest_share > 0

    def fee_on_interest(self, interest_fen: int) -> Fen:
        """The fee earned on interest received: interest × share, half-up to the fen."""
        return round_fen(Decimal(interest_fen) * self.interest_share, Rounding.HALF_UP)


@dataclass(frozen=True, slots=True)
class ConcentrationLimits:
    """Per-partner limits: principal outstanding funded with it, and its share of the book.

    ``max_outstanding_fen`` caps the principal outstanding of loans under the agreement;
    ``max_portfolio_share`` caps that principal as a fraction of the bank's whole book.
    Zero means no limit.
    """

    max_outstanding_fen: int = 0
    max_portfolio_share: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.max_outstanding_fen < 0:
            raise InvalidAgreement("a concentration limit must not be negative")
        share = self.max_portfolio_share
        if not share.is_finite() or not 0 <= share <= 1:
            raise InvalidAgreement("a portfolio share limit must be a fraction from 0 to 1")

    def check(self, *, partner_outstanding_fen: int, portfolio_fen: int) -> None:
        """Refuse when the partner's outstanding principal (after the draw) breaks a limit."""
        if self.max_outstanding_fen and partner_outstanding_fen > self.max_outstanding_fen:
            raise ConcentrationLimitBreached(
                f"principal outstanding with the partner would be {partner_outstanding_fen} "
                f"fen, over its limit of {self.max_outstanding_fen} fen",
                details={
                    "limit": "max_outstanding_fen",
                    "outstanding_fen": partner_outstanding_fen,
                    "limit_fen": self.max_outstanding_fen,
                },
            )
        if self.max_portfolio_share and portfolio_fen > 0:
            share = Decimal(partner_outstanding_fen) / Decimal(portfolio_fen)
            if share > self.max_portfolio_share:
                raise ConcentrationLimitBreached(
                    f"the partner's loans would be {share:.4f} of the book, over its limit "
                    f"of {self.max_portfolio_share}",
                    details={
                        "limit": "max_portfolio_share",
                        "share": str(share),
                        "limit_share": str(self.max_portfolio_share),
                    },
                )


@dataclass(frozen=True, slots=True)
class Agreement:
    """The terms agreed with one partner institution for one kind of arrangement."""

    agreement_id: str
    partner_id: str
    partner_name: str
    kind: AgreementKind
    funding_share: Decimal
    """The partner's share of each draw (joint lending); zero for facilitation."""
    approver: Approver
    limits: ConcentrationLimits
    fees: FeeTerms
    valid_from: date
    valid_to: date
    status: AgreementStatus = AgreementStatus.DRAFT

    def __post_init__(self) -> None:
        if not self.agreement_id or not self.partner_id or not self.partner_name.strip():
            raise InvalidAgreement("an agreement needs an id, a partner id and a partner name")
        if self.valid_to < self.valid_from:
            raise InvalidAgreement(
                f"an agreement cannot end ({self.valid_to}) before it starts ({self.valid_from})"
            )
        require_partner_share(self.funding_share)
        if self.kind is AgreementKind.JOINT_LENDING:
            if self.funding_share == 0:
                raise InvalidAgreement("a joint-lending partner funds a share above zero")
        else:
            if self.funding_share != 0:
                raise InvalidAgreement("in facilitation the bank funds all: funding share is 0")
            if self.approver is not Approver.BANK:
                raise InvalidAgreement("in facilitation the bank decides alone")

    def activate(self) -> Agreement:
        return replace(self, status=AgreementStatus.ACTIVE)

    def require_active_on(self, on: date) -> None:
        if self.status is not AgreementStatus.ACTIVE:
            raise AgreementNotActive(f"agreement {self.agreement_id} is {self.status.value}")
        if not self.valid_from <= on <= self.valid_to:
            raise AgreementNotActive(
                f"agreement {self.agreement_id} is valid from {self.valid_from} to "
                f"{self.valid_to}, not on {on}"
            )


def all_in_annual_cost(
    annual_rate: Decimal, *, principal_fen: int, term_months: int, partner_fees_fen: int
) -> Decimal:
    """The borrower's all-in annual cost: the rate plus partner fees annualised over the term.

    Fees the borrower bears through the partner count against the legal cap (综合融资成本):
    ``annual_rate + fees / principal × 12 / term_months``.
    """
    if principal_fen <= 0 or term_months <= 0:
        raise InvalidAgreement("all-in cost needs a positive principal and term")
    fees = Decimal(partner_fees_fen) / Decimal(principal_fen) * 12 / Decimal(term_months)
    return annual_rate + fees


def within_legal_cap(all_in_cost: Decimal, legal_cap: Decimal) -> bool:
    return all_in_cost <= legal_cap
