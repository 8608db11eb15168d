"""Ports of origination: storage, the decision engine, data sources and servicing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import Reason
from puhui.graph.live import GraphHealth, LiveGraph
from puhui.graph.online import RecentTie
from puhui.services.security.ports import SecurityUnitOfWork

VelocityField = Literal["phone", "device_id", "ip_address", "address"]
TieField = Literal["id_number", "phone", "device_id", "ip_address", "address"]
"""The identifiers by which an application ties to other enterprises' applications."""
FraudList = Literal["blacklist", "executed_person"]


@dataclass(frozen=True, slots=True)
class ScreeningCounts:
    """What the anti-fraud layer counts in earlier applications, read in one go."""

    applications_by: Mapping[VelocityField, int]
    """Applications within the velocity window, per identifier the application carries."""
    enterprises_sharing_phone: int
    enterprises_sharing_id_number: int
    lists: frozenset[FraudList] | None = None
    """The fraud lists naming the enterprise or the person, when the same read found them
    (else the screening asks ``FraudListRepository.lists_naming``)."""


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """What a staff queue narrows applications to (every field optional, all must hold)."""

    statuses: frozenset[ApplicationStatus] = frozenset()
    """Any of these statuses (empty: any status)."""
    created_from: datetime | None = None
    created_before: datetime | None = None
    min_amount_fen: int | None = None
    """The requested amount, at least (applications without one are left out)."""
    max_amount_fen: int | None = None
    application_no: str | None = None

    def admits(self, application: Application) -> bool:
        """The same test in memory (for fakes and checks)."""
        amount = application.requested_amount_fen
        return (
            (not self.statuses or application.status in self.statuses)
            and (self.created_from is None or application.created_at >= self.created_from)
            and (self.created_before is None or application.created_at < self.created_before)
            and (
                self.min_amount_fen is None
                or (amount is not None and amount >= self.min_amount_fen)
            )
            and (
                self.max_amount_fen is None
                or (amount is not None and amount <= self.max_amount_fen)
            )
            and (self.application_no is None or application.application_no == self.application_no)
        )


class ApplicationRepository(Protocol):
    def add(self, application: Application) -> None:
        """Insert; ``DuplicateApplication`` if the enterprise has another open application."""
        ...

    def get(self, application_id: str) -> Application | None: ...

    def update(self, application: Application, *, previous: Application) -> None:
        """Write ``application`` over ``previous`` (the state it was made from) if nobody
        changed the row since ``previous`` was read (its version); ``Conflict`` otherwise.

        Only what differs between the two is written: an unchanged column keeps its indexes
        untouched (on SQLite, an index whose column is set is rewritten, same value or not).
        """
        ...

    def find_open_for_enterprise(self, uscc: str) -> Application | None: ...

    def owns_credit_line(
        self, line_id: str, *, applicant_user_id: str | None, partner_id: str | None
    ) -> bool:
        """Whether an application of this applicant (or partner's referral) opened the line."""
        ...

    def screening_counts(
        self,
        *,
        velocity: Mapping[VelocityField, str],
        phone: str,
        id_number: str,
        since: datetime,
        uscc: str | None = None,
        up_to: int | None = None,
    ) -> ScreeningCounts:
        """Applications per identifier since ``since``, and enterprises per phone / ID number;
        with ``uscc``, a repository may also name the fraud lists on which the enterprise or
        the person (``id_number``) appears, in the same read (``ScreeningCounts.lists``).
        With ``up_to``, each count stops there (reading no further rows)."""
        ...

    def identifier_ties(
        self,
        *,
        identifiers: Mapping[TieField, str],
        since: datetime,
        uscc: str,
        limit: int = 200,
    ) -> list[RecentTie]:
        """Other enterprises' applications created since ``since`` carrying one of these
        identifiers (one row per identifier and application, newest first, at most ``limit``
        per identifier, so a busy network does not crowd out a shared phone): the
        applications the graph snapshot does not hold yet. ``same_person`` when the other
        application names the same ID number as ``identifiers['id_number']``."""
        ...

    def earlier_of_enterprise(
        self, uscc: str, *, before: datetime, limit: int = 100
    ) -> list[Application]:
        """The enterprise's latest ``limit`` applications created before ``before``."""
        ...

    def list(
        self,
        *,
        status: ApplicationStatus | None = None,
        partner_id: str | None = None,
        applicant_user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
        channel: Channel | None = None,
        branch_code: str | None = None,
        where: ApplicationFilter | None = None,
    ) -> list[Application]: ...

    def count(self, *, status: ApplicationStatus, partner_id: str | None = None) -> int:
        """Applications in ``status`` (a partner's own only, when given)."""
        ...


class ConsentRepository(Protocol):
    def add(self, consent: Consent) -> None: ...

    def for_application(self, application_id: str) -> list[Consent]: ...

    def update(self, consent: Consent) -> None: ...


class OfferRepository(Protocol):
    def add(self, offer: Offer) -> None: ...

    def for_application(self, application_id: str) -> Offer | None: ...


class ContractRepository(Protocol):
    def add(self, contract: Contract) -> None: ...

    def for_application(self, application_id: str) -> Contract | None: ...


class FraudListRepository(Protocol):
    def add(
        self, list_name: FraudList, *, uscc: str | None, id_number: str | None, note: str
    ) -> None: ...

    def lists_naming(self, *, uscc: str, id_number: str) -> frozenset[FraudList]:
        """The lists on which the enterprise or the person appears."""
        ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    scope: str
    key: str
    request_hash: str
    resource_id: str
    created_at: datetime


class IdempotencyRepository(Protocol):
    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None: ...


