"""The unit of work of the strategy lifecycle: audit trail + strategy versions, one transaction."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.strategies.repository import SqlStrategyRepository
from puhui.adapters.db.unit_of_work import SqlUnitOfWork


class StrategyUnitOfWork(SqlUnitOfWork):
    _strategies: SqlStrategyRepository | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._strategies = SqlStrategyRepository(connection)

    @property
    def strategies(self) -> SqlStrategyRepository:
        if self._strategies is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._strategies
