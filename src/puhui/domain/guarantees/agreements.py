"""Guarantee agencies and their batch guarantee agreements (批量担保协议), validated on creation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.guarantees.errors import AgreementNotValid, InvalidAgreement
from puhui.domain.origination.channel import Channel

CHANNEL_CODES = frozenset(c.value for c in Channel)
"""The channels an agreement may name (``domain.origination.channel``)."""

DEFAULT_CLAIM_TRIGGER_DAYS = 90
"""A claim is raised when the covered loan is 90 days past due (the usual 银担 rule)."""

MAX_FEE_RATE = Decimal("0.1")
"""No guarantee fee above 10 % a year is accepted (policy fees are around 1 %)."""


class FeeMode(Enum):
    AT_DRAW = "at_draw"
    """The whole term's fee is collected online from the borrower when the loan is drawn."""
    PERIODIC = "periodic"
    """The fee is collected per period on the principal outstanding at the period's start."""


@dataclass(frozen=True, slots=True)
class Agency:
    """A financing guarantee agency (融资担保机构), named by its unified social credit code."""

    agency_id: str
    name: str
    uscc: str

    def __post_init__(self) -> None:
        if not self.agency_id or not self.name.strip():
            raise InvalidAgreement("an agency needs an id and a name")
        if len(self.uscc) != 18 or not self.uscc.isalnum():
            raise InvalidAgreement("an agency's USCC has 18 letters or digits")


@dataclass(frozen=True, slots=True)
class Agreement:
    """A batch guarantee agreement between the bank and an agency.

    ``coverage_share`` of each covered loan's loss is the agency's; ``fee_rate`` is a year's
    fee on the principal; the caps bound the agency's covered exposure (share × principal
    at cover) and the claims it pays, per borrower and for the whole portfolio.
    """

    agreement_id: str
    agency_id: str
    product_id: str | None
    """Loans of this product (or of any product when None) may be covered."""
    coverage_share: Decimal
    fee_rate: Decimal
    fee_mode: FeeMode
    borrower_cap_fen: int
    portfolio_cap_fen: int
    claim_trigger_days: int
    valid_from: date
    valid_to: date
    counter_guarantee_waived: bool
    version: int = 1
    channel: str | None = None
    """Applications through this channel (its code, e.g. ``partner``) are decided with the
    coverage (the strategy's ``guarantee_coverage``); None: the agreement names no channel."""

    def __post_init__(self) -> None:
        if not self.agreement_id or not self.agency_id:
            raise InvalidAgreement("an agreement needs an id and an agency")
        if not Decimal(0) < self.coverage_share <= Decimal(1):
            raise InvalidAgreement(
                f"coverage share {self.coverage_share} is not in (0, 1]",
                details={"coverage_share": str(self.coverage_share)},
            )
        if not Decimal(0) <= self.fee_rate <= MAX_FEE_RATE:
            raise InvalidAgreement(
                f"fee rate {self.fee_rate} is not in [0, {MAX_FEE_RATE}]",
                details={"fee_rate": str(self.fee_rate)},
            )
        if self.borrower_cap_fen <= 0 or self.portfolio_cap_fen <= 0:
            raise InvalidAgreement("the caps are positive amounts")
        if self.borrower_cap_fen > self.portfolio_cap_fen:
            raise InvalidAgreement("the per-borrower cap exceeds the portfolio cap")
        if not 1 <= self.claim_trigger_days <= 360:
            raise InvalidAgreement("the claim trigger is 1 to 360 days past due")
        if self.valid_to <= self.valid_from:
            raise InvalidAgreement("an agreement ends after it starts")
        if self.channel is not None and self.channel not in CHANNEL_CODES:
            raise InvalidAgreement(
                f"unknown channel {self.channel!r}", details={"channel": self.channel}
            )

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_to

    def require_in_force(self, on: date) -> None:
        if not self.in_force(on):
            raise AgreementNotValid(
                f"agreement {self.agreement_id} is valid {self.valid_from} to {self.valid_to}, "
                f"not on {on}",
                details={"agreement_id": self.agreement_id, "on": on.isoformat()},
            )
