"""Repositories of origination and security over SQLAlchemy Core; they never commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast
from puhui.adapters.db.documents import document_from_text, document_text
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination import tables as t
from puhui.domain.clock import BANK_ZONE, Clock
from puhui.domain.errors import Conflict, IdempotencyConflict
from puhui.domain.ids import new_id
from puhui.domain.origination.application import Applicant, Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.errors import ApplicationNumberTaken, DuplicateApplication
from puhui.domain.origination.offer import Offer
from puhui.graph.online import RecentTie
from puhui.graph.snapshot import IdentifierKind
from puhui.services.origination.ports import (
    ApplicationFilter,
    FraudList,
    IdempotencyRecord,
    ScreeningCounts,
    TieField,
    VelocityField,
)

ID_NUMBER = "id_number"
PHONE = "phone"

# Hot statements are built once: constructing and cache-keying a Core statement per call
# cost more than executing it on SQLite.
_A = t.applications
_INSERT_APPLICATION = _A.insert()
_GET_APPLICATION = select(_A).where(_A.c.application_id == bindparam("b_id"))
_OPEN_FOR_ENTERPRISE = select(_A).where(_A.c.open_uscc == bindparam("b_uscc"))
_EARLIER_OF_ENTERPRISE = (
    select(_A)
    .where(_A.c.uscc == bindparam("b_uscc"), _A.c.created_at < bindparam("b_before"))
    .order_by(_A.c.created_at.desc(), _A.c.application_id.desc())
    .limit(bindparam("b_limit"))
)
_UPDATE_APPLICATION = _A.update().where(
    and_(_A.c.application_id == bindparam("b_id"), _A.c.version == bindparam("b_version"))
)
_LINE_OF_APPLICANT = (
    select(_A.c.application_id)
    .where(
        and_(
            _A.c.applicant_user_id == bindparam("b_owner"),
            _A.c.credit_line_id == bindparam("b_line"),
        )
    )
    .limit(1)
)
_LINE_OF_PARTNER = (
    select(_A.c.application_id)
    .where(
        and_(_A.c.partner_id == bindparam("b_owner"), _A.c.credit_line_id == bindparam("b_line"))
    )
    .limit(1)
)
_VELOCITY_COLUMNS = {
    "phone": _A.c.phone_index,
    "device_id": _A.c.device_id_index,
    "ip_address": _A.c.ip_address_index,
    "address": _A.c.address_index,
}
DEVICE_ID = "device_id"
IP_ADDRESS = "ip_address"
ADDRESS = "address"
_OPTIONAL_PERSONAL = (DEVICE_ID, IP_ADDRESS, ADDRESS)
_UNCAPPED = 2**62
"""``b_cap`` when the caller wants whole counts (no LIMIT that both databases accept means
"none")."""


def _count_up_to_cap(rows: Select[Any]) -> Any:
    """``count(*)`` of ``rows``, reading at most ``b_cap`` of them."""
    return select(func.count()).select_from(rows.limit(bindparam("b_cap")).subquery())


_SHARING_PHONE = _count_up_to_cap(
    select(_A.c.uscc).where(_A.c.phone_index == bindparam("b_phone")).distinct()
).scalar_subquery()
_SHARING_ID = _count_up_to_cap(
    select(_A.c.uscc).where(_A.c.id_number_index == bindparam("b_person")).distinct()
).scalar_subquery()
_F = t.fraud_list_entries
_SCREENED_LISTS: tuple[FraudList, ...] = ("blacklist", "executed_person")
_ON_LIST = [
    select(_F.c.entry_id)
    .where(
        _F.c.list_name == name,
        or_(_F.c.uscc == bindparam("b_uscc"), _F.c.id_number_index == bindparam("b_person")),
    )
    .exists()
    .label(f"l_{name}")
    for name in _SCREENED_LISTS
]
_SCREENING: dict[frozenset[str], Select[Any]] = {}
_TIE_COLUMNS = {**_VELOCITY_COLUMNS, "id_number": _A.c.id_number_index}
_TIE_KINDS: dict[str, IdentifierKind] = {
    "id_number": "person",
    "phone": "phone",
    "device_id": "device",
    "ip_address": "ip",
    "address": "address",
}
_TIES: dict[frozenset[str], Any] = {}


def _ties_statement(fields: frozenset[str]) -> Any:
    """Other enterprises' recent applications per identifier: one indexed range read per
    identifier (``(<field>_index, created_at)``), newest first and limited per identifier
    (one limit over all let a busy network crowd out a shared phone), all in one statement.
    Each branch is wrapped in a subquery: SQLite allows no LIMIT in a compound's member."""
    statement = _TIES.get(fields)
    if statement is None:
        parts = [
            select(
                select(
                    literal(name).label("field"),
                    _A.c.uscc,
                    (_A.c.id_number_index == bindparam("b_person")).label("same_person"),
                    _A.c.created_at,
                )
                .where(
                    _TIE_COLUMNS[name] == bindparam(f"b_{name}"),
                    _A.c.created_at >= bindparam("b_since"),
                    _A.c.uscc != bindparam("b_uscc"),
                )
                .order_by(_A.c.created_at.desc())
                .limit(bindparam("b_limit"))
                .subquery(f"t_{name}")
            )
            for name in sorted(fields)
        ]
        union = union_all(*parts).subquery()
        statement = _TIES[fields] = select(union).order_by(union.c.created_at.desc())
    return statement