class DecisionRecordRepository(Protocol):
    def add(self, record: DecisionRecord) -> None:
        """Store an application's automatic decision (once: a second add is a conflict)."""
        ...

    def get(self, application_id: str) -> DecisionRecord | None: ...

    def between(
        self, first_day: date, last_day: date, *, limit: int = 100_000
    ) -> list[DecisionRecord]:
        """Decisions whose as-of date is in [first_day, last_day], oldest first."""
        ...


class OriginationUnitOfWork(SecurityUnitOfWork, Protocol):
    @property
    def applications(self) -> ApplicationRepository: ...

    @property
    def consents(self) -> ConsentRepository: ...

    @property
    def offers(self) -> OfferRepository: ...

    @property
    def contracts(self) -> ContractRepository: ...

    @property
    def fraud_lists(self) -> FraudListRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def decisions(self) -> DecisionRecordRepository: ...


class DataSource(Protocol):
    """Pulls one scope of one enterprise's data (an adapter over a provider or the simulator).

    ``registration`` returns at least ``legal_representative_id_number`` and ``registered_on``
    (ISO date); ``court`` returns ``executed_person`` (bool). Other scopes are opaque here and
    passed to the assessor as they are.
    """

    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]: ...


class DrawOutflowSource(Protocol):
    """Settlement-account debits by counterparty type around an enterprise's draws (资金流向).

    Returns a Polars frame with the market's ``draw_outflows`` columns (``application_id,
    loan_id, uscc, draw_date, draw_amount_fen, month, days_from_draw, counterparty_type,
    amount_fen``) for the draws dated in ``[from_date, to_date]``, holding only the rows a
    provider could have delivered by ``as_of`` (rows of complete months before its month).
    ``puhui.risk.fund_use.fund_use_evidence`` reads it as it is.
    """

    def draw_outflows(
        self, uscc: str, from_date: date, to_date: date, *, as_of: date
    ) -> Any: ...  # a polars.DataFrame (kept Any so the port names no library)


@dataclass(frozen=True, slots=True)
class AssessmentRequest:
    application_id: str
    uscc: str
    requested_amount_fen: int | None
    as_of: date
    data: Mapping[DataScope, Mapping[str, Any]]
    fraud_hits: tuple[Reason, ...]
    requested_term_months: int | None = None
    channel: str | None = None
    """How the application came: ``qr`` (the applicant's own phone), ``branch`` (an account
    manager), ``partner`` (a partner's API key)."""
    earlier_applications: tuple[EarlierApplication, ...] = ()
    """The enterprise's earlier applications to this lender (the latest hundred)."""
    application_channel: str | None = None
    """The application's channel code (``Channel``: ``h5_qr``, ``branch``, ``partner``…)."""
    partner_score: int | None = None
    """The referring partner's risk score of the applicant (0-1000), when it sent one."""
    graph_inputs: Mapping[str, Any] | None = None
    """The strategy inputs the relationship graph filled (``puhui.graph.online.GRAPH_INPUTS``;
    each ``None`` when the graph could not serve); ``None``: no graph check was made."""


@dataclass(frozen=True, slots=True)
class EarlierApplication:
    """What the lender's own records say about an enterprise's earlier application."""

    application_date: date
    channel: str
    requested_amount_fen: int | None
    requested_term_months: int | None


class RelationshipGraph(Protocol):
    """The graph snapshot fit to serve now, or why there is none (``GraphSource``)."""

    def current(self, today: date) -> LiveGraph: ...

    def health(self, today: date) -> GraphHealth:
        """What serves now, without loading (for the health check)."""
        ...


class GuaranteeCoverage(Protocol):
    """Guarantee agencies' batch agreements as online assessment reads them (docs/guarantees.md)."""

    def coverage_for_channel(self, channel: str, on: date) -> Decimal | None:
        """The coverage share (0-1) of the agreement in force on ``on`` for applications
        through ``channel``; None when no agreement names it."""
        ...


class IndustryProsperity(Protocol):
    """The industry prosperity index (景气指数, docs/prosperity.md) as assessment reads it."""

    def latest_index(self, industry_code: str, on: date) -> float | None:
        """The composite index (0-100, 50 neutral) of the industry of GB/T 4754 division
        ``industry_code`` in the latest month up to ``on``; None when there is none or the
        cell is suppressed."""
        ...


class Assessor(Protocol):
    """The decision engine: features, models and strategy → approve, decline or refer."""

    def assess(self, request: AssessmentRequest) -> Assessment: ...


@dataclass(frozen=True, slots=True)
class LineOpening:
    """What servicing needs to open a credit line; ``idempotency_key`` makes retries safe."""

    idempotency_key: str
    application_id: str
    uscc: str
    contract_no: str
    limit_fen: int
    annual_rate: Decimal
    term_months: int
    opened_on: date


class CreditLineOpener(Protocol):
    def open_line(self, opening: LineOpening) -> str:
        """Open the line (its own transaction) and return its id; the same key → the same id."""
        ...


BoundedTerm = Literal["limit_fen", "annual_rate", "term_months"]


@dataclass(frozen=True, slots=True)
class TermBound:
    """One rule an offer's term keeps: ``minimum <= value <= maximum`` (``None``: no end)."""

    field: BoundedTerm
    bound: str
    """What sets it, e.g. ``product MSE-ONLINE-REVOLVING``, ``LPR floor``, ``legal cap (bank)``."""
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def admits(self, value: Decimal) -> bool:
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum


@runtime_checkable
class OfferBounds(Protocol):
    """Where the bounds of an offer come from: the product a line opens on, the pricing rules."""

    def offer_bounds(self, as_of: date) -> tuple[TermBound, ...]:
        """The bounds an offer made on ``as_of`` keeps (empty when this source sets none)."""
        ...


class Signer(Protocol):
    key_id: str

    def sign(self, digest_hex: str) -> str: ...
