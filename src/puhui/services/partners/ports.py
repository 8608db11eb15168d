"""What the partner use cases need from storage, and the views they return (money in fen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from puhui.domain.errors import Conflict, NotFound
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.partners.agreements import Agreement
from puhui.domain.partners.settlement import SettlementRow
from puhui.services.ports import UnitOfWork
from puhui.services.servicing.ports import RequestLog


class LoanNotFound(NotFound):
    """No loan or receipt has this id."""

    code = "loan_not_found"


class LoanAlreadyLinked(Conflict):
    """The loan is already tied to a partner agreement."""

    code = "loan_already_linked"


class AgreementExists(Conflict):
    code = "agreement_exists"


@dataclass(frozen=True, slots=True)
class LoanLink:
    loan_id: str
    agreement_id: str
    channel: str
    principal_fen: int
    linked_on: dt.date


@dataclass(frozen=True, slots=True)
class RoutableLoan:
    """A loan of a partner's customer not yet under an agreement: a receipt drawn on a line
    opened for an application the partner brought (``applications.partner_id``)."""

    loan_id: str
    application_id: str
    disbursed_on: dt.date


@dataclass(frozen=True, slots=True)
class PartnerDecision:
    agreement_id: str
    application_id: str
    decision: str
    reason: str
    decided_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LoanEntry:
    amounts_fen: Mapping[Account, int]
    reversal: bool = False


class PartnerRepository(Protocol):
    def add_agreement(self, agreement: Agreement, *, created_by: str) -> None: ...

    def save_agreement(self, agreement: Agreement) -> None: ...

    def agreement(self, agreement_id: str, *, for_update: bool = False) -> Agreement | None: ...

    def agreements(self) -> list[Agreement]: ...

    def link(self, link: LoanLink) -> None: ...

    def links(self, agreement_id: str) -> list[LoanLink]: ...

    def link_of(self, loan_id: str) -> LoanLink | None: ...

    def loan_principal_fen(self, loan_id: str) -> int | None:
        """The loan's original principal, or None when no loan has this id."""
        ...

    def lock_partner(self, partner_id: str) -> None:
        """Lock every agreement of the partner (PostgreSQL ``FOR UPDATE``, in id order)."""
        ...

    def partner_outstanding_fen(self, partner_id: str) -> int:
        """Principal outstanding of the loans linked under any of the partner's agreements."""
        ...

    def book_outstanding_fen(self) -> int:
        """Principal outstanding of every loan in the book."""
        ...

    def loan_entries_on(self, loan_id: str, on: dt.date) -> list[LoanEntry]:
        """Each journal entry the loan's own servicing posted that day (and their reversals)."""
        ...

    def settled(self, agreement_id: str, on: dt.date) -> bool: ...

    def last_settled(self, agreement_id: str) -> dt.date | None:
        """The latest day settled under the agreement (None: never)."""
        ...

    def routable_loans(self, partner_id: str, through: dt.date) -> list[RoutableLoan]:
        """Active loans disbursed through ``through`` on lines of applications the partner
        brought, under no agreement yet, oldest first."""
        ...

    def save_settlement(
        self, agreement_id: str, on: dt.date, rows: Sequence[SettlementRow]
    ) -> None: ...

    def rows(
        self, agreement_id: str, *, on: dt.date | None = None, through: dt.date | None = None
    ) -> list[SettlementRow]: ...

    def record_decision(self, decision: PartnerDecision) -> None: ...

    def decision(self, agreement_id: str, application_id: str) -> PartnerDecision | None: ...


class PartnerLedger(Protocol):
    def post(self, entry: JournalEntry) -> str: ...

    def get(self, idempotency_key: str) -> JournalEntry | None: ...


class PartnerUnitOfWork(UnitOfWork, Protocol):
    @property
    def requests(self) -> RequestLog: ...

    @property
    def partners(self) -> PartnerRepository: ...

    @property
    def ledger(self) -> PartnerLedger: ...
