"""What the loan-change use cases need from storage: change records beside servicing's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from puhui.domain.lending.account import Arrears, LoanAccount
from puhui.domain.lending.loan_changes import ChangeKind, ContractChange
from puhui.services.servicing.ports import ServicingUnitOfWork


class ChangeStatus:
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class LoanChangeRecord:
    """One requested or approved change of a loan's contract."""

    change_id: str
    loan_id: str
    kind: ChangeKind
    status: str
    in_difficulty: bool
    effective_on: date
    reason: str
    requested_by: str
    requested_at: datetime
    periods_before: int
    maturity_before: date
    original_term_months: int
    """The loan's term before its first extension or restructuring (what 展期 limits use)."""
    extension_months: int | None = None
    new_term_months: int | None = None
    new_annual_rate: Decimal | None = None
    """A restructuring's new contract rate from the approval on (None: the rate is kept)."""
    new_loan_id: str | None = None
    principal_fen: int | None = None
    maturity_after: date | None = None
    observation_ends_on: date | None = None
    second_in_observation: bool = False
    approved_by: str | None = None
    approved_at: datetime | None = None
    arrears: Arrears | None = None
    """What an approved restructuring brought into the new schedule (None: nothing)."""
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    """Why a rejected change was rejected (None: not rejected, or rejected before it was kept)."""

    @property
    def counts_against_policy(self) -> bool:
        """Extensions and restructurings, requested or approved, count against the limit."""
        return self.kind is not ChangeKind.RENEWAL and self.status != ChangeStatus.REJECTED

    def as_contract_change(self) -> ContractChange:
        return ContractChange(self.kind, self.effective_on, self.in_difficulty)


@dataclass(frozen=True, slots=True)
class LoanStanding:
    """Where a loan stands today, as whoever decides a change of it needs to see: what is
    outstanding, what is past due and for how long, and the category end of day stored."""

    loan_id: str
    status: str
    outstanding_principal_fen: int
    past_due_principal_fen: int
    past_due_interest_fen: int
    penalty_fen: int
    """Penalty and compound interest owed, billed or accrued."""
    days_past_due: int
    category: str

    @classmethod
    def of(cls, loan: LoanAccount) -> LoanStanding:
        return cls(
            loan_id=loan.loan_id,
            status=loan.status.value,
            outstanding_principal_fen=loan.outstanding_principal_fen,
            past_due_principal_fen=loan.overdue_principal_fen,
            past_due_interest_fen=loan.overdue_interest_fen,
            penalty_fen=loan.penalty_owed_fen,
            days_past_due=loan.days_past_due,
            category=loan.category.value,
        )

    @property
    def past_due_fen(self) -> int:
        """Principal and interest past due (penalties apart)."""
        return self.past_due_principal_fen + self.past_due_interest_fen


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change awaiting approval and its loan as it stands now (None: the loan is gone)."""

    change: LoanChangeRecord
    loan: LoanStanding | None


class LoanChangeRepository(Protocol):
    def add(self, record: LoanChangeRecord) -> None: ...

    def get(self, change_id: str, *, for_update: bool = False) -> LoanChangeRecord | None: ...

    def save(self, record: LoanChangeRecord) -> None: ...

    def of_loan(self, loan_id: str) -> list[LoanChangeRecord]:
        """Every change of the loan (and, for a renewal, of the loan it replaced), oldest first."""
        ...

    def pending(self, *, limit: int, offset: int) -> list[LoanChangeRecord]: ...

    def count_pending(self) -> int:
        """Changes requested and not yet approved or rejected."""
        ...

    def open_alert_count(self, enterprise_id: str) -> int:
        """Post-loan monitoring alerts of the enterprise not yet closed."""
        ...


class LoanChangesUnitOfWork(ServicingUnitOfWork, Protocol):
    @property
    def changes(self) -> LoanChangeRepository: ...
