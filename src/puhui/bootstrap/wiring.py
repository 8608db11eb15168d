"""Wire origination's ports: the real assessor, data source and line opener when configured."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from puhui.adapters.db.monitoring import SqlDecisionHistory
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.strategies.live import SqlLiveStampReader
from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap.container import Platform
from puhui.bootstrap.guarantees import guarantee_service
from puhui.domain.lending.schedule import add_months
from puhui.graph.build import build
from puhui.graph.live import GraphSource
from puhui.pipelines.feature_store import BuildReport, build_month
from puhui.pipelines.green.serving import GreenScreenFile
from puhui.pipelines.prosperity.serving import IndustryIndexFile
from puhui.risk.features import MarketTables
from puhui.risk.need import NeedModel
from puhui.risk.registry import ModelRegistry, RegistryEntry
from puhui.services import strategies
from puhui.services.origination.assessment import INPUT_SCHEMA, StrategyAssessor
from puhui.services.origination.governance import LiveDecisioning
from puhui.services.origination.line_opening import (
    ONLINE_CREDIT_PRODUCT,
    ServicingLineOpener,
)
from puhui.services.origination.placeholders import NoDataSource
from puhui.services.origination.ports import Assessor, CreditLineOpener, DataSource, OfferBounds
from puhui.services.origination.pricing_bounds import StrategyOfferBounds
from puhui.services.origination.use_cases import Origination
from puhui.services.prospects.conversion import link_at_submission
from puhui.services.security.signing import ContractSigner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OriginationPorts:
    assessor: Assessor
    data_source: DataSource
    line_opener: CreditLineOpener
    wired: tuple[str, ...]
    """Which ports are the real ones (for logs and the demo's banner)."""
    offer_bounds: tuple[OfferBounds, ...] = ()
    """Bounds of manual offers beyond the line opener's product (the strategy's pricing)."""
    graph: GraphSource | None = None
    """The relationship graph checked online (None: ``graph_dir`` not set)."""


def model_registry(platform: Platform) -> ModelRegistry:
    return ModelRegistry(platform.settings.model_registry_dir)


def live_decisioning(platform: Platform) -> LiveDecisioning:
    """The governed setup: the active strategy version in the database, the registry's champion."""
    settings = platform.settings
    return LiveDecisioning(
        strategy_name=settings.strategy,
        model_name=settings.model_name,
        stamp=SqlLiveStampReader(platform.database.engine).read,
        load_version=lambda name, version: strategies.get_version(
            platform.strategy_reader, name, version
        ),
        models=model_registry(platform),
    )


def register_champion(
    platform: Platform,
    model_dir: Path,
    *,
    builder: str,
    approver: str,
    promoter: str,
    at: datetime,
) -> RegistryEntry:
    """Register a trained model, approve it (a second person) and make it the champion."""
    registry = model_registry(platform)
    name = platform.settings.model_name
    entry = registry.register(model_dir, name=name, builder=builder, at=at)
    registry.approve(entry.version, approver=approver, at=at)
    return registry.promote(entry.version, actor=promoter, at=at)


def month_publisher(
    platform: Platform, market_dir: Path, graph_dir: Path | None = None
) -> Callable[[date], BuildReport]:
    """What to run when the market publishes a month: build the feature store for it, and
    with ``graph_dir`` the graph snapshot of the month just published
    (``<graph_dir>/<YYYY-MM>/``), which the online check then picks up."""
    tables = MarketTables.from_dir(market_dir)
    store = platform.feature_store()
    key = platform.settings.graph_identifier_key()

    def publish(month: date) -> BuildReport:
        report = build_month(tables, month, store, computed_at=platform.clock.now())
        if graph_dir is not None:
            published = add_months(month, -1)
            build(market_dir, published, graph_dir / published.strftime("%Y-%m"), key=key)
        return report

    return publish


def graph_source(platform: Platform, graph_dir: Path | None = None) -> GraphSource | None:
    """The online graph over ``graph_dir`` (default: the settings'); None when none is set."""
    settings = platform.settings
    folder = graph_dir or settings.graph_dir
    if folder is None:
        logger.warning("no relationship graph configured (PUHUI_GRAPH_DIR): graph inputs missing")
        return None
    return GraphSource(
        folder, key=settings.graph_identifier_key(), max_age_days=settings.graph_max_age_days
    )


def prosperity_source(platform: Platform) -> IndustryIndexFile:
    """The prosperity indices the platform builds (``settings.prosperity_folder``), re-read
    when a new monthly build replaces them. An explicitly configured folder without an index
    stops the start-up with its reason (as the need model); the default folder may be empty
    (no build yet: the indices are missing until one is written)."""
    settings = platform.settings
    return IndustryIndexFile(
        settings.prosperity_folder, required=settings.prosperity_index_dir is not None
    )


def decision_history(platform: Platform) -> SqlDecisionHistory:
    """Stored decisions and their loans' outcomes, as model monitoring reads them."""
    return SqlDecisionHistory(platform.database.engine)


def strategy_input_schema() -> strategies.InputSchema:
    """The inputs this platform feeds a strategy (checked at activation)."""
    return INPUT_SCHEMA


def build_assessor(platform: Platform) -> StrategyAssessor:
    settings = platform.settings
    need_model = None
    if settings.need_model_dir is not None:
        # A folder that is missing or altered stops the start-up with its reason (not a
        # silently missing input on every application).
        need_model = NeedModel.load(settings.need_model_dir)
        logger.info("need_estimate_fen from need model %s", need_model.model_id)
    prosperity = prosperity_source(platform)
    green = None
    if settings.green_screen_dir is not None:
        # A folder without a screen stops the start-up with its reason, as the need model.
        green = GreenScreenFile(settings.green_screen_dir)
    return StrategyAssessor(
        live=live_decisioning(platform),
        licence_type=settings.licence_type,
        feature_store=platform.feature_store(),
        max_feature_age_days=settings.feature_max_age_days,
        need_model=need_model,
        guarantees=guarantee_service(platform),
        prosperity=prosperity,
        green=green,
    )


def build_line_opener(platform: Platform) -> ServicingLineOpener:
    return ServicingLineOpener(platform.servicing_uow, ONLINE_CREDIT_PRODUCT)


def origination_ports(
    platform: Platform,
    *,
    data_source: DataSource | None = None,
    assessor: Assessor | None = None,
    graph: GraphSource | None = None,
) -> OriginationPorts:
    """The real ports where the settings allow, placeholders (said so in the log) elsewhere.

    Servicing and governance live in the same database, so the line opener and the assessor
    are always real (the assessor refers every application until a strategy version is active
    and the registry names a champion model); the data source needs ``market_dir``. Callers
    that already hold a loaded data source or assessor (the demo) pass them in.
    """
    settings = platform.settings
    wired: list[str] = []
    if data_source is None and settings.market_dir is not None:
        data_source = MarketDataSource(settings.market_dir)
    if data_source is None:
        logger.warning("no market configured (PUHUI_MARKET_DIR): data pulls return nothing")
        data_source = NoDataSource()
    else:
        wired.append("data_source")
    if assessor is None:
        assessor = build_assessor(platform)
    wired.append("assessor")
    line_opener = build_line_opener(platform)
    wired.append("line_opener")
    if isinstance(assessor, StrategyAssessor):
        pricing = StrategyOfferBounds(assessor.live, assessor.licence_type)
    else:
        pricing = StrategyOfferBounds(live_decisioning(platform), settings.licence_type)
    if graph is None:
        graph = graph_source(platform)
    if graph is not None:
        wired.append("graph")
    logger.info("origination ports wired: %s", ", ".join(wired))
    return OriginationPorts(assessor, data_source, line_opener, tuple(wired), (pricing,), graph)


def origination_units(platform: Platform) -> OriginationUnits:
    return OriginationUnits(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=platform.settings.field_cipher(),
    )


def build_origination(platform: Platform, ports: OriginationPorts) -> Origination:
    """Origination's use cases over the platform's database, as the API builds them."""
    settings = platform.settings
    units = origination_units(platform)
    return Origination(
        uow_factory=units.writer,
        reader_factory=units.reader,
        clock=platform.clock,
        assessor=ports.assessor,
        data_source=ports.data_source,
        line_opener=ports.line_opener,
        offer_bounds=ports.offer_bounds,
        signer=ContractSigner(
            hashlib.sha256(settings.signing_key.get_secret_value().encode()).digest()
        ),
        request_hash_key=units.cipher.derive("request-hash"),
        decide_in_one_transaction=units.engine.dialect.name == "postgresql",
        graph=ports.graph,
        on_created=link_at_submission(platform.prospect_access()),
    )


def end_of_day_store(platform: Platform) -> SqlEndOfDayStore:
    return platform.end_of_day_store()
