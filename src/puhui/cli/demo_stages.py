"""The stages of ``puhui demo``: database, market, models, post-loan, monitoring, charts.

Each stage logs what it does (the demo's log file), reports to the progress port and returns
what the summary shows; ``puhui.cli.demo`` runs them in order.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import puhui
from puhui.bootstrap import Platform, Settings
from puhui.cli.demo_report import Section, pct
from puhui.cli.progress import chunks_reporter
from puhui.domain.errors import Conflict
from puhui.domain.progress import Progress
from puhui.risk.kinds import ModelKind
from puhui.services.platform import summarise_platform

if TYPE_CHECKING:
    from puhui.adapters.sources.market import MarketDataSource
    from puhui.market.params import MarketParams
    from puhui.pipelines.post_loan import PostLoanCycle
    from puhui.pipelines.simulation import LendingSimulation
    from puhui.risk.monitoring import MonitoringResult

logger = logging.getLogger(__name__)


class DatabaseInUse(Conflict):
    """The demo would run over another simulation's days."""

    code = "database_in_use"


def generate_or_reuse_market(
    params: MarketParams, out: Path, progress: Progress
) -> tuple[float, str]:
    """Generate the market unless the folder already holds one with the same parameters."""
    from puhui.market import store  # noqa: PLC0415 - seconds of import time
    from puhui.market.generate import DEFAULT_CHUNK_SIZE, generate_market  # noqa: PLC0415

    started = time.perf_counter()
    manifest = out / store.MANIFEST
    if manifest.is_file():
        existing = json.loads(manifest.read_text(encoding="utf-8"))
        if existing.get("status") == "complete" and existing.get("parameters") == params.to_json():
            logger.info("market: reusing %s (same parameters)", out)
            return 0.0, f"reused {out} (same parameters)"
    label = f"market: {params.enterprises:,} enterprises x {params.months} months"
    logger.info("%s: generating into %s", label, out)
    # The generator's own chunks: one (in this process) up to 20,000 enterprises; smaller
    # chunks would give the bar more steps but cost worker start-ups and per-chunk work.
    progress.start(math.ceil(params.enterprises / DEFAULT_CHUNK_SIZE), label)
    generate_market(params, out, overwrite=True, workers=2, progress=chunks_reporter(progress))
    return time.perf_counter() - started, f"generated into {out}"


@contextmanager
def quiet_per_item_logs(settings: Settings) -> Iterator[None]:
    """Thousands of applications and 365 end-of-day runs: per-item INFO lines only in DEBUG."""
    noisy = [logging.getLogger(name) for name in ("puhui.services", "puhui.pipelines.eod")]
    before = [logger.level for logger in noisy]
    if settings.log_level != "DEBUG":
        for logger_ in noisy:
            logger_.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger_, level in zip(noisy, before, strict=True):
            logger_.setLevel(level)


def holdings_section(p: Platform) -> Section:
    section = Section(
        f"the platform holds ({p.database.display_url})", ("table", "rows"), numeric=frozenset({1})
    )
    for table, rows in summarise_platform(p.uow).table_counts.items():
        if rows:
            section.rows.append((table, f"{rows:,}"))
    return section


DEMO_BUILDER = "demo:modeller"
DEMO_VALIDATOR = "demo:validator"
DEMO_PROMOTER = "demo:risk-officer"


def prepare_database(p: Platform, *, reset: bool) -> str:
    """Migrate the configured database (a fresh one, or erased first); its revision."""
    if reset:
        logger.info("database: erasing %s (--reset)", p.database.display_url)
        p.database.reset()
    state = p.migrate()
    counts = summarise_platform(p.uow).table_counts
    used = {name: rows for name, rows in counts.items() if name in _LENDING_TABLES and rows}
    if used:
        detail = ", ".join(f"{name} {rows:,}" for name, rows in sorted(used.items()))
        raise DatabaseInUse(
            f"the database {p.database.display_url} already holds lending data ({detail}); "
            "point PUHUI_DATABASE_URL at a fresh database or pass --reset to erase it"
        )
    logger.info("Puhui %s — database %s", puhui.__version__, p.database.display_url)
    logger.info("schema at revision %s (up to date)", state.current)
    return str(state.current)


