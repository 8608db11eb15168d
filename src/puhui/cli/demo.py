"""``puhui demo``: migrate the database, then a year of lending on a generated market."""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import puhui
from puhui.bootstrap import Settings
from puhui.cli.context import fail, load_settings, platform
from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan
from puhui.risk.kinds import ModelKind
from puhui.services.platform import summarise_platform

if TYPE_CHECKING:
    from puhui.market.params import MarketParams
    from puhui.pipelines.simulation import PortfolioSummary

# The simulation pulls in the market generator, LightGBM and optbinning (seconds of import
# time): they are imported when `puhui demo` runs, not when any other command starts.


def _show_platform() -> None:
    """The first step, as before: create and migrate the configured database, show it."""
    with platform() as p:
        state = p.database.upgrade()
        summary = summarise_platform(p.uow)
        typer.echo(f"Puhui {puhui.__version__} — database {p.database.display_url}")
        typer.echo(f"schema at revision {state.current} (up to date)")
        typer.echo("the platform holds:")
        for table, rows in summary.table_counts.items():
            typer.echo(f"  {table:<32} {rows:>10,} rows")


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
        Path, typer.Option(help="Where the market, the model and the simulation database go.")
    ] = Path("var/demo"),
    model_kind: Annotated[ModelKind, typer.Option(help="Risk model: gbm or scorecard.")] = (
        ModelKind.GBM
    ),
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards (opt-in).")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
) -> None:
    """Migrate the database; then generate a market, train on its history, lend for a year.

    The simulation has its own SQLite database under WORKDIR, recreated on every run (the end
    of day refuses to go back in time). It terminates on its own; ``--serve`` then serves
    the API on the simulated portfolio until interrupted.
    """
    _show_platform()
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
            serve=serve,
            host=host,
            port=port,
        )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if summary.trial_balance_fen != 0:
        raise fail("the trial balance does not sum to zero", code="ledger_unbalanced")


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
    serve: bool,
    host: str,
    port: int,
) -> PortfolioSummary:
    from puhui.adapters.sources.market import MarketDataSource  # noqa: PLC0415 - heavy
    from puhui.bootstrap import build_platform  # noqa: PLC0415
    from puhui.bootstrap.wiring import (  # noqa: PLC0415
        build_origination,
        end_of_day_store,
        feature_prefetch,
        origination_ports,
    )
    from puhui.domain.clock import FixedClock  # noqa: PLC0415
    from puhui.market.oracle import MarketOracle  # noqa: PLC0415
    from puhui.market.params import MarketParams, parse_month  # noqa: PLC0415
    from puhui.pipelines.simulation import (  # noqa: PLC0415
        LendingSimulation,
        SimulationParts,
        read_applications,
        read_truth,
        simulation_window,
        train_market_model,
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
    generated = _market(params, market_dir)
    first_day, last_day = simulation_window(params.start, params.months, months)
    typer.echo(f"model: training {model_kind.value} on the market's history before {first_day}")
    t0 = time.perf_counter()
    model_dir = workdir / "model"
    loans, bad, auc, measured = train_market_model(
        market_dir, first_day, model_kind, model_dir, trained_at=datetime.now(UTC)
    )
    trained = time.perf_counter() - t0
    typer.echo(f"model: {loans:,} legacy loans ({bad:,} bad), {measured} AUC {auc:.3f}")
    database = workdir / "simulation.db"
    for leftover in workdir.glob("simulation.db*"):
        leftover.unlink()
    sim_settings = settings.model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "market_dir": market_dir,
            "model_dir": model_dir,
        }
    )
    clock = FixedClock(datetime.combine(first_day, datetime.min.time(), tzinfo=UTC))
    platform_ = build_platform(sim_settings, clock=clock)
    try:
        platform_.database.upgrade()
        t0 = time.perf_counter()
        data_source = MarketDataSource(market_dir)
        ports = origination_ports(platform_, data_source=data_source)
        oracle = MarketOracle(market_dir)
        applications = read_applications(market_dir, first_day, last_day)
        truth = read_truth(market_dir)
        loaded = time.perf_counter() - t0
        typer.echo(
            f"simulation: {len(applications):,} applications, {first_day} .. {last_day}, "
            f"database {database}"
        )
        simulation = LendingSimulation(
            SimulationParts(
                origination=build_origination(platform_, ports),
                servicing=platform_.servicing_uow,
                end_of_day=end_of_day_store(platform_),
                clock=clock,
                oracle=oracle,
                prefetch=feature_prefetch(ports.assessor, market_dir),
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
            **summary.seconds,
            "total": time.perf_counter() - started,
        }
        print_summary(summary)
        if serve:
            server = importlib.import_module("puhui.web.server")
            # Serve on the day after the simulation: that business day is still open.
            clock.advance(timedelta(days=1))
            server.serve_demo(platform_, ports, host=host, port=port, echo=typer.echo)
        return summary
    finally:
        platform_.close()
