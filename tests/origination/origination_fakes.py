"""Fakes of origination's ports: an in-memory unit of work, assessor, data source, servicing."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead, next_event
from puhui.domain.clock import BANK_ZONE, Clock
from puhui.domain.errors import Conflict
from puhui.domain.identity import uscc_check_char
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.decision_record import DecisionEvidence, DecisionRecord
from puhui.domain.origination.errors import DuplicateApplication
from puhui.domain.origination.offer import Offer
from puhui.graph.online import RecentTie
from puhui.graph.snapshot import IdentifierKind
from puhui.services.origination.line_opening import ONLINE_CREDIT_PRODUCT, product_bounds
from puhui.services.origination.ports import (
    ApplicationFilter,
    AssessmentRequest,
    IdempotencyRecord,
    LineOpening,
    ScreeningCounts,
    TermBound,
)
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.ports import ApiKeyRecord, OtpRecord, Revocations, User
from puhui.services.security.signing import ContractSigner

# Valid identifiers (check characters computed by the domain's own functions in tests).
USCC_A = "91350100M000100Y43"
USCC_B = "91110000802100433B"
OWNER_ID = "11010519491231002X"
OTHER_ID = "440524188001010014"
PHONE = "13812345678"
OTHER_PHONE = "13987654321"


def numbered_uscc(n: int, first9: str = "91350100M") -> str:
    """The ``n``-th valid USCC after ``first9`` (distinct enterprises for a test)."""
    first17 = f"{first9}{n:08d}"
    return first17 + uscc_check_char(first17)


def fast_hasher() -> PasswordHasher:
    """Argon2id with test-sized cost: the algorithm is the same, the memory is not."""
    return PasswordHasher(time_cost=1, memory_cost_kib=1024)


def fixed_signer() -> ContractSigner:
    return ContractSigner(bytes(range(32)))


@dataclass
class Store:
    applications: dict[str, Application] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    fraud: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    revoked_tokens: dict[str, datetime] = field(default_factory=dict)
    user_revocations: dict[str, datetime] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    otps: dict[str, OtpRecord] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    decisions: dict[str, DecisionRecord] = field(default_factory=dict)


class _Decisions:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, record: DecisionRecord) -> None:
        if record.application_id in self.s.decisions:
            raise Conflict("this application's decision is stored already")
        self.s.decisions[record.application_id] = record

    def get(self, application_id: str) -> DecisionRecord | None:
        return self.s.decisions.get(application_id)

    def between(
        self, first_day: date, last_day: date, *, limit: int = 100_000
    ) -> list[DecisionRecord]:
        found = [r for r in self.s.decisions.values() if first_day <= r.evidence.as_of <= last_day]
        return sorted(found, key=lambda r: (r.evidence.as_of, r.decided_at))[:limit]


class _Apps:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, application: Application) -> None:
        if application.is_open and self.find_open_for_enterprise(application.applicant.uscc):
            raise DuplicateApplication("open application exists")
        self.s.applications[application.application_id] = application

    def get(self, application_id: str) -> Application | None:
        return self.s.applications.get(application_id)

    def update(self, application: Application, *, previous: Application) -> None:
        current = self.s.applications[application.application_id]
        if current.version != previous.version:
            raise Conflict("stale")
        self.s.applications[application.application_id] = application

    def find_open_for_enterprise(self, uscc: str) -> Application | None:
        return next(
            (a for a in self.s.applications.values() if a.applicant.uscc == uscc and a.is_open),
            None,
        )

    def owns_credit_line(
        self, line_id: str, *, applicant_user_id: str | None, partner_id: str | None
    ) -> bool:
        return any(
            a.credit_line_id == line_id
            and (
                (applicant_user_id is not None and a.applicant_user_id == applicant_user_id)
                or (partner_id is not None and a.partner_id == partner_id)
            )
            for a in self.s.applications.values()
        )

    def earlier_of_enterprise(
        self, uscc: str, *, before: datetime, limit: int = 100
    ) -> list[Application]:
        found = sorted(
            (
                a
                for a in self.s.applications.values()
                if a.applicant.uscc == uscc and a.created_at < before
            ),
            key=lambda a: (a.created_at, a.application_id),
        )
        return found[-limit:]

    def identifier_ties(
        self,
        *,
        identifiers: Mapping[str, str],
        since: datetime,
        uscc: str,
        limit: int = 200,
    ) -> list[RecentTie]:
        kinds: dict[str, IdentifierKind] = {
            "id_number": "person",
            "phone": "phone",
            "device_id": "device",
            "ip_address": "ip",
            "address": "address",
        }
        person = identifiers.get("id_number")
        newest = sorted(self.s.applications.values(), key=lambda a: a.created_at, reverse=True)
        return [
            RecentTie(
                kinds[name],
                a.applicant.uscc,
                a.applicant.id_number == person,
                a.created_at.astimezone(BANK_ZONE).date(),
            )
            for name, value in sorted(identifiers.items())
            for a in [
                a
                for a in newest
                if a.created_at >= since
                and a.applicant.uscc != uscc
                and getattr(a.applicant, name) == value
            ][:limit]
        ]

    def screening_counts(
        self,
        *,
        velocity: Mapping[str, str],
        phone: str,
        id_number: str,
        since: datetime,
        uscc: str | None = None,
        up_to: int | None = None,
    ) -> ScreeningCounts:
        apps = list(self.s.applications.values())
        cap = up_to if up_to is not None else len(apps)

        def enterprises(field_name: str, value: str) -> int:
            found = {a.applicant.uscc for a in apps if getattr(a.applicant, field_name) == value}
            return min(cap, len(found))

        return ScreeningCounts(
            applications_by={
                name: min(
                    cap,
                    sum(
                        1
                        for a in apps
                        if getattr(a.applicant, name) == value and a.created_at >= since
                    ),
                )
                for name, value in velocity.items()
            },
            enterprises_sharing_phone=enterprises("phone", phone),
            enterprises_sharing_id_number=enterprises("id_number", id_number),
        )

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
    ) -> list[Application]:
        rows = [
            a
            for a in self.s.applications.values()
            if (status is None or a.status is status)
            and (partner_id is None or a.partner_id == partner_id)
            and (applicant_user_id is None or a.applicant_user_id == applicant_user_id)
            and (channel is None or a.channel is channel)
            and (branch_code is None or a.branch_code == branch_code)
            and (where is None or where.admits(a))
        ]
        return rows[offset : offset + limit]

    def count(self, *, status: ApplicationStatus, partner_id: str | None = None) -> int:
        return sum(
            1
            for a in self.s.applications.values()
            if a.status is status and (partner_id is None or a.partner_id == partner_id)
        )


class _Consents:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, consent: Consent) -> None:
        self.s.consents[consent.consent_id] = consent

    def for_application(self, application_id: str) -> list[Consent]:
        return [c for c in self.s.consents.values() if c.application_id == application_id]

    def update(self, consent: Consent) -> None:
        self.s.consents[consent.consent_id] = consent


class _ByApplication:
    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d

    def add(self, item: Any) -> None:
        if item.application_id in self.d:
            raise Conflict("exists")
        self.d[item.application_id] = item

    def for_application(self, application_id: str) -> Any:
        return self.d.get(application_id)


class _Fraud:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, list_name: str, *, uscc: str | None, id_number: str | None, note: str) -> None:
        self.s.fraud.append((list_name, uscc, id_number))

    def lists_naming(self, *, uscc: str, id_number: str) -> frozenset[str]:
        return frozenset(n for n, u, i in self.s.fraud if u == uscc or i == id_number)


class _Idem:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.s.idempotency.get((scope, key))

    def add(self, record: IdempotencyRecord) -> None:
        self.s.idempotency[(record.scope, record.key)] = record


class _Users:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, user: User) -> None:
        self.s.users[user.user_id] = user

    def get(self, user_id: str) -> User | None:
        return self.s.users.get(user_id)

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.s.users.values() if u.username == username), None)

    def applicant_by_phone(self, phone: str) -> User | None:
        return next((u for u in self.s.users.values() if u.phone == phone), None)


class _Keys:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, record: ApiKeyRecord) -> None:
        self.s.api_keys[record.key_id] = record

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self.s.api_keys.get(key_id)


class _Otps:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, record: OtpRecord) -> None:
        self.s.otps[record.otp_id] = record

    def latest_for(self, phone: str) -> OtpRecord | None:
        rows = [r for r in self.s.otps.values() if r.phone == phone and r.used_at is None]
        return max(rows, key=lambda r: (r.issued_at, r.otp_id)) if rows else None

    def update(self, record: OtpRecord) -> None:
        self.s.otps[record.otp_id] = record


class _Audit:
    def __init__(self, s: Store, clock: Clock) -> None:
        self.s = s
        self.clock = clock

    def append(self, record: AuditRecord) -> AuditEvent:
        prev = self.s.audit[-1].hash if self.s.audit else "0" * 64
        event = next_event(
            record,
            seq=len(self.s.audit) + 1,
            prev_hash=prev,
            occurred_at=self.clock.now(),
            key=b"k",
        )
        self.s.audit.append(event)
        return event

    def events(self) -> Any:
        return iter(self.s.audit)

    def seal_pending(self) -> int:
        return 0  # events are chained as they are appended

    def head(self) -> ChainHead | None:
        return None

    def count(self) -> int:
        return len(self.s.audit)


class _Sessions:
    def __init__(self, s: Store) -> None:
        self.s = s

    def revoke_token(
        self, token_id: str, *, user_id: str, revoked_at: datetime, expires_at: datetime
    ) -> None:
        self.s.revoked_tokens[token_id] = expires_at

    def revoke_user(self, user_id: str, *, at: datetime) -> None:
        self.s.user_revocations[user_id] = at

    def current(self, now: datetime) -> Revocations:
        return Revocations(
            frozenset(k for k, exp in self.s.revoked_tokens.items() if exp > now),
            dict(self.s.user_revocations),
        )


class FakeUnitOfWork:
    """Works on a copy of the shared store; ``commit`` publishes the copy."""

    def __init__(self, shared: Store, clock: Clock) -> None:
        self.shared = shared
        self.clock = clock
        self.commits = 0

    def __enter__(self) -> Self:
        self.s = copy.copy(self.shared)
        for name in self.s.__dataclass_fields__:
            setattr(self.s, name, copy.copy(getattr(self.shared, name)))
        self.applications = _Apps(self.s)
        self.consents = _Consents(self.s)
        self.offers = _ByApplication(self.s.offers)
        self.contracts = _ByApplication(self.s.contracts)
        self.fraud_lists = _Fraud(self.s)
        self.idempotency = _Idem(self.s)
        self.decisions = _Decisions(self.s)
        self.users = _Users(self.s)
        self.api_keys = _Keys(self.s)
        self.otps = _Otps(self.s)
        self.sessions = _Sessions(self.s)
        self.audit = _Audit(self.s, self.clock)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        for name in self.s.__dataclass_fields__:
            setattr(self.shared, name, copy.copy(getattr(self.s, name)))
        self.commits += 1

    def rollback(self) -> None:
        self.__enter__()

    def table_counts(self) -> dict[str, int]:
        return {}


EVIDENCE = DecisionEvidence(
    as_of=date(2026, 3, 2),
    licence_type="bank",
    strategy_name="mse-default",
    strategy_version=1,
    strategy_hash="0" * 64,
    model_name="market-pd",
    model_version="v1",
    arm="champion",
    inputs={"score": 655},
    features={"f": 1.0},
    feature_source="store",
)
"""Evidence for ``ScriptedAssessor.evidence``: with it a decision is stored as the real
assessor stores one."""


@dataclass
class ScriptedAssessor:
    """Returns the outcome it is told to, and remembers what it was asked."""

    outcome: Outcome = Outcome.APPROVE
    requests: list[AssessmentRequest] = field(default_factory=list)
    evidence: DecisionEvidence | None = None
    """Attached to the assessment when set: the decision is then stored for replay."""

    def assess(self, request: AssessmentRequest) -> Assessment:
        self.requests.append(request)
        if self.outcome is Outcome.DECLINE:
            return Assessment(outcome=Outcome.DECLINE, reasons=("SC01_LOW_SCORE",), score=480)
        return Assessment(
            outcome=self.outcome,
            reasons=() if self.outcome is Outcome.APPROVE else ("RF01_BORDERLINE",),
            limit_fen=30_000_000,
            annual_rate=Decimal("0.0435"),
            term_months=12,
            grade="B",
            pd=Decimal("0.021"),
            score=655,
            trace={"strategy": "test-v1", "score": 655},
            evidence=self.evidence,
        )


@dataclass
class FakeDataSource:
    """Registration shows ``legal_rep`` as legal representative; other scopes are stubs."""

    legal_rep: str = OWNER_ID
    registered_on: date = date(2018, 5, 1)
    executed: bool = False
    pulls: list[tuple[str, DataScope]] = field(default_factory=list)

    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        self.pulls.append((uscc, scope))
        if scope is DataScope.REGISTRATION:
            return {
                "legal_representative_id_number": self.legal_rep,
                "registered_on": self.registered_on.isoformat(),
            }
        if scope is DataScope.COURT:
            return {"executed_person": self.executed}
        return {"scope": scope.value, "months": 24}


class Crash(Exception):
    """Stands for the process dying at a chosen point."""


@dataclass
class FakeLineOpener:
    """Idempotent by key, like servicing must be; can be told to die before or after opening."""

    lines: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    crash_before: bool = False
    refusals: int = 0
    """How many of the next calls servicing refuses (a ``Conflict``, as a real refusal is)."""

    def offer_bounds(self, as_of: date) -> tuple[TermBound, ...]:
        """The bounds of the product real lines open on."""
        return product_bounds(ONLINE_CREDIT_PRODUCT)

    def open_line(self, opening: LineOpening) -> str:
        self.calls += 1
        if self.crash_before:
            self.crash_before = False
            raise Crash("died before servicing opened the line")
        if self.refusals > 0:
            self.refusals -= 1
            raise Conflict("servicing refused to open the line")
        if opening.idempotency_key not in self.lines:
            self.lines[opening.idempotency_key] = f"line_{len(self.lines) + 1:04d}"
        return self.lines[opening.idempotency_key]


def later(clock: Any, days: int) -> None:
    clock.advance(timedelta(days=days))


__all__ = ["replace"]
