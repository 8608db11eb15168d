"""``puhui demo``: migrate the database, then a year of lending on a generated market.

While it runs, its log lines go to a file (``<workdir>/log/demo-<UTC time>.log``, printed
first) and a progress bar shows each stage on a terminal; at the end it prints a summary
(tables on a terminal, aligned text elsewhere) and the paths of its charts.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import puhui
from puhui.bootstrap import Platform, Settings
from puhui.bootstrap.logging import logging_to_file
from puhui.cli.context import fail, load_settings
from puhui.cli.demo_report import (
    Section,
    pct,
    portfolio_lines,
    portfolio_sections,
    post_loan_lines,
    post_loan_section,
    print_sections,
)
from puhui.cli.progress import chunks_reporter, is_terminal, progress_bar
from puhui.domain.errors import Conflict, PuhuiError
from puhui.domain.progress import Progress
from puhui.risk.kinds import ModelKind
from puhui.services.platform import summarise_platform

if TYPE_CHECKING:
    from puhui.adapters.sources.market import MarketDataSource
    from puhui.bootstrap.wiring import OriginationPorts
    from puhui.domain.clock import FixedClock
    from puhui.market.params import MarketParams
    from puhui.pipelines.post_loan import PostLoanCycle, PostLoanReport
    from puhui.pipelines.simulation import LendingSimulation, PortfolioSummary
    from puhui.risk.monitoring import MonitoringResult

# The simulation pulls in the market generator, LightGBM and optbinning (seconds of import
# time): they are imported when `puhui demo` runs, not when any other command starts.

logger = logging.getLogger(__name__)


class DatabaseInUse(Conflict):
    """The demo would run over another simulation's days."""

    code = "database_in_use"


@dataclass
class DemoRun:
    """What the demo did, for its summary."""

    log_file: Path
    sections: list[Section] = field(default_factory=list)
    """The sections printed before the portfolio (run, models, originations)."""
    summary: PortfolioSummary | None = None
    post_loan: PostLoanReport | None = None
    after: list[Section] = field(default_factory=list)
    """The sections printed after post-loan (model monitoring, holdings, charts)."""
    ports: OriginationPorts | None = None


def _market(params: MarketParams, out: Path, progress: Progress) -> tuple[float, str]:
    """Generate the market unless the folder already holds one with the same parameters."""
    from puhui.market import store  # noqa: PLC0415 - heavy; see the module note
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
def _quiet_per_item_logs(settings: Settings) -> Iterator[None]:
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


def print_summary(s: PortfolioSummary) -> None:
    for line in portfolio_lines(s):
        typer.echo(line)


def print_post_loan(r: PostLoanReport) -> None:
    """The post-loan section: each month's cycle, the totals, the early warning vs the truth."""
    for line in post_loan_lines(r):
        typer.echo(line)


def demo(
    *,
    enterprises: Annotated[
        int, typer.Option(min=200, help="Enterprises in the generated market.")
    ] = 20_000,
    months: Annotated[int, typer.Option(min=1, max=24, help="Months to simulate.")] = 12,
    history_months: Annotated[
        int, typer.Option(min=14, help="Months of market history before the simulation.")
    ] = 24,
    start: Annotated[str, typer.Option(help="First month of the market, YYYY-MM.")] = "2023-01",
    seed: Annotated[int, typer.Option(help="Seed of the market.")] = 7,
    workdir: Annotated[
        Path,
        typer.Option(help="Where the generated market, the trained model and the charts go."),
    ] = Path("var/demo"),
    log_dir: Annotated[
        Path | None, typer.Option(help="Folder of the demo's log file (default: WORKDIR/log).")
    ] = None,
    model_kind: Annotated[ModelKind, typer.Option(help="Risk model: gbm or scorecard.")] = (
        ModelKind.GBM
    ),
    reset: Annotated[
        bool,
        typer.Option(
            "--reset/--no-reset",
            help="Erase the configured database first (its schema and all its data).",
        ),
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards (opt-in).")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
) -> None:
    """Generate a market, train on its history, lend for a year on the configured database.

    The simulation runs on the database of ``PUHUI_DATABASE_URL`` (SQLite by default,
    PostgreSQL too): a fresh one, or one that ``--reset`` may erase (the end of day refuses to
    go back in time, so a simulation cannot run over another one's days). The model is
    registered, approved by a second person and promoted to champion in the model registry,
    and the strategy decides as its active version in the database: the governed path. It
    terminates on its own; ``--serve`` then serves the API on the portfolio until interrupted.
    Log lines go to a file; the summary and the charts' paths are printed at the end.
    """
    settings = load_settings()
    log_file = (log_dir or workdir / "log") / f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}.log"
    typer.echo(f"log: {log_file}")
    try:
        with logging_to_file(log_file, settings.log_level, settings.effective_log_format):
            summary = _demo(
                settings,
                log_file,
                enterprises=enterprises,
                months=months,
                history_months=history_months,
                start=start,
                seed=seed,
                workdir=workdir,
                model_kind=model_kind,
                reset=reset,
                serve=serve,
                host=host,
                port=port,
            )
    except PuhuiError as exc:
        raise fail(f"{exc.message} (log: {log_file})", code=exc.code) from None
    if summary.trial_balance_fen != 0:
        raise fail("the trial balance does not sum to zero", code="ledger_unbalanced")


