"""Stored decisions on SQL: one row per application, the record as canonical JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast
from puhui.adapters.db.documents import document_from_text, document_text
from puhui.adapters.db.origination import tables as t
from puhui.domain.errors import Conflict
from puhui.domain.origination.decision_record import (
    DecisionRecord,
    record_from_document,
    record_to_document,
)

_INSERT = insert(t.decision_records)


class SqlDecisionRecordRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, record: DecisionRecord) -> None:
        evidence = record.evidence
        try:
            # Every decision writes one: a prebuilt statement (``fast``), not a new one.
            fast.execute(
                self._c,
                _INSERT,
                {
                    "application_id": record.application_id,
                    "decided_at": record.decided_at,
                    "as_of": evidence.as_of,
                    "strategy_name": evidence.strategy_name,
                    "strategy_version": evidence.strategy_version,
                    "model_name": evidence.model_name,
                    "model_version": evidence.model_version,
                    "arm": evidence.arm,
                    "outcome": record.outcome,
                    "feature_source": evidence.feature_source,
                    "record_json": document_text(record_to_document(record)),
                },
            )
        except IntegrityError as exc:
            raise Conflict(
                "this application's decision is stored already",
                details={"application_id": record.application_id},
            ) from exc

    def get(self, application_id: str) -> DecisionRecord | None:
        row = self._c.execute(
            select(t.decision_records.c.record_json).where(
                t.decision_records.c.application_id == application_id
            )
        ).one_or_none()
        return None if row is None else _from_row(row)

    def between(
        self, first_day: date, last_day: date, *, limit: int = 100_000
    ) -> list[DecisionRecord]:
        column = t.decision_records.c
        rows = self._c.execute(
            select(column.record_json)
            .where(column.as_of >= first_day, column.as_of <= last_day)
            .order_by(column.as_of, column.decided_at, column.application_id)
            .limit(limit)
        )
        return [_from_row(row) for row in rows]


def _from_row(row: Row[Any]) -> DecisionRecord:
    return record_from_document(document_from_text(row.record_json))
