"""``puhui demo``: migrate the database, then a year of lending on a generated market."""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import puhui
from puhui.bootstrap import Platform, Settings
from puhui.cli.context import fail, load_settings
from puhui.domain.errors import Conflict, PuhuiError
from puhui.domain.money import format_yuan
from puhui.risk.kinds import ModelKind
from puhui.services.platform import summarise_platform

if TYPE_CHECKING:
    from puhui.adapters.sources.market import MarketDataSource
    from puhui.market.params import MarketParams
    from puhui.pipelines.post_loan import PostLoanCycle, PostLoanReport
    from puhui.pipelines.simulation import PortfolioSummary
    from puhui.risk.monitoring import MonitoringResult

# The simulation pulls in the market generator, LightGBM and optbinning (seconds of import
# time): they are imported when `puhui demo` runs, not when any other command starts.


class DatabaseInUse(Conflict):
    """The demo would run over another simulation's days."""

    code = "database_in_use"


def _market(params: MarketParams, out: Path) -> float:
    """Generate the market unless the folder already holds one with the same parameters."""
    from puhui.market import store  # noqa: PLC0415 - heavy; see the module note
    from puhui.market.generate import generate_market  # noqa: PLC0415

    started = time.perf_counter()
    manifest = out / store.MANIFEST
    if manifest.is_file():
        existing = json.loads(manifest.read_text(encoding="utf-8"))
        if existing.get("status") == "complete" and existing.get("parameters") == params.to_json():
            typer.echo(f"market: reusing {out} (same parameters)")
            return 0.0
    typer.echo(f"market: generating {params.enterprises:,} enterprises x {params.months} months")
    generate_market(params, out, overwrite=True, workers=2)
    return time.perf_counter() - started


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


@contextmanager
def _quiet_per_item_logs(settings: Settings) -> Iterator[None]:
    """Thousands of applications and 365 end-of-day runs: per-item INFO lines only in DEBUG."""
    noisy = [logging.getLogger(name) for name in ("puhui.services", "puhui.pipelines.eod")]
    before = [logger.level for logger in noisy]
    if settings.log_level != "DEBUG":
        for logger in noisy:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(noisy, before, strict=True):
            logger.setLevel(level)


def print_summary(s: PortfolioSummary) -> None:
    echo = typer.echo
    echo("")
    echo(f"== Portfolio {s.first_day} .. {s.last_day} ({s.eod_days} end-of-day runs) ==")
    echo(f"applications received      {s.applications:>10,}")
    echo(f"  existing customers       {s.repeat_customers:>10,}  (already hold a line)")
    for code, count in sorted(s.refused_at_entry.items()):
        echo(f"  refused at entry: {code:<22} {count:>6,}")
    for status, count in sorted(s.outcomes.items()):
        echo(f"  automatic decision {status:<15} {count:>8,}")
    echo(f"lines opened               {s.lines_opened:>10,}  approval rate {s.approval_rate:.1%}")
    echo(f"limits granted             {format_yuan(s.limits_fen):>18} yuan")
    echo(f"drawn                      {format_yuan(s.drawn_fen):>18} yuan")
    echo(f"repaid (all components)    {format_yuan(s.repaid_fen):>18} yuan")
    echo(f"principal outstanding      {format_yuan(s.outstanding_principal_fen):>18} yuan")
    echo("days past due (active receipts):")
    for name, (count, amount) in s.dpd_buckets.items():
        echo(f"  {name:<8} {count:>7,} receipts {format_yuan(amount):>18} yuan")
    echo("five-category classification (五级分类):")
    for name, (count, amount) in s.categories.items():
        echo(f"  {name:<16} {count:>7,} receipts {format_yuan(amount):>18} yuan")
    echo(
        f"bad rate: predicted (mean 12-month PD at booking) {_pct(s.predicted_bad_rate)}; "
        f"realised 90+ DPD {_pct(s.realised_90dpd_rate)}; "
        f"truth: defaulted by {s.last_day} {_pct(s.realised_truth_default_rate)}"
    )
    for label, figures in (("fraud", s.fraud), ("packaged (中介包装)", s.packaged)):
        total = figures.get("total", 0)
        caught = figures.get("caught", 0)
        missed = figures.get("missed_line_opened", 0)
        detail = ", ".join(
            f"{k}={v}" for k, v in sorted(figures.items()) if k.startswith("caught_")
        )
        echo(
            f"{label} applications (truth): {total:,}; caught {caught:,}, "
            f"missed (line opened) {missed:,}" + (f" [{detail}]" if detail else "")
        )
    echo(f"trial balance total        {s.trial_balance_fen:>10,} fen (must be 0)")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in s.seconds.items())
    echo(f"time: {timing}")


