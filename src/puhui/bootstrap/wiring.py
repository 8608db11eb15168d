"""Wire origination's ports: the real assessor, data source and line opener when configured."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from puhui.adapters.db.origination.encryption import FieldCipher, derive_key
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import servicing_units
from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap.container import Platform
from puhui.decision.strategy import load_shipped_strategy
from puhui.risk.artefact import MODEL_FILE, load_artefact
from puhui.risk.features import FEATURE_LABELS, MarketTables
from puhui.risk.scorer import scorer_for
from puhui.services.assessment import StrategyAssessor
from puhui.services.line_opening import (
    ONLINE_CREDIT_PRODUCT,
    ServicingLineOpener,
)
from puhui.services.origination.placeholders import (
    NoDataSource,
    ReferEveryApplication,
)
from puhui.services.origination.ports import Assessor, CreditLineOpener, DataSource
from puhui.services.origination.use_cases import Origination
from puhui.services.security.signing import ContractSigner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OriginationPorts:
    assessor: Assessor
    data_source: DataSource
    line_opener: CreditLineOpener
    wired: tuple[str, ...]
    """Which ports are the real ones (for logs and the demo's banner)."""


def model_version(model_dir: Path) -> str:
    """A stable name of a model artefact: its kind and the hash of its document."""
    digest = hashlib.sha256((model_dir / MODEL_FILE).read_bytes()).hexdigest()[:12]
    return f"{load_artefact(model_dir).metadata.kind.value}-{digest}"


def build_assessor(platform: Platform, model_dir: Path) -> StrategyAssessor:
    artefact = load_artefact(model_dir)
    return StrategyAssessor(
        strategy=load_shipped_strategy(platform.settings.strategy),
        scorer=scorer_for(artefact.model, FEATURE_LABELS),
        model_version=model_version(model_dir),
        licence_type=platform.settings.licence_type,
    )


def build_line_opener(platform: Platform) -> ServicingLineOpener:
    units = servicing_units(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
    )
    return ServicingLineOpener(units, ONLINE_CREDIT_PRODUCT)


def origination_ports(
    platform: Platform,
    *,
    data_source: DataSource | None = None,
    assessor: Assessor | None = None,
) -> OriginationPorts:
    """The real ports where the settings allow, placeholders (said so in the log) elsewhere.

    Servicing lives in the same database, so the line opener is always real; the data source
    needs ``market_dir`` and the assessor ``model_dir``. Callers that already hold a loaded
    data source or assessor (the demo) pass them in to avoid loading twice.
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
    if assessor is None and settings.model_dir is not None:
        assessor = build_assessor(platform, settings.model_dir)
    if assessor is None:
        logger.warning("no model configured (PUHUI_MODEL_DIR): every application is referred")
        assessor = ReferEveryApplication()
    else:
        wired.append("assessor")
    line_opener = build_line_opener(platform)
    wired.append("line_opener")
    logger.info("origination ports wired: %s", ", ".join(wired))
    return OriginationPorts(assessor, data_source, line_opener, tuple(wired))


def build_origination(platform: Platform, ports: OriginationPorts) -> Origination:
    """Origination's use cases over the platform's database, as the API builds them."""
    settings = platform.settings
    data_key = settings.data_key.get_secret_value().encode()
    units = OriginationUnits(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=FieldCipher(data_key),
    )
    return Origination(
        uow_factory=units.writer,
        reader_factory=units.reader,
        clock=platform.clock,
        assessor=ports.assessor,
        data_source=ports.data_source,
        line_opener=ports.line_opener,
        signer=ContractSigner(
            hashlib.sha256(settings.signing_key.get_secret_value().encode()).digest()
        ),
        request_hash_key=derive_key(data_key, "request-hash"),
    )


def end_of_day_store(platform: Platform) -> SqlEndOfDayStore:
    return SqlEndOfDayStore(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
    )


def feature_prefetch(
    assessor: Assessor, market_dir: Path
) -> Callable[[list[str], date], object] | None:
    """Batch feature warm-up for the real assessor (the same feature code, one query a month)."""
    if not isinstance(assessor, StrategyAssessor):
        return None
    tables = MarketTables.from_dir(market_dir)
    return lambda usccs, month: assessor.prefetch(tables, usccs, month)
