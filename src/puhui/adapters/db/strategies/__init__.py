"""Strategy versions on SQL: table, repository and the unit of work that binds them."""

from puhui.adapters.db.strategies.repository import SqlStrategyRepository
from puhui.adapters.db.strategies.tables import strategy_versions
from puhui.adapters.db.strategies.unit_of_work import StrategyUnitOfWork

__all__ = ["SqlStrategyRepository", "StrategyUnitOfWork", "strategy_versions"]