def print_post_loan(r: PostLoanReport) -> None:
    """The post-loan section: each month's cycle, the totals, the early warning vs the truth."""
    echo = typer.echo
    echo("")
    echo("== Post-loan monitoring (贷后), each month's first day ==")
    for m in r.months:
        worked = ", ".join(f"{k} {v}" for k, v in sorted(m.outcomes.items())) or "none"
        echo(
            f"  {m.as_of}  {m.status}: {m.customers:>6,} watched, alerts {m.alerts_created:,} "
            f"new / {m.alerts_extended:,} extended, {m.tasks_created:,} tasks; worked: {worked}; "
            f"lines frozen {m.lines_frozen:,}; collection cases {m.open_cases:,}; "
            f"concentration breaches {m.breaches}"
        )
    severities = ", ".join(f"{k} {v:,}" for k, v in r.alerts_by_severity.items())
    echo(f"alerts                     {r.alerts:>10,}  ({severities})")
    codes = ", ".join(f"{code} {n:,}" for code, n in r.top_codes) or "none"
    echo(f"  top signals: {codes}")
    outcomes = ", ".join(f"{k} {v:,}" for k, v in r.tasks_by_outcome.items()) or "none"
    echo(f"tasks by outcome: {outcomes}")
    echo(f"lines frozen               {r.lines_frozen:>10,}")
    buckets = ", ".join(f"{k} {v:,}" for k, v in r.cases_by_bucket.items()) or "none"
    echo(f"open collection cases: {buckets}")
    echo(f"concentration breaches (last evaluation): {', '.join(r.breaches) or 'none'}")
    lead = "n/a" if r.median_lead_months is None else f"{r.median_lead_months:.1f} months"
    echo(
        f"lead time (truth): {r.alerted_before_default:,} of {r.defaulted:,} booked customers "
        f"defaulting in the window had an alert before the default month; median lead {lead}"
    )
    share = r.alerted_defaulted / r.alerted if r.alerted else None
    base = r.booked_defaulted / r.booked if r.booked else None
    echo(
        f"alerted customers that default (truth): {r.alerted_defaulted:,} of {r.alerted:,} "
        f"({_pct(share)}; all booked customers {_pct(base)})"
    )


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
        Path, typer.Option(help="Where the generated market and the trained model go.")
    ] = Path("var/demo"),
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
    """
    settings = load_settings()
    try:
        summary = _simulate(
            settings,
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
        raise fail(exc.message, code=exc.code) from None
    if summary.trial_balance_fen != 0:
        raise fail("the trial balance does not sum to zero", code="ledger_unbalanced")


def _print_holdings(p: Platform) -> None:
    typer.echo(f"the platform holds ({p.database.display_url}):")
    for table, rows in summarise_platform(p.uow).table_counts.items():
        if rows:
            typer.echo(f"  {table:<32} {rows:>10,} rows")


DEMO_BUILDER = "demo:modeller"
DEMO_VALIDATOR = "demo:validator"
DEMO_PROMOTER = "demo:risk-officer"


def _prepare_database(p: Platform, *, reset: bool) -> None:
    """Migrate the configured database: a fresh one, or erased first when told to."""
    if reset:
        typer.echo(f"database: erasing {p.database.display_url} (--reset)")
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
    typer.echo(f"Puhui {puhui.__version__} — database {p.database.display_url}")
    typer.echo(f"schema at revision {state.current} (up to date)")


_LENDING_TABLES = frozenset({"origination_applications", "credit_lines", "eod_runs"})


def _train_champion(
    platform_: Platform, market_dir: Path, first_day: date, kind: ModelKind, model_dir: Path
) -> str:
    """Train on the market's history, then register, approve (a second person) and promote."""
    from puhui.bootstrap.wiring import register_champion  # noqa: PLC0415
    from puhui.pipelines.simulation import train_market_model  # noqa: PLC0415

    typer.echo(f"model: training {kind.value} on the market's history before {first_day}")
    loans, bad, auc, measured = train_market_model(
        market_dir, first_day, kind, model_dir, trained_at=datetime.now(UTC)
    )
    typer.echo(f"model: {loans:,} legacy loans ({bad:,} bad), {measured} AUC {auc:.3f}")
    entry = register_champion(
        platform_,
        model_dir,
        builder=DEMO_BUILDER,
        approver=DEMO_VALIDATOR,
        promoter=DEMO_PROMOTER,
        at=datetime.now(UTC),
    )
    typer.echo(
        f"model: registered {entry.version} in {platform_.settings.model_registry_dir}, "
        f"approved by {DEMO_VALIDATOR}, champion of {entry.name}"
    )
    return entry.version


