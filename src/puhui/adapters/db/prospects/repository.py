"""Prospects, runs, history, territories, outbox and opt-outs on SQL: the caller commits.

The contact phone, the outbox's recipient and the notes are sealed with the field cipher
(the column name bound in); phones carry a blind index so opt-outs match without decrypting.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from puhui.adapters.db import fast
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.outbox import PHONE_INDEX, SqlOutbox, notification_outbox
from puhui.adapters.db.prospects.tables import (
    marketing_opt_outs,
    prospect_events,
    prospect_runs,
    prospect_territories,
    prospects,
)
from puhui.adapters.db.security.tables import users
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict
from puhui.domain.ids import new_id
from puhui.domain.prospects import ProspectRow, ProspectStatus
from puhui.services.notifications import MessageStatus, OutboxMessage
from puhui.services.prospects.ports import (
    ClusterCount,
    Conversion,
    OfferState,
    ProspectEvent,
    ProspectQuery,
    ProspectRecord,
    RunMeta,
    RunRecord,
)

PHONE = "prospects.contact_phone"
NOTES = "prospects.notes"
WORKING = ("new", "contacted", "interested")
_P = prospects.c
_BY_APPLICATION = select(prospects).where(_P.application_id == bindparam("b_app"))


@functools.cache
def _of_enterprise(months: int) -> Select[Any]:
    """An enterprise's prospects in ``months`` given months: one bind per month (an
    expanding ``IN`` would be compiled again on every call; every submission asks)."""
    return select(prospects).where(
        _P.month.in_([bindparam(f"b_m{k}") for k in range(months)]),
        _P.uscc == bindparam("b_uscc"),
    )


_ROW_FIELDS = (
    "need_probability",
    "need_amount_fen",
    "need_month",
    "need_duration_months",
    "limit_fen",
    "annual_rate",
    "valid_until",
    "grade",
    "priority",
    "region_code",
    "industry_group",
    "park",
    "is_customer",
)


def _meta_to_row(meta: RunMeta) -> dict[str, Any]:
    customers = (
        None
        if meta.customers is None
        else json.dumps(
            # Outside a park is None: ordered before every park name.
            sorted(
                ([r, i, p, n] for (r, i, p), n in meta.customers.items()),
                key=lambda cell: (cell[0], cell[1], cell[2] is not None, cell[2] or ""),
            ),
            ensure_ascii=False,
        )
    )
    return {
        "strategy_version": meta.strategy_version,
        "model_version": meta.model_version,
        "engine": meta.engine,
        "sources": ",".join(sorted(meta.sources)),
        "customers_json": customers,
    }


def _run(row: Row[Any]) -> RunRecord:
    customers = None
    if row.customers_json is not None:
        customers = {(r, i, p): int(n) for r, i, p, n in json.loads(row.customers_json)}
    return RunRecord(
        run_id=row.run_id,
        month=row.month,
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        rows_loaded=row.rows_loaded,
        rows_new=row.rows_new,
        rows_kept=row.rows_kept,
        rows_expired=row.rows_expired,
        meta=RunMeta(
            sources=frozenset(s for s in row.sources.split(",") if s),
            strategy_version=row.strategy_version,
            model_version=row.model_version,
            engine=row.engine,
            customers=customers,
        ),
    )


class SqlProspectRepository:
    """``services.prospects.ports.ProspectRepository`` on the unit of work's connection."""

    def __init__(self, connection: Connection, clock: Clock, cipher: FieldCipher) -> None:
        self._connection = connection
        self._clock = clock
        self._cipher = cipher
        self._outbox = SqlOutbox(connection, cipher)

    # -- runs --------------------------------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        self._connection.execute(
            insert(prospect_runs).values(
                run_id=run.run_id,
                month=run.month,
                loaded_at=run.loaded_at,
                loaded_by=run.loaded_by,
                rows_loaded=run.rows_loaded,
                rows_new=run.rows_new,
                rows_kept=run.rows_kept,
                rows_expired=run.rows_expired,
                **_meta_to_row(run.meta),
            )
        )

    def latest_run(self, month: dt.date) -> RunRecord | None:
        row = self._connection.execute(
            select(prospect_runs)
            .where(prospect_runs.c.month == month)
            .order_by(prospect_runs.c.loaded_at.desc(), prospect_runs.c.run_id.desc())
            .limit(1)
        ).first()
        return None if row is None else _run(row)

    def run(self, run_id: str) -> RunRecord | None:
        row = self._connection.execute(
            select(prospect_runs).where(prospect_runs.c.run_id == run_id)
        ).first()
        return None if row is None else _run(row)

    def latest_month(self) -> dt.date | None:
        value: dt.date | None = self._connection.execute(
            select(func.max(prospect_runs.c.month))
        ).scalar_one()
        return value

    # -- prospects ---------------------------------------------------------------------------

    def _sealed(self, column: str, value: str | None) -> str | None:
        return None if not value else self._cipher.encrypt(column, value)

    def _values(self, r: ProspectRecord) -> dict[str, Any]:
        row = r.row
        return {
            "prospect_id": r.prospect_id,
            "month": row.month,
            "uscc": row.uscc,
            "run_id": r.run_id,
            **{name: getattr(row, name) for name in _ROW_FIELDS},
            "reasons": ",".join(row.reasons),
            "status": r.status.value,
            "assigned_to": r.assigned_to,
            "notes_enc": self._sealed(NOTES, r.notes),
            "contact_phone_enc": self._sealed(PHONE, r.contact_phone),
            "contact_phone_index": None
            if r.contact_phone is None
            else self._cipher.blind_index(PHONE_INDEX, r.contact_phone),
            "offer_status": None if r.offer_status is None else r.offer_status.value,
            "offered_at": r.offered_at,
            "application_id": r.application_id,
            "applied_at": r.applied_at,
            "conversion": None if r.conversion is None else r.conversion.value,
            "conversion_limit_fen": r.conversion_limit_fen,
            "converted_at": r.converted_at,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "version": r.version,
        }

    def _record(self, row: Row[Any]) -> ProspectRecord:
        return ProspectRecord(
            prospect_id=row.prospect_id,
            row=ProspectRow(
                uscc=row.uscc,
                month=row.month,
                **{name: getattr(row, name) for name in _ROW_FIELDS if name != "annual_rate"},
                annual_rate=Decimal(row.annual_rate).normalize(),
                reasons=tuple(r for r in row.reasons.split(",") if r),
            ),
            run_id=row.run_id,
            status=ProspectStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            assigned_to=row.assigned_to,
            notes="" if row.notes_enc is None else self._cipher.decrypt(NOTES, row.notes_enc),
            contact_phone=None
            if row.contact_phone_enc is None
            else self._cipher.decrypt(PHONE, row.contact_phone_enc),
            offer_status=None if row.offer_status is None else OfferState(row.offer_status),
            offered_at=row.offered_at,
            application_id=row.application_id,
            applied_at=row.applied_at,
            conversion=None if row.conversion is None else Conversion(row.conversion),
            conversion_limit_fen=row.conversion_limit_fen,
            converted_at=row.converted_at,
            version=row.version,
        )

    def listed(self, month: dt.date) -> dict[str, ProspectRecord]:
        query = select(prospects).where(_P.month == month)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        return {row.uscc: self._record(row) for row in self._connection.execute(query)}

    def add_all(self, records: Sequence[ProspectRecord]) -> None:
        if records:
            self._connection.execute(insert(prospects), [self._values(r) for r in records])

    def update_all(self, records: Sequence[ProspectRecord]) -> None:
        if not records:
            return
        values = [self._values(r) for r in records]
        for value in values:
            value["b_id"] = value.pop("prospect_id")
        columns: dict[str, Any] = {name: bindparam(name) for name in values[0] if name != "b_id"}
        self._connection.execute(
            update(prospects).where(_P.prospect_id == bindparam("b_id")).values(columns),
            values,
        )

    def save(self, record: ProspectRecord, *, expected_version: int) -> None:
        values = self._values(record)
        values.pop("prospect_id")
        result = self._connection.execute(
            update(prospects)
            .where(_P.prospect_id == record.prospect_id, _P.version == expected_version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise Conflict(
                "the prospect changed meanwhile: read it again",
                details={"prospect_id": record.prospect_id},
            )

    def get(self, prospect_id: str) -> ProspectRecord | None:
        row = self._connection.execute(
            select(prospects).where(_P.prospect_id == prospect_id)
        ).first()
        return None if row is None else self._record(row)

    def by_application(self, application_id: str) -> ProspectRecord | None:
        row = fast.execute(
            self._connection, _BY_APPLICATION, {"b_app": application_id}
        ).one_or_none()
        return None if row is None else self._record(row)

    def of_enterprise(self, uscc: str, months: Sequence[dt.date]) -> list[ProspectRecord]:
        if not months:
            return []
        params: dict[str, Any] = {"b_uscc": uscc}
        params.update((f"b_m{k}", month) for k, month in enumerate(months))
        rows = fast.execute(self._connection, _of_enterprise(len(months)), params).all()
        return [self._record(row) for row in rows]

    def find(self, query: ProspectQuery) -> list[ProspectRecord]:
        statement = select(prospects)
        if query.month is not None:
            statement = statement.where(_P.month == query.month)
        if query.status is not None:
            statement = statement.where(_P.status == query.status.value)
        if query.region_code:
            statement = statement.where(_P.region_code.startswith(query.region_code))
        if query.assigned_to is not None:
            statement = statement.where(_P.assigned_to == query.assigned_to)
        statement = (
            statement.order_by(_P.month.desc(), _P.priority, _P.prospect_id)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [self._record(row) for row in self._connection.execute(statement)]

    def unconverted(self, limit: int) -> list[ProspectRecord]:
        rows = self._connection.execute(
            select(prospects)
            .where(_P.application_id.is_not(None), _P.conversion.is_(None))
            .order_by(_P.applied_at, _P.prospect_id)
            .limit(limit)
        )
        return [self._record(row) for row in rows]

    # -- history -----------------------------------------------------------------------------

    def add_events(self, events: Sequence[ProspectEvent]) -> None:
        if not events:
            return
        # One id drawn per batch, numbered within it: a load writes two events per prospect
        # and a fresh ULID each costs more than the row's insert.
        batch = new_id("pev")
        self._connection.execute(
            insert(prospect_events),
            [
                {
                    "event_id": f"{batch}{n:07d}",
                    "prospect_id": e.prospect_id,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "from_status": None if e.from_status is None else e.from_status.value,
                    "to_status": None if e.to_status is None else e.to_status.value,
                    "detail": e.detail,
                }
                for n, e in enumerate(events)
            ],
        )

    def events(self, prospect_id: str) -> list[ProspectEvent]:
        rows = self._connection.execute(
            select(prospect_events)
            .where(prospect_events.c.prospect_id == prospect_id)
            .order_by(prospect_events.c.at, prospect_events.c.event_id)
        )
        return [
            ProspectEvent(
                prospect_id=row.prospect_id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                from_status=None if row.from_status is None else ProspectStatus(row.from_status),
                to_status=None if row.to_status is None else ProspectStatus(row.to_status),
                detail=row.detail,
            )
            for row in rows
        ]

    # -- territories -------------------------------------------------------------------------

    def territories(self) -> dict[str, list[str]]:
        rows = self._connection.execute(
            select(prospect_territories.c.region_code, prospect_territories.c.user_id)
            .join(users, users.c.user_id == prospect_territories.c.user_id)
            .where(users.c.disabled.is_(False), users.c.role == "account_manager")
            .order_by(prospect_territories.c.region_code, prospect_territories.c.user_id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.region_code, []).append(row.user_id)
        return found

    def set_territory(self, region_code: str, user_ids: Sequence[str], *, actor: str) -> None:
        self._connection.execute(
            delete(prospect_territories).where(prospect_territories.c.region_code == region_code)
        )
        if user_ids:
            now = self._clock.now()
            self._connection.execute(
                insert(prospect_territories),
                [
                    {"region_code": region_code, "user_id": u, "set_by": actor, "set_at": now}
                    for u in user_ids
                ],
            )

    def account_managers(self, user_ids: Sequence[str]) -> set[str]:
        if not user_ids:
            return set()
        rows = self._connection.execute(
            select(users.c.user_id).where(
                users.c.user_id.in_(list(user_ids)),
                users.c.disabled.is_(False),
                users.c.role == "account_manager",
            )
        )
        return {row.user_id for row in rows}

    def open_counts(self, month: dt.date) -> dict[str, int]:
        rows = self._connection.execute(
            select(_P.assigned_to, func.count())
            .where(_P.month == month, _P.assigned_to.is_not(None), _P.status.in_(WORKING))
            .group_by(_P.assigned_to)
        )
        return {row[0]: int(row[1]) for row in rows}

    # -- opt-outs ----------------------------------------------------------------------------

    def opted_out(self, *, uscc: str, phone: str | None) -> bool:
        condition = marketing_opt_outs.c.uscc == uscc
        if phone is not None:
            index = self._cipher.blind_index(PHONE_INDEX, phone)
            condition = or_(condition, marketing_opt_outs.c.phone_index == index)
        found = self._connection.execute(
            select(marketing_opt_outs.c.opt_out_id).where(condition).limit(1)
        ).first()
        return found is not None

    def add_opt_out(self, *, uscc: str | None, phone: str | None, reason: str, actor: str) -> str:
        opt_out_id = new_id("opt")
        self._connection.execute(
            insert(marketing_opt_outs).values(
                opt_out_id=opt_out_id,
                uscc=uscc,
                phone_index=None if phone is None else self._cipher.blind_index(PHONE_INDEX, phone),
                reason=reason[:200],
                recorded_by=actor,
                recorded_at=self._clock.now(),
            )
        )
        return opt_out_id

    # -- outbox ------------------------------------------------------------------------------

    def add_message(self, message: OutboxMessage) -> None:
        self._outbox.add_message(message)

    def pending_messages(self, limit: int) -> list[OutboxMessage]:
        return self._outbox.pending_messages(limit)

    def messages(
        self, status: MessageStatus | None, limit: int, offset: int = 0
    ) -> list[OutboxMessage]:
        return self._outbox.newest(status, limit, offset)

    def message_counts(self) -> dict[MessageStatus, int]:
        return self._outbox.counts()

    def get_message(self, message_id: str) -> OutboxMessage | None:
        return self._outbox.get(message_id)

    def messages_about(self, subject_id: str) -> list[OutboxMessage]:
        return self._outbox.of_subject(subject_id)

    def pending_for(self, *, uscc: str | None, phone: str | None) -> list[OutboxMessage]:
        wanted: list[ColumnElement[bool]] = []
        if uscc is not None:
            wanted.append(
                notification_outbox.c.subject_id.in_(
                    select(_P.prospect_id).where(_P.uscc == uscc).scalar_subquery()
                )
            )
        if phone is not None:
            index = self._cipher.blind_index(PHONE_INDEX, phone)
            wanted.append(notification_outbox.c.recipient_index == index)
        if not wanted:
            return []
        rows = self._connection.execute(
            select(notification_outbox)
            .where(notification_outbox.c.status == MessageStatus.PENDING.value, or_(*wanted))
            .order_by(notification_outbox.c.created_at, notification_outbox.c.message_id)
        )
        return [self._outbox.message(row) for row in rows]

    def save_message(self, message: OutboxMessage) -> None:
        self._outbox.save_message(message)

    # -- the map -----------------------------------------------------------------------------

    def clusters(self, month: dt.date) -> list[ClusterCount]:
        live = and_(_P.status != ProspectStatus.EXPIRED.value)
        prospect = and_(live, _P.is_customer.is_(False))
        rows = self._connection.execute(
            select(
                _P.region_code,
                _P.industry_group,
                _P.park,
                func.sum(case((prospect, 1), else_=0)),
                func.sum(case((prospect, _P.need_amount_fen), else_=0)),
                func.sum(case((and_(live, _P.is_customer.is_(True)), 1), else_=0)),
            )
            .where(_P.month == month)
            .group_by(_P.region_code, _P.industry_group, _P.park)
        )
        return [
            ClusterCount(
                region_code=row[0],
                industry_group=row[1],
                park=row[2],
                prospects=int(row[3] or 0),
                need_fen=int(row[4] or 0),
                listed_customers=int(row[5] or 0),
            )
            for row in rows
        ]
