"""Strategy versions repository: queries only, the caller's transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from puhui.adapters.db.strategies.tables import strategy_challengers, strategy_versions
from puhui.services.strategies import (
    Challenger,
    ChallengerMode,
    DocumentKind,
    LiveStamp,
    StrategyStatus,
    StrategyVersion,
)

_COLUMNS = (
    "name",
    "version",
    "status",
    "document",
    "content_hash",
    "created_by",
    "created_at",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "activated_at",
    "retired_at",
    "kind",
    "returned_by",
    "returned_at",
    "return_reason",
)
_TIMES = (
    "created_at",
    "submitted_at",
    "approved_at",
    "activated_at",
    "retired_at",
    "returned_at",
)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives timestamps back naive; they were written as UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _from_row(row: Row[Any]) -> StrategyVersion:
    data = dict(row._mapping)
    for key in _TIMES:
        data[key] = _aware(data[key])
    data["status"] = StrategyStatus(data["status"])
    data["kind"] = DocumentKind(data["kind"])
    return StrategyVersion(**data)


def _to_values(item: StrategyVersion) -> dict[str, Any]:
    values = {column: getattr(item, column) for column in _COLUMNS}
    values["status"] = item.status.value
    values["kind"] = item.kind.value
    return values


class SqlStrategyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, name: str, version: int) -> StrategyVersion | None:
        row = self._connection.execute(
            select(strategy_versions).where(
                strategy_versions.c.name == name, strategy_versions.c.version == version
            )
        ).one_or_none()
        return None if row is None else _from_row(row)

    def add(self, version: StrategyVersion) -> None:
        self._connection.execute(insert(strategy_versions).values(_to_values(version)))

    def update(self, version: StrategyVersion) -> None:
        values = _to_values(version)
        self._connection.execute(
            update(strategy_versions)
            .where(
                strategy_versions.c.name == version.name,
                strategy_versions.c.version == version.version,
            )
            .values({k: v for k, v in values.items() if k not in ("name", "version")})
        )

    def list(self, name: str | None = None, kind: str | None = None) -> list[StrategyVersion]:
        query = select(strategy_versions).order_by(
            strategy_versions.c.name, strategy_versions.c.version
        )
        if name is not None:
            query = query.where(strategy_versions.c.name == name)
        if kind is not None:
            query = query.where(strategy_versions.c.kind == kind)
        return [_from_row(row) for row in self._connection.execute(query)]

    def active(self, name: str) -> StrategyVersion | None:
        row = self._connection.execute(
            select(strategy_versions).where(
                strategy_versions.c.name == name, strategy_versions.c.status == "active"
            )
        ).one_or_none()
        return None if row is None else _from_row(row)

    def live_stamp(self, name: str) -> LiveStamp:
        """Which versions decide now, without reading the documents (one cheap query each)."""
        active = self._connection.execute(
            select(strategy_versions.c.version, strategy_versions.c.content_hash).where(
                strategy_versions.c.name == name, strategy_versions.c.status == "active"
            )
        ).one_or_none()
        challenger = self.challenger(name)
        return LiveStamp(
            active_version=None if active is None else active.version,
            active_hash=None if active is None else active.content_hash,
            challenger=None if challenger is None else challenger.setting,
        )

    def challenger(self, name: str) -> Challenger | None:
        row = self._connection.execute(
            select(strategy_challengers).where(strategy_challengers.c.name == name)
        ).one_or_none()
        if row is None:
            return None
        return Challenger(
            name=row.name,
            version=row.version,
            share_bp=row.share_bp,
            mode=ChallengerMode(row.mode),
            started_by=row.started_by,
            started_at=_aware(row.started_at) or row.started_at,
        )

    def set_challenger(self, challenger: Challenger) -> None:
        self.clear_challenger(challenger.name)
        self._connection.execute(
            insert(strategy_challengers).values(
                name=challenger.name,
                version=challenger.version,
                share_bp=challenger.share_bp,
                mode=challenger.mode.value,
                started_by=challenger.started_by,
                started_at=challenger.started_at,
            )
        )

    def clear_challenger(self, name: str) -> None:
        self._connection.execute(
            delete(strategy_challengers).where(strategy_challengers.c.name == name)
        )
