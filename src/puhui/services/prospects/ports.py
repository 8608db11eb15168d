"""What the prospect use cases need: stored runs and prospects, an outbox, a notifier, and
origination's view of the applications prospects make."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from puhui.domain.errors import Conflict
from puhui.domain.prospects import ProspectRow, ProspectStatus
from puhui.services.notifications import MessageStatus, OutboxMessage
from puhui.services.ports import UnitOfWork


class ProspectExpired(Conflict):
    """The pre-approval lapsed (its validity passed, or a later run no longer lists it)."""

    code = "prospect_expired"


class InvalidProspectTransition(Conflict):
    """The queue does not move from the prospect's status to the one asked for."""

    code = "invalid_prospect_transition"


class MarketingOptedOut(Conflict):
    """The enterprise or the phone opted out of marketing: no offer is sent to them."""

    code = "marketing_opted_out"


class MessageNotRequeued(Conflict):
    """Only a failed message is queued again, and an offer only while it is the prospect's
    latest (a later offer went out instead)."""

    code = "message_not_requeued"


class PreConsentViolation(Conflict):
    """The run read data the bank may use only after the enterprise consents."""

    code = "pre_consent_violation"


class OfferState(StrEnum):
    QUEUED = "queued"
    """Written to the outbox, not delivered yet."""
    SENT = "sent"
    FAILED = "failed"
    """The provider refused it on every attempt."""
    CANCELLED = "cancelled"
    """Not sent: an opt-out, a re-run or the validity passing came first."""


class Conversion(StrEnum):
    """How a prospect's application ended (its conversion)."""

    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What a pre-approval run says about itself when it is loaded.

    ``sources`` are the market tables the run read (an offer is refused when one is not a
    source the bank may use before consent). ``customers`` are the existing customers per
    (region code, industry group, park) the run counted, for the marketing map's penetration
    (empty: the listed enterprises flagged as customers are counted instead).
    """

    sources: frozenset[str]
    strategy_version: str | None = None
    model_version: str | None = None
    engine: str | None = None
    customers: Mapping[tuple[str, str, str | None], int] | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    month: dt.date
    loaded_at: dt.datetime
    loaded_by: str
    rows_loaded: int
    rows_new: int
    rows_kept: int
    rows_expired: int
    meta: RunMeta


@dataclass(frozen=True, slots=True)
class ProspectRecord:
    """A stored prospect: the run's row and the work done on it."""

    prospect_id: str
    row: ProspectRow
    run_id: str
    status: ProspectStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    assigned_to: str | None = None
    notes: str = ""
    contact_phone: str | None = None
    offer_status: OfferState | None = None
    offered_at: dt.datetime | None = None
    application_id: str | None = None
    applied_at: dt.datetime | None = None
    conversion: Conversion | None = None
    conversion_limit_fen: int | None = None
    converted_at: dt.datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class ProspectEvent:
    """One line of a prospect's history (loaded, assigned, moved, offered, applied...)."""

    prospect_id: str
    at: dt.datetime
    actor: str
    action: str
    from_status: ProspectStatus | None = None
    to_status: ProspectStatus | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ProspectQuery:
    month: dt.date | None = None
    status: ProspectStatus | None = None
    region_code: str | None = None
    """A region code or its prefix (a city's code covers its districts)."""
    assigned_to: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ClusterCount:
    """The map's raw counts for one (region, industry, park) cluster of a month."""

    region_code: str
    industry_group: str
    park: str | None
    prospects: int
    need_fen: int
    listed_customers: int


@dataclass(frozen=True, slots=True)
class ApplicationOutcome:
    """Origination's view of an application a prospect made."""

    application_id: str
    uscc: str
    status: str
    """The application's status code (``offered``, ``declined``, ``referred``...)."""
    limit_fen: int | None
    """The offer's limit when one was made."""


class ProspectRepository(Protocol):
    def add_run(self, run: RunRecord) -> None: ...

    def latest_run(self, month: dt.date) -> RunRecord | None: ...

    def run(self, run_id: str) -> RunRecord | None: ...

    def listed(self, month: dt.date) -> dict[str, ProspectRecord]:
        """Every prospect of the month (any status), by USCC, for update (locked)."""
        ...

    def add_all(self, records: Sequence[ProspectRecord]) -> None: ...

    def update_all(self, records: Sequence[ProspectRecord]) -> None:
        """Write back rows read under ``listed``'s lock (a load holds it throughout)."""
        ...

    def save(self, record: ProspectRecord, *, expected_version: int) -> None:
        """Write one changed prospect if nobody changed it since (else ``Conflict``)."""
        ...

    def get(self, prospect_id: str) -> ProspectRecord | None: ...

    def by_application(self, application_id: str) -> ProspectRecord | None: ...

    def of_enterprise(self, uscc: str, months: Sequence[dt.date]) -> list[ProspectRecord]:
        """The enterprise's prospects on the lists of those months (one a month at most)."""
        ...

    def find(self, query: ProspectQuery) -> list[ProspectRecord]: ...

    def add_events(self, events: Sequence[ProspectEvent]) -> None: ...

    def events(self, prospect_id: str) -> list[ProspectEvent]: ...

    def territories(self) -> dict[str, list[str]]:
        """Region code -> the enabled account managers covering it (by user id)."""
        ...

    def set_territory(self, region_code: str, user_ids: Sequence[str], *, actor: str) -> None: ...

    def account_managers(self, user_ids: Sequence[str]) -> set[str]:
        """Those of ``user_ids`` that are enabled account managers."""
        ...

    def open_counts(self, month: dt.date) -> dict[str, int]:
        """Assignee -> prospects of the month they hold that are still being worked."""
        ...

    def opted_out(self, *, uscc: str, phone: str | None) -> bool: ...

    def add_opt_out(self, *, uscc: str | None, phone: str | None, reason: str, actor: str) -> str:
        """Record an opt-out; returns its id."""
        ...

    def add_message(self, message: OutboxMessage) -> None: ...

    def pending_messages(self, limit: int) -> list[OutboxMessage]: ...

    def messages(
        self, status: MessageStatus | None, limit: int, offset: int = 0
    ) -> list[OutboxMessage]:
        """The newest messages first, of one status or all."""
        ...

    def message_counts(self) -> dict[MessageStatus, int]:
        """Messages of each status (every status named, zero included)."""
        ...

    def get_message(self, message_id: str) -> OutboxMessage | None: ...

    def messages_about(self, subject_id: str) -> list[OutboxMessage]:
        """Every message about ``subject_id`` (a prospect or a customer), oldest first."""
        ...

    def pending_for(self, *, uscc: str | None, phone: str | None) -> list[OutboxMessage]:
        """Pending messages about the enterprise's prospects or to the phone."""
        ...

    def save_message(self, message: OutboxMessage) -> None: ...

    def clusters(self, month: dt.date) -> list[ClusterCount]: ...

    def latest_month(self) -> dt.date | None: ...

    def unconverted(self, limit: int) -> list[ProspectRecord]:
        """Applied prospects whose conversion is not recorded yet."""
        ...


class ProspectsUnitOfWork(UnitOfWork, Protocol):
    @property
    def prospects(self) -> ProspectRepository: ...


ProspectUnits = Callable[[], ProspectsUnitOfWork]


class ApplicationOutcomes(Protocol):
    def outcome(self, application_id: str) -> ApplicationOutcome | None: ...

    def outcomes(self, application_ids: Sequence[str]) -> dict[str, ApplicationOutcome]: ...
