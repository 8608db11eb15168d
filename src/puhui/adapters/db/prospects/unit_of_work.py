"""The prospects unit of work: audit trail + prospect repository, one transaction."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.prospects.repository import SqlProspectRepository
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock


class ProspectsUnitOfWork(SqlUnitOfWork):
    _prospects: SqlProspectRepository | None = None

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        audit_key: bytes,
        cipher: FieldCipher,
        read_only: bool = False,
        one_statement: bool = False,
    ) -> None:
        super().__init__(
            engine,
            clock=clock,
            audit_key=audit_key,
            read_only=read_only,
            one_statement=one_statement,
        )
        self._cipher = cipher

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._prospects = SqlProspectRepository(connection, self.clock, self._cipher)

    @property
    def prospects(self) -> SqlProspectRepository:
        if self._prospects is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._prospects
