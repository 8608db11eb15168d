"""Build the platform from settings: database, unit-of-work factory, clock."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from puhui.adapters.db.database import Database
from puhui.adapters.db.features import SqlFeatureStore
from puhui.adapters.db.migrate import MigrationStatus
from puhui.adapters.db.post_loan.signals import ServicingSignalSource
from puhui.adapters.db.post_loan.unit_of_work import MonitoringUnitOfWork
from puhui.adapters.db.prospects.outcomes import SqlApplicationOutcomes
from puhui.adapters.db.prospects.unit_of_work import ProspectsUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.adapters.db.strategies import StrategyUnitOfWork
from puhui.bootstrap.settings import Settings
from puhui.decision.concentration import shipped_concentration_text
from puhui.decision.strategy import shipped_strategy_text
from puhui.decision.triggers import shipped_triggers_text
from puhui.domain.clock import Clock, SystemClock
from puhui.services import strategies
from puhui.services.monitoring.ports import SignalSource
from puhui.services.ports import UnitOfWork
from puhui.services.prospects.access import ProspectAccess


@dataclass
class Platform:
    """Everything an entry point needs, built once per process."""

    settings: Settings
    database: Database
    clock: Clock

    @property
    def audit_key(self) -> bytes:
        return self.settings.audit_key.get_secret_value().encode()

    def uow(self) -> UnitOfWork:
        return self.database.uow()

    def servicing_uow(self) -> ServicingUnitOfWork:
        """A unit of work over the servicing repositories (lines, receipts, ledger)."""
        return ServicingUnitOfWork(self.database.engine, clock=self.clock, audit_key=self.audit_key)

    def servicing_reader(self) -> ServicingUnitOfWork:
        """A read-only servicing unit of work: one snapshot, no write lock (statements)."""
        return ServicingUnitOfWork(
            self.database.engine, clock=self.clock, audit_key=self.audit_key, read_only=True
        )

    def strategy_uow(self) -> StrategyUnitOfWork:
        """A unit of work over stored strategy versions (lifecycle, active version)."""
        return StrategyUnitOfWork(self.database.engine, clock=self.clock, audit_key=self.audit_key)

    def strategy_reader(self) -> StrategyUnitOfWork:
        """A read-only unit of work over strategies: what decides now, without the write lock."""
        return StrategyUnitOfWork(
            self.database.engine, clock=self.clock, audit_key=self.audit_key, read_only=True
        )

    def monitoring_uow(self) -> MonitoringUnitOfWork:
        """A unit of work over post-loan monitoring (runs, alerts, tasks, supervisors)."""
        return MonitoringUnitOfWork(
            self.database.engine,
            clock=self.clock,
            audit_key=self.audit_key,
            cipher=self.settings.field_cipher(),
        )

    def prospects_uow(self) -> ProspectsUnitOfWork:
        """A unit of work over prospects (runs, the queue, the outbox, opt-outs)."""
        return ProspectsUnitOfWork(
            self.database.engine,
            clock=self.clock,
            audit_key=self.audit_key,
            cipher=self.settings.field_cipher(),
        )

    def prospect_access(self) -> ProspectAccess:
        """The prospect use cases' collaborators, applications included (fast-track)."""
        return ProspectAccess(
            units=self.prospects_uow,
            clock=self.clock,
            outcomes=SqlApplicationOutcomes(self.database.engine),
            readers=partial(
                ProspectsUnitOfWork,
                self.database.engine,
                clock=self.clock,
                audit_key=self.audit_key,
                cipher=self.settings.field_cipher(),
                read_only=True,
                one_statement=True,  # the fast-track check: one read
            ),
        )

    def signal_source(self) -> SignalSource:
        """Where monitoring runs take their signals: the configured market's data with the
        behavioural model and servicing's facts, or servicing alone without a market."""
        servicing = ServicingSignalSource(self.database.engine)
        market = self.settings.market_dir
        if market is None:
            return servicing
        from puhui.bootstrap.monitoring import MarketSignalSource  # noqa: PLC0415 - heavy
        from puhui.pipelines.prosperity.serving import IndustryIndexFile  # noqa: PLC0415
        from puhui.risk.behaviour import load_behaviour_model  # noqa: PLC0415 - heavy

        directory = self.settings.behaviour_model_dir
        model = None if directory is None else load_behaviour_model(directory)
        prosperity = IndustryIndexFile(
            self.settings.prosperity_folder,
            required=self.settings.prosperity_index_dir is not None,
        )
        return MarketSignalSource(servicing, market, model=model, prosperity=prosperity)

    def end_of_day_store(self) -> SqlEndOfDayStore:
        """Where the end of day reads receipts and writes accruals, steps and its checkpoints."""
        return SqlEndOfDayStore(self.database.engine, clock=self.clock, audit_key=self.audit_key)

    def feature_store(self) -> SqlFeatureStore:
        """Stored enterprise features, read by key when deciding."""
        return SqlFeatureStore(self.database.engine)

    def migrate(self) -> MigrationStatus:
        """Bring the schema up to date, then seed what a fresh database needs to decide.

        The packaged strategy document, post-loan trigger rules and concentration limits
        become the active version 1 of their names the first time (and never again: from then
        on only the four-eyes lifecycle changes versions).
        """
        state = self.database.upgrade(field_cipher=self.settings.field_cipher())
        text = shipped_strategy_text(self.settings.strategy)
        strategies.seed_shipped(self.strategy_uow, text=text, clock=self.clock)
        strategies.seed_shipped(
            self.strategy_uow,
            text=shipped_triggers_text(),
            clock=self.clock,
            kind=strategies.DocumentKind.TRIGGERS,
        )
        strategies.seed_shipped(
            self.strategy_uow,
            text=shipped_concentration_text(),
            clock=self.clock,
            kind=strategies.DocumentKind.CONCENTRATION,
        )
        return state

    def close(self) -> None:
        self.database.dispose()


def build_platform(settings: Settings | None = None, *, clock: Clock | None = None) -> Platform:
    settings = settings or Settings()
    clock = clock or SystemClock()
    database = Database(
        settings.database_url, clock=clock, audit_key=settings.audit_key.get_secret_value().encode()
    )
    return Platform(settings=settings, database=database, clock=clock)