def _demo(
    settings: Settings,
    log_file: Path,
    *,
    enterprises: int,
    months: int,
    history_months: int,
    start: str,
    seed: int,
    workdir: Path,
    model_kind: ModelKind,
    reset: bool,
    serve: bool,
    host: str,
    port: int,
) -> PortfolioSummary:
    """Run the demo on its own platform; print the summary; serve when asked."""
    from puhui.bootstrap import build_platform  # noqa: PLC0415 - heavy
    from puhui.domain.clock import FixedClock  # noqa: PLC0415
    from puhui.market.params import MarketParams, parse_month  # noqa: PLC0415
    from puhui.pipelines.simulation import simulation_window  # noqa: PLC0415

    params = MarketParams(
        enterprises=enterprises,
        months=history_months + months,
        start=parse_month(start),
        seed=seed,
    )
    first_day, _ = simulation_window(params.start, params.months, months)
    clock = FixedClock(datetime.combine(first_day, datetime.min.time(), tzinfo=UTC))
    market_settings = settings.model_copy(update={"market_dir": workdir / "market"})
    platform_ = build_platform(market_settings, clock=clock)
    try:
        try:
            with progress_bar() as progress:
                run = _simulate(
                    platform_,
                    settings,
                    params,
                    DemoRun(log_file),
                    workdir=workdir,
                    months=months,
                    model_kind=model_kind,
                    reset=reset,
                    clock=clock,
                    progress=progress,
                )
        except Exception:
            logger.exception("the demo stopped")
            raise
        # Tables when the summary goes to a terminal; aligned text into a pipe or a file.
        _print(run, terminal=is_terminal(sys.stdout))
        if serve:
            server = importlib.import_module("puhui.web.server")
            # Serve on the day after the simulation: that business day is still open.
            clock.advance(timedelta(days=1))
            server.serve_demo(platform_, run.ports, host=host, port=port, echo=typer.echo)
        if run.summary is None:  # pragma: no cover - _simulate always sets it
            raise fail("the simulation left no summary", code="internal_error", exit_code=1)
        return run.summary
    finally:
        platform_.close()


def _print(run: DemoRun, *, terminal: bool) -> None:
    print_sections(run.sections, typer.echo, terminal=terminal)
    if run.summary is not None:
        if terminal:
            print_sections(portfolio_sections(run.summary), typer.echo, terminal=True)
        else:
            print_summary(run.summary)
    if run.post_loan is not None:
        if terminal:
            print_sections([post_loan_section(run.post_loan)], typer.echo, terminal=True)
        else:
            print_post_loan(run.post_loan)
    print_sections(run.after, typer.echo, terminal=terminal)


def _holdings(p: Platform) -> Section:
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


def _prepare_database(p: Platform, *, reset: bool) -> str:
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