_LENDING_TABLES = frozenset({"origination_applications", "credit_lines", "eod_runs"})


def train_champion(
    platform_: Platform, market_dir: Path, first_day: date, kind: ModelKind, model_dir: Path
) -> tuple[str, list[tuple[str, str]]]:
    """Train on the market's history, then register, approve (a second person) and promote."""
    from puhui.bootstrap.wiring import register_champion  # noqa: PLC0415
    from puhui.pipelines.simulation import train_market_model  # noqa: PLC0415

    logger.info("model: training %s on the market's history before %s", kind.value, first_day)
    loans, bad, auc, measured = train_market_model(
        market_dir, first_day, kind, model_dir, trained_at=datetime.now(UTC)
    )
    trained = f"{kind.value} on {loans:,} legacy loans ({bad:,} bad), {measured} AUC {auc:.3f}"
    logger.info("model: %s", trained)
    entry = register_champion(
        platform_,
        model_dir,
        builder=DEMO_BUILDER,
        approver=DEMO_VALIDATOR,
        promoter=DEMO_PROMOTER,
        at=datetime.now(UTC),
    )
    governed = (
        f"registered {entry.version} in {platform_.settings.model_registry_dir}, "
        f"approved by {DEMO_VALIDATOR}, champion of {entry.name}"
    )
    logger.info("model: %s", governed)
    return entry.version, [("risk model:", trained), ("model registry:", governed)]


def post_loan_cycle_for(
    platform_: Platform,
    market_dir: Path,
    data_source: MarketDataSource,
    model_dir: Path,
    window: tuple[date, date],
) -> tuple[PostLoanCycle, str]:
    """Train the behavioural model on the history before the window, then wire the cycle; its
    run in the window's last month leaves a few tasks open, for the console's managers and
    supervisors."""
    first_day, last_day = window
    from puhui.bootstrap.post_loan import post_loan_cycle  # noqa: PLC0415
    from puhui.pipelines.post_loan import train_behaviour_before  # noqa: PLC0415

    logger.info("behavioural model: training on the market's history before %s", first_day)
    trained = train_behaviour_before(market_dir, first_day, model_dir, trained_at=datetime.now(UTC))
    if trained.model is None:
        line = f"none ({trained.note})"
    else:
        line = f"{trained.rows:,} customer-months ({trained.bad:,} bad), {trained.note}"
    logger.info("behavioural model: %s", line)
    cycle = post_loan_cycle(platform_, market_dir, data_source=data_source, model=trained.model)
    cycle.left_open_from = date(last_day.year, last_day.month, 1)
    return cycle, line


def _count_codes(codes: Iterable[str]) -> str:
    """``input_psi_shifted ×9, score_psi_watch`` — each code once, with its count."""
    counted = Counter(codes)
    if not counted:
        return "none"
    return ", ".join(
        code if count == 1 else f"{code} ×{count}" for code, count in sorted(counted.items())
    )


