"""What the guarantee use cases need from storage, and the records they exchange."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from puhui.domain.guarantees.agreements import Agency, Agreement
from puhui.services.ports import UnitOfWork
from puhui.services.servicing.ports import LedgerRepository


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """A loan as servicing's end of day left it (read only: guarantees never edit loans)."""

    loan_id: str
    enterprise_id: str
    product_id: str
    principal_fen: int
    outstanding_principal_fen: int
    interest_owed_fen: int
    """Normal interest billed and unpaid plus accrued unbilled (no penalty, no compound)."""
    days_past_due: int
    status: str
    disbursed_on: date
    maturity_date: date

    @property
    def written_off(self) -> bool:
        return self.status == "written_off"


@dataclass(frozen=True, slots=True)
class Cover:
    loan_id: str
    agreement_id: str
    enterprise_id: str
    principal_fen: int
    covered_fen: int
    covered_on: date


@dataclass(frozen=True, slots=True)
class FeeRecord:
    entry_key: str
    loan_id: str
    period_from: date
    period_to: date
    principal_fen: int
    amount_fen: int
    collected_on: date


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    loan_id: str
    agreement_id: str
    status: str
    """raised (the agency owes it), paid, withdrawn (the loan cured before payment) or returned
    (the loan cured after payment and before write-off: the compensation went back)."""
    raised_on: date
    days_past_due: int
    principal_fen: int
    interest_fen: int
    claim_fen: int
    paid_on: date | None
    released_on: date | None
    """When the loan's write-off turned the compensation held into income."""
    returned_on: date | None
    """When the loan's cure sent the compensation held back to the agency."""
    agency_recovered_fen: int
    bank_recovered_fen: int
    version: int


CLOSED_CLAIMS = ("withdrawn", "returned")
"""Claim statuses that owe nothing: the loan cured before (withdrawn) or after (returned) the
agency paid. A loan whose claim is closed may reach the trigger again: it is raised anew."""


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    entry_key: str
    claim_id: str
    recovered_on: date
    recovery_fen: int
    agency_fen: int
    bank_fen: int


@dataclass(frozen=True, slots=True)
class Remittance:
    """What the bank paid on to an agency: fees collected for it and its recovery shares."""

    agency_id: str
    remitted_on: date
    fees_fen: int
    recoveries_fen: int


@dataclass(frozen=True, slots=True)
class AgreementTotals:
    """An agreement's covered exposure and claims, kept under its row lock."""

    covered_fen: int
    claimed_fen: int


@dataclass(frozen=True, slots=True)
class ExposureRow:
    """One agreement's line of the exposure and claims report."""

    agency_id: str
    agency_name: str
    agreement_id: str
    coverage_share: str
    loans_covered: int
    covered_fen: int
    portfolio_cap_fen: int
    outstanding_principal_fen: int
    fees_fen: int
    claims_raised: int
    claims_fen: int
    claims_paid_fen: int
    agency_recovered_fen: int


class GuaranteeRepository(Protocol):
    def add_agency(self, agency: Agency, *, actor: str) -> None: ...

    def get_agency(self, agency_id: str) -> Agency | None: ...

    def agency_by_uscc(self, uscc: str) -> Agency | None: ...

    def list_agencies(self) -> list[Agency]: ...

    def add_agreement(
        self, agreement: Agreement, *, actor: str, request_key: str | None = None
    ) -> None: ...

    def agreement_by_key(self, request_key: str) -> Agreement | None: ...

    def get_agreement(self, agreement_id: str, *, for_update: bool = False) -> Agreement | None: ...

    def list_agreements(self, agency_id: str | None = None) -> list[Agreement]: ...

    def agreements_for_channel(self, channel: str) -> list[Agreement]:
        """The agreements that name ``channel`` (any state of validity), by id."""
        ...

    def totals(self, agreement_id: str) -> AgreementTotals: ...

    def save_totals(self, agreement_id: str, totals: AgreementTotals) -> None: ...

    def loan(self, loan_id: str) -> LoanFacts | None: ...

    def add_cover(self, cover: Cover, *, actor: str) -> None: ...

    def get_cover(self, loan_id: str) -> Cover | None: ...

    def borrower_covered_fen(self, agreement_id: str, enterprise_id: str) -> int: ...

    def borrower_claimed_fen(self, agreement_id: str, enterprise_id: str) -> int: ...

    def add_fee(self, fee: FeeRecord) -> None: ...

    def fee_for(self, loan_id: str, period_from: date) -> FeeRecord | None: ...

    def add_claim(self, claim: Claim) -> None: ...

    def get_claim(self, loan_id: str, *, for_update: bool = False) -> Claim | None: ...

    def save_claim(self, claim: Claim) -> None: ...

    def list_claims(self, status: str | None = None) -> list[Claim]: ...

    def triggered_without_claim(self, as_of: date) -> list[str]:
        """Covered loans with no claim yet whose days past due reached their trigger."""
        ...

    def periodic_fees_due(self, as_of: date) -> list[tuple[Cover, date | None]]:
        """Covers of active loans under periodic agreements, covered on or before ``as_of``,
        each with the end of its last fee period collected (None: none yet)."""
        ...

    def raised_claims_cured(self) -> list[Claim]:
        """Raised (unpaid) claims whose loan is current again or repaid."""
        ...

    def paid_claims_cured(self) -> list[Claim]:
        """Paid claims, not released, whose loan is current again or repaid."""
        ...

    def paid_claims_to_release(self) -> list[Claim]:
        """Paid claims, not yet released, whose loan has been written off."""
        ...

    def add_recovery(self, recovery: RecoveryRecord) -> None: ...

    def get_recovery(self, entry_key: str) -> RecoveryRecord | None: ...

    def remitted(self, remittance_key: str) -> tuple[int, int] | None:
        """(fees, recovery shares) paid on under the key; None when the key is unused."""
        ...

    def mark_remitted(self, agency_id: str, remittance_key: str, on: date) -> tuple[int, int]: ...

    def exposure(self) -> list[ExposureRow]: ...


class GuaranteeUnitOfWork(UnitOfWork, Protocol):
    @property
    def guarantees(self) -> GuaranteeRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...