def _post_loan_cycle(
    platform_: Platform,
    market_dir: Path,
    data_source: MarketDataSource,
    model_dir: Path,
    first_day: date,
) -> PostLoanCycle:
    """Train the behavioural model on the history before the window, then wire the cycle."""
    from puhui.bootstrap.post_loan import post_loan_cycle  # noqa: PLC0415
    from puhui.pipelines.post_loan import train_behaviour_before  # noqa: PLC0415

    typer.echo(f"behavioural model: training on the market's history before {first_day}")
    trained = train_behaviour_before(market_dir, first_day, model_dir, trained_at=datetime.now(UTC))
    if trained.model is None:
        typer.echo(f"behavioural model: none ({trained.note})")
    else:
        typer.echo(
            f"behavioural model: {trained.rows:,} customer-months ({trained.bad:,} bad), "
            f"{trained.note}"
        )
    return post_loan_cycle(platform_, market_dir, data_source=data_source, model=trained.model)


def _count_codes(codes: Iterable[str]) -> str:
    """``input_psi_shifted ×9, score_psi_watch`` — each code once, with its count."""
    counted = Counter(codes)
    if not counted:
        return "none"
    return ", ".join(
        code if count == 1 else f"{code} ×{count}" for code, count in sorted(counted.items())
    )


def _monitor_monthly(
    platform_: Platform, model_version: str, first_day: date, last_day: date, out: Path
) -> None:
    """Model monitoring as a risk team runs it: once per month, then the whole window."""
    from puhui.bootstrap.wiring import decision_history  # noqa: PLC0415
    from puhui.risk.artefact import load_reference_profile  # noqa: PLC0415
    from puhui.risk.monitoring import psi_reading  # noqa: PLC0415
    from puhui.risk.monitoring_report import write_monitoring_report  # noqa: PLC0415
    from puhui.services.model_monitoring import monitor_model  # noqa: PLC0415

    history = decision_history(platform_)
    model_dir = platform_.settings.model_registry_dir / "models" / model_version
    reference = load_reference_profile(model_dir)
    typer.echo("model monitoring (每月模型监控):")

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

    month = date(first_day.year, first_day.month, 1)
    while month <= last_day:
        result = run(f"{month:%Y-%m}", f"{month:%Y-%m}")
        psi = (
            "n/a (no reference profile)"
            if result.score_psi is None
            else f"{result.score_psi:.3f} {psi_reading(result.score_psi)}"
        )
        rates = result.decision_rates[0] if result.decision_rates else None
        approved = "n/a" if rates is None else f"{rates.approval_rate:.1%}"
        alerts = _count_codes(a.code.value for a in result.alerts)
        typer.echo(
            f"  {month:%Y-%m}  {result.n_applications:>6,} scored  score PSI {psi}  "
            f"approved {approved}  alerts: {alerts}"
        )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    whole = run(f"{first_day:%Y-%m}", f"{last_day:%Y-%m}")
    report = write_monitoring_report(out, whole)
    performance = whole.performance
    if performance is not None and performance.auc is not None:
        typer.echo(
            f"  matured loans {performance.n:,} ({performance.n_bad:,} bad): "
            f"out-of-time AUC {performance.auc:.3f}"
        )
    typer.echo(f"  report: {report}")