def _bank_date(instant: datetime) -> date:
    """The business date (bank's zone) of a stored UTC instant."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(BANK_ZONE).date()


def _screening_statement(fields: frozenset[str]) -> Select[Any]:
    """One SELECT of every anti-fraud count and of the fraud lists naming the applicant (a
    statement per set of identifiers, built once): one round trip for the whole screening.
    Each count reads at most ``b_cap`` rows."""
    statement = _SCREENING.get(fields)
    if statement is None:
        velocity = [
            _count_up_to_cap(
                # The (identifier, created_at) index holds both: an index-only range read.
                select(_VELOCITY_COLUMNS[name]).where(
                    _VELOCITY_COLUMNS[name] == bindparam(f"b_{name}"),
                    _A.c.created_at >= bindparam("b_since"),
                )
            )
            .scalar_subquery()
            .label(f"v_{name}")
            for name in sorted(fields)
        ]
        built: Select[Any] = select(
            *velocity,
            _SHARING_PHONE.label("s_phone"),
            _SHARING_ID.label("s_id_number"),
            *_ON_LIST,
        )
        statement = _SCREENING[fields] = built
    return statement


_INSERT_CONSENT = t.consents.insert()
_INSERT_OFFER = t.offers.insert()
_CONSENTS_OF = (
    select(t.consents)
    .where(t.consents.c.application_id == bindparam("b_id"))
    .order_by(t.consents.c.granted_at, t.consents.c.consent_id)
)
_OFFER_OF = select(t.offers).where(t.offers.c.application_id == bindparam("b_id"))
_CONTRACT_OF = select(t.contracts).where(t.contracts.c.application_id == bindparam("b_id"))
_LISTED = (
    select(_F.c.list_name)
    .where(or_(_F.c.uscc == bindparam("b_uscc"), _F.c.id_number_index == bindparam("b_person")))
    .distinct()
)
_IDEMPOTENCY = select(t.idempotency_keys).where(
    and_(
        t.idempotency_keys.c.scope == bindparam("b_scope"),
        t.idempotency_keys.c.key == bindparam("b_key"),
    )
)


def _assessment_to_json(assessment: Assessment | None) -> str | None:
    if assessment is None:
        return None
    return document_text(
        {
            "outcome": assessment.outcome.value,
            "reasons": list(assessment.reasons),
            "limit_fen": assessment.limit_fen,
            "annual_rate": None if assessment.annual_rate is None else str(assessment.annual_rate),
            "term_months": assessment.term_months,
            "grade": assessment.grade,
            "pd": None if assessment.pd is None else str(assessment.pd),
            "score": assessment.score,
            "trace": assessment.trace,
        },
        stringify=True,
    )


def _assessment_from_json(text: str | None) -> Assessment | None:
    if text is None:
        return None
    d = document_from_text(text)
    return Assessment(
        outcome=Outcome(d["outcome"]),
        reasons=tuple(d["reasons"]),
        limit_fen=d["limit_fen"],
        annual_rate=None if d["annual_rate"] is None else Decimal(d["annual_rate"]),
        term_months=d["term_months"],
        grade=d["grade"],
        pd=None if d["pd"] is None else Decimal(d["pd"]),
        score=d["score"],
        trace=d["trace"],
    )


class SqlApplicationRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._c = connection
        self._cipher = cipher

    def _sealed(self, column: str, value: str | None) -> dict[str, str | None]:
        if value is None:
            return {f"{column}_enc": None, f"{column}_index": None}
        return {
            f"{column}_enc": self._cipher.encrypt(column, value),
            f"{column}_index": self._cipher.blind_index(column, value),
        }

    def _opened(self, column: str, stored: str | None) -> str | None:
        return None if stored is None else self._cipher.decrypt(column, stored)

    def _values(self, application: Application) -> dict[str, Any]:
        return {
            "application_no": application.application_no,
            "uscc": application.applicant.uscc,
            "open_uscc": application.applicant.uscc if application.is_open else None,
            "requested_amount_fen": application.requested_amount_fen,
            "requested_term_months": application.requested_term_months,
            "status": application.status.value,
            "applicant_user_id": application.applicant_user_id,
            "account_manager_id": application.account_manager_id,
            "partner_id": application.partner_id,
            "channel": None if application.channel is None else application.channel.value,
            "branch_code": application.branch_code,
            "partner_score": application.partner_score,
            "green_label": application.green_label,
            "green_category": application.green_category,
            "reviewed_by": application.reviewed_by,
            "credit_line_id": application.credit_line_id,
            "created_at": application.created_at,
            "updated_at": application.updated_at,
            "version": application.version,
        }

    def add(self, application: Application) -> None:
        a = application.applicant
        # The applicant's identifiers never change after the application is made: they are
        # sealed once here, and an update leaves their columns alone.
        values = self._values(application) | {
            "application_id": application.application_id,
            "assessment_json": _assessment_to_json(application.assessment),
            "id_number_enc": self._cipher.encrypt(ID_NUMBER, a.id_number),
            "id_number_index": self._cipher.blind_index(ID_NUMBER, a.id_number),
            "phone_enc": self._cipher.encrypt(PHONE, a.phone),
            "phone_index": self._cipher.blind_index(PHONE, a.phone),
        }
        for column, value in zip(
            _OPTIONAL_PERSONAL, (a.device_id, a.ip_address, a.address), strict=True
        ):
            values |= self._sealed(column, value)
        # No savepoint: a duplicate abandons the whole unit of work (the caller raises), and
        # SAVEPOINT + RELEASE were two more statements on every application.
        try:
            fast.execute(self._c, _INSERT_APPLICATION, values)
        except IntegrityError as exc:
            # Either constraint names its column in the driver's message (SQLite and
            # PostgreSQL alike): a number drawn twice is not the enterprise applying twice.
            if "application_no" in str(exc.orig):
                raise ApplicationNumberTaken(
                    "the application number was drawn twice",
                    details={"application_no": application.application_no},
                ) from None
            raise DuplicateApplication(
                "the enterprise already has an open application", details={"uscc": a.uscc}
            ) from None

    def _from_row(self, row: Row[Any]) -> Application:
        applicant = Applicant(
            uscc=row.uscc,
            id_number=self._cipher.decrypt(ID_NUMBER, row.id_number_enc),
            phone=self._cipher.decrypt(PHONE, row.phone_enc),
            device_id=self._opened(DEVICE_ID, row.device_id_enc),
            ip_address=self._opened(IP_ADDRESS, row.ip_address_enc),
            address=self._opened(ADDRESS, row.address_enc),
        )
        return Application(
            application_id=row.application_id,
            application_no=row.application_no,
            applicant=applicant,
            requested_amount_fen=row.requested_amount_fen,
            status=ApplicationStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            applicant_user_id=row.applicant_user_id,
            account_manager_id=row.account_manager_id,
            partner_id=row.partner_id,
            assessment=_assessment_from_json(row.assessment_json),
            reviewed_by=row.reviewed_by,
            credit_line_id=row.credit_line_id,
            version=row.version,
            requested_term_months=row.requested_term_months,
            channel=None if row.channel is None else Channel(row.channel),
            branch_code=row.branch_code,
            partner_score=row.partner_score,
            green_label=row.green_label,
            green_category=row.green_category,
        )

    def get(self, application_id: str) -> Application | None:
        row = fast.execute(self._c, _GET_APPLICATION, {"b_id": application_id}).one_or_none()
        return None if row is None else self._from_row(row)

    def update(self, application: Application, *, previous: Application) -> None:
        if application.application_id != previous.application_id:
            raise ValueError("an application is updated over a state of the same application")
        if application.version <= previous.version:
            raise ValueError("an update moves the application's version forward")
        # Only the columns that differ: SQLite rewrites the entries of every index with a
        # column in the SET list, changed or not, and thirteen of the table's indexes have
        # one; a status change wrote each of their pages to the WAL again. The version check
        # makes ``previous`` what the row holds, so an unwritten column keeps its value.
        before = self._values(previous)
        changed = {
            name: value
            for name, value in self._values(application).items()
            if value != before[name]
        }
        # The assessment is encoded only when the new state carries another one than the
        # state it was made from (most transitions pass it on unchanged).
        if application.assessment is not previous.assessment:
            encoded = _assessment_to_json(application.assessment)
            if encoded != _assessment_to_json(previous.assessment):
                changed["assessment_json"] = encoded
        result = fast.execute(
            self._c,
            _UPDATE_APPLICATION,
            {**changed, "b_id": application.application_id, "b_version": previous.version},
        )
        if result.rowcount != 1:
            raise Conflict(
                "the application was changed by another request; reload and retry",
                details={"application_id": application.application_id},
            )

    def find_open_for_enterprise(self, uscc: str) -> Application | None:
        row = fast.execute(self._c, _OPEN_FOR_ENTERPRISE, {"b_uscc": uscc}).one_or_none()
        return None if row is None else self._from_row(row)

    def owns_credit_line(
        self, line_id: str, *, applicant_user_id: str | None, partner_id: str | None
    ) -> bool:
        # Filtered by the owner first: applicant_user_id and partner_id are indexed.
        if applicant_user_id is not None:
            statement, owner = _LINE_OF_APPLICANT, applicant_user_id
        elif partner_id is not None:
            statement, owner = _LINE_OF_PARTNER, partner_id
        else:
            return False
        row = self._c.execute(statement, {"b_owner": owner, "b_line": line_id}).first()
        return row is not None

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
        if up_to is not None and up_to < 1:
            raise ValueError(f"up_to must be at least 1, got {up_to}")
        phone_key = self._cipher.blind_index(PHONE, phone)
        params: dict[str, Any] = {
            "b_cap": _UNCAPPED if up_to is None else up_to,
            "b_since": since,
            "b_phone": phone_key,
            "b_person": self._cipher.blind_index(ID_NUMBER, id_number),
            "b_uscc": uscc,
        }
        for name, value in velocity.items():
            if name != "phone":
                params[f"b_{name}"] = self._cipher.blind_index(name, value)
        row = fast.execute(self._c, _screening_statement(frozenset(velocity)), params).one()
        return ScreeningCounts(
            applications_by={name: int(getattr(row, f"v_{name}")) for name in velocity},
            enterprises_sharing_phone=int(row.s_phone),
            enterprises_sharing_id_number=int(row.s_id_number),
            lists=None
            if uscc is None
            else frozenset(name for name in _SCREENED_LISTS if getattr(row, f"l_{name}")),
        )

    def identifier_ties(
        self,
        *,
        identifiers: Mapping[TieField, str],
        since: datetime,
        uscc: str,
        limit: int = 200,
    ) -> list[RecentTie]:
        if not identifiers:
            return []
        params: dict[str, Any] = {
            "b_since": since,
            "b_uscc": uscc,
            "b_limit": limit,
            "b_person": self._cipher.blind_index(ID_NUMBER, identifiers.get("id_number", "")),
        }
        for name, value in identifiers.items():
            params[f"b_{name}"] = self._cipher.blind_index(name, value)
        rows = fast.execute(self._c, _ties_statement(frozenset(identifiers)), params).all()
        return [
            RecentTie(
                kind=_TIE_KINDS[row.field],
                uscc=row.uscc,
                same_person=bool(row.same_person),
                created_on=_bank_date(row.created_at),
            )
            for row in rows
        ]

    def earlier_of_enterprise(
        self, uscc: str, *, before: datetime, limit: int = 100
    ) -> list[Application]:
        rows = fast.execute(
            self._c, _EARLIER_OF_ENTERPRISE, {"b_uscc": uscc, "b_before": before, "b_limit": limit}
        ).all()
        return [self._from_row(r) for r in reversed(rows)]

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
        table = t.applications
        query = select(table).order_by(table.c.created_at.desc(), table.c.application_id)
        if status is not None:
            query = query.where(table.c.status == status.value)
        if partner_id is not None:
            query = query.where(table.c.partner_id == partner_id)
        if applicant_user_id is not None:
            query = query.where(table.c.applicant_user_id == applicant_user_id)
        if channel is not None:
            query = query.where(table.c.channel == channel.value)
        if branch_code is not None:
            query = query.where(table.c.branch_code == branch_code)
        if where is not None:
            query = _filtered(query, where)
        rows = self._c.execute(query.limit(limit).offset(offset)).all()
        return [self._from_row(r) for r in rows]

    def count(self, *, status: ApplicationStatus, partner_id: str | None = None) -> int:
        table = t.applications
        query = select(func.count()).select_from(table).where(table.c.status == status.value)
        if partner_id is not None:
            query = query.where(table.c.partner_id == partner_id)
        return int(self._c.execute(query).scalar_one())


def _filtered(query: Select[Any], where: ApplicationFilter) -> Select[Any]:
    """A staff queue's conditions: status, creation time and application no. are indexed."""
    table = t.applications
    if where.statuses:
        query = query.where(table.c.status.in_(sorted(s.value for s in where.statuses)))
    if where.created_from is not None:
        query = query.where(table.c.created_at >= where.created_from)
    if where.created_before is not None:
        query = query.where(table.c.created_at < where.created_before)
    if where.min_amount_fen is not None:
        query = query.where(table.c.requested_amount_fen >= where.min_amount_fen)
    if where.max_amount_fen is not None:
        query = query.where(table.c.requested_amount_fen <= where.max_amount_fen)
    if where.application_no is not None:
        query = query.where(table.c.application_no == where.application_no)
    return query


class SqlConsentRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, consent: Consent) -> None:
        fast.execute(
            self._c,
            _INSERT_CONSENT,
            {
                "consent_id": consent.consent_id,
                "application_id": consent.application_id,
                "scopes": ",".join(sorted(s.value for s in consent.scopes)),
                "purpose": consent.purpose,
                "granted_by": consent.granted_by,
                "granted_at": consent.granted_at,
                "expires_at": consent.expires_at,
                "revoked_at": consent.revoked_at,
            },
        )

    def for_application(self, application_id: str) -> list[Consent]:
        rows = fast.execute(self._c, _CONSENTS_OF, {"b_id": application_id}).all()
        return [
            Consent(
                consent_id=r.consent_id,
                application_id=r.application_id,
                scopes=frozenset(DataScope(s) for s in r.scopes.split(",")),
                purpose=r.purpose,
                granted_by=r.granted_by,
                granted_at=r.granted_at,
                expires_at=r.expires_at,
                revoked_at=r.revoked_at,
            )
            for r in rows
        ]

    def update(self, consent: Consent) -> None:
        self._c.execute(
            t.consents.update()
            .where(t.consents.c.consent_id == consent.consent_id)
            .values(revoked_at=consent.revoked_at)
        )


class SqlOfferRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, offer: Offer) -> None:
        fast.execute(
            self._c,
            _INSERT_OFFER,
            {
                "offer_id": offer.offer_id,
                "application_id": offer.application_id,
                "limit_fen": offer.limit_fen,
                "annual_rate": offer.annual_rate,
                "term_months": offer.term_months,
                "grade": offer.grade,
                "made_at": offer.made_at,
                "expires_at": offer.expires_at,
            },
        )

    def for_application(self, application_id: str) -> Offer | None:
        r = fast.execute(self._c, _OFFER_OF, {"b_id": application_id}).one_or_none()
        if r is None:
            return None
        return Offer(
            offer_id=r.offer_id,
            application_id=r.application_id,
            limit_fen=r.limit_fen,
            annual_rate=Decimal(r.annual_rate).normalize(),
            term_months=r.term_months,
            grade=r.grade,
            made_at=r.made_at,
            expires_at=r.expires_at,
        )


class SqlContractRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, contract: Contract) -> None:
        self._c.execute(
            t.contracts.insert(),
            {
                "contract_no": contract.contract_no,
                "application_id": contract.application_id,
                "text": contract.text,
                "sha256": contract.sha256,
                "signature_hex": contract.signature_hex,
                "signing_key_id": contract.signing_key_id,
                "signed_at": contract.signed_at,
                "accepted_by": contract.accepted_by,
                "accepted_at": contract.accepted_at,
            },
        )

    def for_application(self, application_id: str) -> Contract | None:
        r = fast.execute(self._c, _CONTRACT_OF, {"b_id": application_id}).one_or_none()
        if r is None:
            return None
        return Contract(
            contract_no=r.contract_no,
            application_id=r.application_id,
            text=r.text,
            sha256=r.sha256,
            signature_hex=r.signature_hex,
            signing_key_id=r.signing_key_id,
            signed_at=r.signed_at,
            accepted_by=r.accepted_by,
            accepted_at=r.accepted_at,
        )


class SqlFraudListRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher, clock: Clock) -> None:
        self._c = connection
        self._cipher = cipher
        self._clock = clock

    def add(
        self, list_name: FraudList, *, uscc: str | None, id_number: str | None, note: str
    ) -> None:
        self._c.execute(
            t.fraud_list_entries.insert(),
            {
                "entry_id": new_id("fle"),
                "list_name": list_name,
                "uscc": uscc,
                "id_number_index": None
                if id_number is None
                else self._cipher.blind_index(ID_NUMBER, id_number),
                "note": note[:200],
                "created_at": self._clock.now(),
            },
        )

    def lists_naming(self, *, uscc: str, id_number: str) -> frozenset[FraudList]:
        params = {"b_uscc": uscc, "b_person": self._cipher.blind_index(ID_NUMBER, id_number)}
        names = fast.execute(self._c, _LISTED, params).scalars()
        return frozenset(name for name in names if name in ("blacklist", "executed_person"))


class SqlIdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        r = fast.execute(self._c, _IDEMPOTENCY, {"b_scope": scope, "b_key": key}).one_or_none()
        if r is None:
            return None
        return IdempotencyRecord(r.scope, r.key, r.request_hash, r.resource_id, r.created_at)

    def add(self, record: IdempotencyRecord) -> None:
        try:
            with self._c.begin_nested():
                self._c.execute(
                    t.idempotency_keys.insert(),
                    {
                        "scope": record.scope,
                        "key": record.key,
                        "request_hash": record.request_hash,
                        "resource_id": record.resource_id,
                        "created_at": record.created_at,
                    },
                )
        except IntegrityError:
            raise IdempotencyConflict(
                "a request with this idempotency key is being processed; retry",
                details={"idempotency_key": record.key},
            ) from None