def _train_champion(
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


def _post_loan_cycle(
    platform_: Platform,
    market_dir: Path,
    data_source: MarketDataSource,
    model_dir: Path,
    first_day: date,
) -> tuple[PostLoanCycle, str]:
    """Train the behavioural model on the history before the window, then wire the cycle."""
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


def _monitor_model_quietly(
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


def _charts(
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


def _originations_section(simulation: LendingSimulation) -> Section:
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


def _simulate(
    platform_: Platform,
    settings: Settings,
    params: MarketParams,
    run: DemoRun,
    *,
    workdir: Path,
    months: int,
    model_kind: ModelKind,
    reset: bool,
    clock: FixedClock,
    progress: Progress,
) -> DemoRun:
    import polars as pl  # noqa: PLC0415 - heavy

    from puhui.adapters.sources.market import MarketDataSource  # noqa: PLC0415 - heavy
    from puhui.bootstrap.wiring import (  # noqa: PLC0415
        build_origination,
        end_of_day_store,
        month_publisher,
        origination_ports,
    )
    from puhui.market.oracle import MarketOracle  # noqa: PLC0415
    from puhui.pipelines.post_loan import post_loan_report  # noqa: PLC0415
    from puhui.pipelines.simulation import (  # noqa: PLC0415
        LendingSimulation,
        SimulationParts,
        read_applications,
        read_truth,
        simulation_window,
    )

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    market_dir = workdir / "market"
    first_day, last_day = simulation_window(params.start, params.months, months)
    progress.start(None, "database: migrating")
    revision = _prepare_database(platform_, reset=reset)
    generated, market_note = _market(params, market_dir, progress)
    t0 = time.perf_counter()
    progress.start(None, f"risk model: training {model_kind.value}, registering the champion")
    champion, model_rows = _train_champion(
        platform_, market_dir, first_day, model_kind, workdir / "model"
    )
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    progress.start(None, "loading the market's applications")
    data_source = MarketDataSource(market_dir)
    ports = origination_ports(platform_, data_source=data_source)
    oracle = MarketOracle(market_dir)
    applications = read_applications(market_dir, first_day, last_day)
    truth = read_truth(market_dir)
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    progress.start(None, "behavioural model: training")
    post_loan, behaviour_line = _post_loan_cycle(
        platform_, market_dir, data_source, workdir / "behaviour", first_day
    )
    behaviour = time.perf_counter() - t0
    logger.info(
        "simulation: %d applications, %s .. %s, database %s",
        len(applications),
        first_day,
        last_day,
        platform_.database.display_url,
    )
    simulation = LendingSimulation(
        SimulationParts(
            origination=build_origination(platform_, ports),
            servicing=platform_.servicing_uow,
            end_of_day=end_of_day_store(platform_),
            clock=clock,
            oracle=oracle,
            publish_month=month_publisher(platform_, market_dir),
            month_end=post_loan,
        ),
        applications,
    )
    with _quiet_per_item_logs(settings):
        simulation.run(first_day, last_day, progress)
    progress.start(None, "portfolio and post-loan summaries")
    summary = simulation.summary(first_day, last_day, truth)
    booked = {r.uscc for r in simulation.receipts.values()}
    run.post_loan = post_loan_report(
        post_loan, booked=booked, truth=truth, first_day=first_day, last_day=last_day
    )
    run.after.append(
        _monitor_model_quietly(
            platform_, champion, first_day, last_day, workdir / "monitoring", progress=progress
        )
    )
    progress.start(None, "charts")
    defaulted = set(
        truth["enterprises_truth"]
        .filter(pl.col("default_month").is_not_null() & (pl.col("default_month") <= last_day))
        .get_column("uscc")
        .to_list()
    )
    run.after.append(_holdings(platform_))
    run.after.append(_charts(simulation, defaulted, workdir / "charts"))
    summary.seconds = {
        "market": generated,
        "training": trained,
        "loading": loaded,
        "behaviour model": behaviour,
        **summary.seconds,
        "total": time.perf_counter() - started,
    }
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
    logger.info("time: %s", timing)
    run.summary = summary
    run.ports = ports
    run.sections = [
        Section(
            f"Puhui {puhui.__version__} demo",
            ("", ""),
            rows=[
                ("database:", platform_.database.display_url),
                ("schema:", f"at revision {revision} (up to date)"),
                (
                    "market:",
                    f"{params.enterprises:,} enterprises x {params.months} months, {market_note}",
                ),
                (
                    "simulation:",
                    f"{len(applications):,} applications, {first_day} .. {last_day}",
                ),
                ("log:", str(run.log_file)),
                ("time:", timing),
            ],
        ),
        Section(
            "Models (out-of-sample figures)",
            ("", ""),
            rows=[*model_rows, ("behavioural model:", behaviour_line)],
        ),
        _originations_section(simulation),
    ]
    return run