def _monitor_model_quietly(
    platform_: Platform, model_version: str, first_day: date, last_day: date, out: Path
) -> None:
    # The demo prints the alerts itself; the service's warning per run would repeat them.
    monitoring_log = logging.getLogger("puhui.services.model_monitoring")
    level = monitoring_log.level
    monitoring_log.setLevel(logging.ERROR)
    try:
        _monitor_monthly(platform_, model_version, first_day, last_day, out)
    finally:
        monitoring_log.setLevel(level)


def _simulate(
    settings: Settings,
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
    from puhui.adapters.sources.market import MarketDataSource  # noqa: PLC0415 - heavy
    from puhui.bootstrap import build_platform  # noqa: PLC0415
    from puhui.bootstrap.wiring import (  # noqa: PLC0415
        build_origination,
        end_of_day_store,
        month_publisher,
        origination_ports,
    )
    from puhui.domain.clock import FixedClock  # noqa: PLC0415
    from puhui.market.oracle import MarketOracle  # noqa: PLC0415
    from puhui.market.params import MarketParams, parse_month  # noqa: PLC0415
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
    params = MarketParams(
        enterprises=enterprises,
        months=history_months + months,
        start=parse_month(start),
        seed=seed,
    )
    market_dir = workdir / "market"
    first_day, last_day = simulation_window(params.start, params.months, months)
    clock = FixedClock(datetime.combine(first_day, datetime.min.time(), tzinfo=UTC))
    platform_ = build_platform(settings.model_copy(update={"market_dir": market_dir}), clock=clock)
    try:
        _prepare_database(platform_, reset=reset)
        generated = _market(params, market_dir)
        t0 = time.perf_counter()
        champion = _train_champion(platform_, market_dir, first_day, model_kind, workdir / "model")
        trained = time.perf_counter() - t0
        t0 = time.perf_counter()
        data_source = MarketDataSource(market_dir)
        ports = origination_ports(platform_, data_source=data_source)
        oracle = MarketOracle(market_dir)
        applications = read_applications(market_dir, first_day, last_day)
        truth = read_truth(market_dir)
        loaded = time.perf_counter() - t0
        t0 = time.perf_counter()
        post_loan = _post_loan_cycle(
            platform_, market_dir, data_source, workdir / "behaviour", first_day
        )
        behaviour = time.perf_counter() - t0
        typer.echo(
            f"simulation: {len(applications):,} applications, {first_day} .. {last_day}, "
            f"database {platform_.database.display_url}"
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
            simulation.run(first_day, last_day)
        summary = simulation.summary(first_day, last_day, truth)
        summary.seconds = {
            "market": generated,
            "training": trained,
            "loading": loaded,
            "behaviour model": behaviour,
            **summary.seconds,
            "total": time.perf_counter() - started,
        }
        print_summary(summary)
        print_post_loan(
            post_loan_report(
                post_loan,
                booked={r.uscc for r in simulation.receipts.values()},
                truth=truth,
                first_day=first_day,
                last_day=last_day,
            )
        )
        _monitor_model_quietly(platform_, champion, first_day, last_day, workdir / "monitoring")
        _print_holdings(platform_)
        if serve:
            server = importlib.import_module("puhui.web.server")
            # Serve on the day after the simulation: that business day is still open.
            clock.advance(timedelta(days=1))
            server.serve_demo(platform_, ports, host=host, port=port, echo=typer.echo)
        return summary
    finally:
        platform_.close()
