"""The collections unit of work: servicing's repositories plus collections', one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from puhui.adapters.db.collections.concentration import SqlConcentrationRepository
from puhui.adapters.db.collections.repository import SqlCollectionsRepository
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import Clock


class CollectionsUnitOfWork(ServicingUnitOfWork):
    _collections: SqlCollectionsRepository | None = None
    _concentration: SqlConcentrationRepository | None = None

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        audit_key: bytes,
        cipher: FieldCipher | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, clock=clock, audit_key=audit_key, read_only=read_only)
        self._cipher = cipher

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._collections = SqlCollectionsRepository(connection, self._cipher)
        self._concentration = SqlConcentrationRepository(connection)

    @property
    def collections(self) -> SqlCollectionsRepository:
        if self._collections is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._collections

    @property
    def concentration(self) -> SqlConcentrationRepository:
        if self._concentration is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._concentration


def collections_units(
    engine: Engine, *, clock: Clock, audit_key: bytes, cipher: FieldCipher | None
) -> Callable[[], CollectionsUnitOfWork]:
    return lambda: CollectionsUnitOfWork(engine, clock=clock, audit_key=audit_key, cipher=cipher)