def _months(first_day: date, last_day: date) -> list[date]:
    months, month = [], date(first_day.year, first_day.month, 1)
    while month <= last_day:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _monitor_monthly(
    platform_: Platform,
    model_version: str,
    first_day: date,
    last_day: date,
    out: Path,
    *,
    progress: Progress,
) -> Section:
    """Model monitoring as a risk team runs it: once per month, then the whole window."""
    from puhui.bootstrap.wiring import decision_history  # noqa: PLC0415
    from puhui.risk.artefact import load_reference_profile  # noqa: PLC0415
    from puhui.risk.monitoring import psi_reading  # noqa: PLC0415
    from puhui.risk.monitoring_report import write_monitoring_report  # noqa: PLC0415
    from puhui.services.model_monitoring import monitor_model  # noqa: PLC0415

    history = decision_history(platform_)
    model_dir = platform_.settings.model_registry_dir / "models" / model_version
    reference = load_reference_profile(model_dir)
    section = Section(
        "Model monitoring (每月模型监控)",
        ("month", "scored", "score PSI", "approved", "alerts"),
        numeric=frozenset({1}),
    )

    def run(first: str, last: str) -> MonitoringResult:
        return monitor_model(
            history,
            platform_.uow,
            model_version=model_version,
            first_month=first,
            last_month=last,
            reference=reference,
            today=platform_.clock.today(),
            actor="system:demo",
        )

    months = _months(first_day, last_day)
    progress.start(len(months) + 1, "model monitoring, month by month")
    for month in months:
        progress.stage(f"{month:%Y-%m}")
        result = run(f"{month:%Y-%m}", f"{month:%Y-%m}")
        psi = (
            "n/a (no reference profile)"
            if result.score_psi is None
            else f"{result.score_psi:.3f} {psi_reading(result.score_psi)}"
        )
        rates = result.decision_rates[0] if result.decision_rates else None
        approved = "n/a" if rates is None else f"{rates.approval_rate:.1%}"
        alerts = _count_codes(a.code.value for a in result.alerts)
        section.rows.append((f"{month:%Y-%m}", f"{result.n_applications:,}", psi, approved, alerts))
        progress.advance()
    progress.stage("the whole window")
    whole = run(f"{first_day:%Y-%m}", f"{last_day:%Y-%m}")
    report = write_monitoring_report(out, whole)
    progress.advance()
    performance = whole.performance
    if performance is not None and performance.auc is not None:
        section.notes.append(
            f"matured loans {performance.n:,} ({performance.n_bad:,} bad): "
            f"out-of-time AUC {performance.auc:.3f}"
        )
    section.notes.append(f"report: {report}")
    return section


def monitoring_section(
    platform_: Platform,
    model_version: str,
    first_day: date,
    last_day: date,
    out: Path,
    *,
    progress: Progress,
) -> Section:
    # The demo prints the alerts itself; the service's warning per run would repeat them.
    monitoring_log = logging.getLogger("puhui.services.model_monitoring")
    level = monitoring_log.level
    monitoring_log.setLevel(logging.ERROR)
    try:
        return _monitor_monthly(
            platform_, model_version, first_day, last_day, out, progress=progress
        )
    finally:
        monitoring_log.setLevel(level)


def charts_section(
    simulation: LendingSimulation,
    truth_defaulted: set[str],
    out: Path,
) -> Section:
    """The four charts of the run as PNG files; the section lists their paths."""
    from puhui.cli.demo_charts import write_demo_charts  # noqa: PLC0415 - matplotlib
    from puhui.pipelines.portfolio_history import (  # noqa: PLC0415
        balance_by_bucket,
        monthly_originations,
        predicted_vs_realised,
        vintage_curves,
    )

    predicted = {r.uscc: r.pd for r in simulation.receipts.values()}
    paths = write_demo_charts(
        out,
        originations=monthly_originations(
            {a.application_id: a.application_date for a in simulation.applications},
            simulation.booked,
        ),
        balances=balance_by_bucket(simulation.history),
        vintages=vintage_curves(
            simulation.history, {r.receipt_id: r.drawn_on for r in simulation.receipts.values()}
        ),
        calibration=predicted_vs_realised(predicted, truth_defaulted),
    )
    section = Section("Charts (PNG)", ("chart", "file"))
    names = (
        "applications, lines, approval rate",
        "balance by days past due",
        "vintage curves",
        "predicted vs realised",
    )
    section.rows.extend((name, str(path)) for name, path in zip(names, paths, strict=True))
    return section


def originations_section(simulation: LendingSimulation) -> Section:
    from puhui.pipelines.portfolio_history import monthly_originations  # noqa: PLC0415

    section = Section(
        "Origination by month",
        ("month", "applications", "lines opened", "approval rate"),
        numeric=frozenset({1, 2, 3}),
    )
    for row in monthly_originations(
        {a.application_id: a.application_date for a in simulation.applications},
        simulation.booked,
    ):
        section.rows.append(
            (
                f"{row.month:%Y-%m}",
                f"{row.applications:,}",
                f"{row.lines_opened:,}",
                pct(row.approval_rate),
            )
        )
    return section
