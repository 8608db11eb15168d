"""The money of a guarantee: fees, exposure, claims and recovery shares (docs/guarantees.md).

Conventions (each amount rounded half-up to the fen once, at the end):

* fee = principal × annual fee rate × days / 360 (Actual/360);
* covered exposure of a loan = coverage share × principal at cover;
* claim = coverage share × (outstanding principal + normal interest owed, billed and accrued,
  at the claim date), capped by what is left of the borrower's and the portfolio's caps;
  penalty and compound interest are not covered;
* a recovery after a paid claim goes to the agency for its coverage share, the bank keeps
  the remainder; the agency never gets back more than the claim it paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.money import Fen, Rounding, require_non_negative, round_fen

FEE_YEAR_DAYS = 360


def fee_fen(principal_fen: int, annual_fee_rate: Decimal, days: int) -> Fen:
    """The guarantee fee on ``principal_fen`` for ``days`` days (Actual/360, half-up once)."""
    require_non_negative(principal_fen, "principal")
    if days < 0:
        raise InvalidInput("a fee period has no negative days")
    return round_fen(
        Decimal(principal_fen) * annual_fee_rate * days / FEE_YEAR_DAYS, Rounding.HALF_UP
    )


def share_of(amount_fen: int, share: Decimal) -> Fen:
    """``share`` of an amount, half-up to the fen."""
    require_non_negative(amount_fen, "amount")
    if not Decimal(0) <= share <= Decimal(1):
        raise InvalidAmount(f"share {share} is not in [0, 1]")
    return round_fen(Decimal(amount_fen) * share, Rounding.HALF_UP)


@dataclass(frozen=True, slots=True)
class ClaimAmount:
    """What the agency owes on a claim, and why."""

    covered_principal_fen: int
    covered_interest_fen: int
    uncapped_fen: int
    """coverage share × (principal + interest), before the caps."""
    claim_fen: int
    """The claim after the borrower's and portfolio's remaining caps."""

    @property
    def capped(self) -> bool:
        return self.claim_fen < self.uncapped_fen


def claim_amount(
    *,
    coverage_share: Decimal,
    outstanding_principal_fen: int,
    interest_owed_fen: int,
    borrower_room_fen: int,
    portfolio_room_fen: int,
) -> ClaimAmount:
    """The claim on a loan: the covered share of its balance, within the caps' remaining room."""
    principal = require_non_negative(outstanding_principal_fen, "outstanding principal")
    interest = require_non_negative(interest_owed_fen, "interest owed")
    uncapped = share_of(principal + interest, coverage_share)
    room = max(0, min(borrower_room_fen, portfolio_room_fen))
    return ClaimAmount(
        covered_principal_fen=principal,
        covered_interest_fen=interest,
        uncapped_fen=uncapped,
        claim_fen=min(uncapped, room),
    )


@dataclass(frozen=True, slots=True)
class RecoveryShare:
    """How one recovery is split between the agency and the bank (they add up exactly)."""

    recovery_fen: int
    agency_fen: int
    bank_fen: int


def split_recovery(
    recovery_fen: int, coverage_share: Decimal, *, claim_fen: int, agency_recovered_fen: int
) -> RecoveryShare:
    """The agency's coverage share of a recovery, never more than its claim still unrecovered."""
    amount = require_non_negative(recovery_fen, "recovery")
    left = max(0, claim_fen - agency_recovered_fen)
    agency = min(share_of(amount, coverage_share), left)
    return RecoveryShare(recovery_fen=amount, agency_fen=agency, bank_fen=amount - agency)
