"""``puhui demo``: migrate the database, then a year of lending on a generated market.

While it runs, its log lines go to a file (``<workdir>/log/demo-<UTC time>.log``, printed
first) and a progress bar shows each stage on a terminal; at the end it prints a summary
(tables on a terminal, aligned text elsewhere) and the paths of its charts.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import puhui
from puhui.bootstrap import Platform, Settings
from puhui.bootstrap.logging import logging_to_file
from puhui.cli.context import fail, load_settings
from puhui.cli.demo_advisor import advisor_section
from puhui.cli.demo_federated import federated_section
from puhui.cli.demo_green import green_section
from puhui.cli.demo_partners import (
    brought_by_partner,
    partners_sections,
    partners_stage,
    run_with_partners,
    with_partners,
)
from puhui.cli.demo_prospects import prospect_channel, prospect_results
from puhui.cli.demo_prosperity import prosperity_section
from puhui.cli.demo_reconciliation import reconciliation_section
from puhui.cli.demo_report import (
    Section,
    active_credit_section,
    portfolio_lines,
    portfolio_sections,
    post_loan_lines,
    post_loan_section,
    print_sections,
)
from puhui.cli.demo_stages import (
    charts_section,
    generate_or_reuse_market,
    holdings_section,
    monitoring_section,
    originations_section,
    post_loan_cycle_for,
    prepare_database,
    quiet_per_item_logs,
    train_champion,
)
from puhui.cli.demo_strategy import strategy_section, strategy_stage
from puhui.cli.demo_supply_chain import (
    supply_chain_sections,
    supply_chain_stage,
    with_vouchers,
)
from puhui.cli.demo_term_loans import term_loans_section, term_loans_stage, with_term_loans
from puhui.cli.progress import is_terminal, progress_bar
from puhui.domain.errors import PuhuiError
from puhui.domain.progress import Progress
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.risk.kinds import ModelKind

if TYPE_CHECKING:
    from puhui.bootstrap.wiring import OriginationPorts
    from puhui.domain.clock import FixedClock
    from puhui.graph.live import GraphSource
    from puhui.market.params import MarketParams
    from puhui.pipelines.portfolio_summary import PortfolioSummary
    from puhui.pipelines.post_loan import PostLoanReport

# The simulation pulls in the market generator, LightGBM and optbinning (seconds of import
# time): they are imported when `puhui demo` runs, not when any other command starts.

logger = logging.getLogger(__name__)
REFERRALS_LEFT_DAYS = 7
"""The referrals of the window's last week stay in the queue for the console's approvers."""


@dataclass
class DemoRun:
    """What the demo did, for its summary."""

    log_file: Path | None
    """``None``: the log lines went where logging was configured (the benchmark)."""
    sections: list[Section] = field(default_factory=list)
    """The sections printed before the portfolio (run, models, originations)."""
    summary: PortfolioSummary | None = None
    post_loan: PostLoanReport | None = None
    after: list[Section] = field(default_factory=list)
    """The sections printed after post-loan (model monitoring, holdings, charts)."""
    ports: OriginationPorts | None = None


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
    log_file: Path | None,
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
                run = _run_stages(
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
    reset: bool = False,
    serve: bool = False,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> PortfolioSummary:
    """The demo without its log file, summary printed: what ``bench/bench_demo.py`` times."""
    return _demo(
        settings,
        None,
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


def demo_graph(graph_dir: Path, settings: Settings) -> GraphSource:
    """The demo's graph folder, emptied: each month's graph is built as the month is
    published, and none from an earlier run may stay (it would hold the future)."""
    from puhui.graph.live import GraphSource  # noqa: PLC0415 - heavy

    shutil.rmtree(graph_dir, ignore_errors=True)
    return GraphSource(
        graph_dir,
        key=settings.graph_identifier_key(),
        max_age_days=settings.graph_max_age_days,
        recheck_seconds=0.0,  # simulated days pass in milliseconds: look every time
        background=False,
    )


def _run_stages(
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
    from puhui.bootstrap.demo_strategy import (  # noqa: PLC0415
        offers_by_green_label,
        with_prosperity,
    )
    from puhui.bootstrap.wiring import (  # noqa: PLC0415
        build_origination,
        end_of_day_store,
        month_publisher,
        origination_ports,
    )
    from puhui.market.oracle import MarketOracle  # noqa: PLC0415
    from puhui.pipelines.borrowing import read_needs  # noqa: PLC0415
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
    revision = prepare_database(platform_, reset=reset)
    generated, market_note = generate_or_reuse_market(params, market_dir, progress)
    t0 = time.perf_counter()
    progress.start(None, f"risk model: training {model_kind.value}, registering the champion")
    champion, model_rows = train_champion(
        platform_, market_dir, first_day, model_kind, workdir / "model"
    )
    trained = time.perf_counter() - t0
    strategy = strategy_stage(platform_, market_dir, first_day, workdir, progress)
    loaded_at = time.perf_counter()
    progress.start(None, "loading the market's applications")
    data_source, graph = MarketDataSource(market_dir), demo_graph(workdir / "graph", settings)
    # The borrowers repay through a collecting channel that keeps its own record (代扣).
    ports, channel = (
        origination_ports(platform_, data_source=data_source, graph=graph),
        CollectingChannel(),
    )
    oracle, applications = (
        MarketOracle(market_dir),
        read_applications(market_dir, first_day, last_day),
    )
    truth = read_truth(market_dir)
    loaded = time.perf_counter() - loaded_at
    t0 = time.perf_counter()
    progress.start(None, "behavioural model: training")
    post_loan, behaviour_line = post_loan_cycle_for(
        platform_, market_dir, data_source, workdir / "behaviour", (first_day, last_day)
    )
    behaviour = time.perf_counter() - t0
    prospects, prospect_models, prospect_training = prospect_channel(
        platform_, market_dir, first_day, progress
    )
    vouchers, partners, term_loans = (
        supply_chain_stage(platform_, market_dir, first_day, progress, data_source),
        partners_stage(platform_, first_day, last_day, progress),
        term_loans_stage(
            platform_,
            truth=truth,
            applications=applications,
            window=(first_day, last_day),
            progress=progress,
            channel=channel,
        ),
    )
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
            # Once a month is published, the cores pay its invoices with vouchers.
            # Then the partners work the closed days: ties, settlement, fees, claims, renewals.
            # The indices are rebuilt from the months closed by each publication.
            publish_month=with_term_loans(
                with_partners(
                    with_vouchers(
                        with_prosperity(
                            month_publisher(platform_, market_dir, graph.graph_dir),
                            market_dir,
                            platform_.settings.prosperity_folder,
                        ),
                        vouchers,
                    ),
                    partners,
                ),
                term_loans,
            ),
            month_end=post_loan,
            # The last week's referrals wait for the console's approvers.
            referrals_left_from=last_day - timedelta(days=REFERRALS_LEFT_DAYS - 1),
            prospects=prospects,
            # The partner channel's applications are brought by the demo's two partners.
            brought_by=brought_by_partner,
            channel=channel,
        ),
        applications,
        # The world's side: when and how much each enterprise needs (never the bank's).
        read_needs(market_dir, first_day, last_day),
    )
    with quiet_per_item_logs(settings):
        run_with_partners(simulation, partners, first_day, last_day, progress)
    progress.start(None, "portfolio and post-loan summaries")
    summary = simulation.summary(first_day, last_day, truth)
    run.post_loan = post_loan_report(
        post_loan,
        booked={r.uscc for r in simulation.receipts.values()},
        truth=truth,
        first_day=first_day,
        last_day=last_day,
    )
    monitoring = monitoring_section(
        platform_, champion, first_day, last_day, workdir / "monitoring", progress=progress
    )
    progress.start(None, "charts")
    defaulted = set(
        truth["enterprises_truth"]
        .filter(pl.col("default_month").is_not_null() & (pl.col("default_month") <= last_day))
        .get_column("uscc")
        .to_list()
    )
    active_credit = prospect_results(
        prospects,
        simulation,
        defaulted,
        models=prospect_models,
        last_day=last_day,
        training_seconds=prospect_training,
    )
    run.after.extend(
        [
            active_credit_section(active_credit),
            *supply_chain_sections(vouchers.results(last_day)),
            *partners_sections(partners.results(last_day)),
            term_loans_section(term_loans.finish()),
            reconciliation_section(platform_, channel, last_day, workdir / "channel"),
            strategy_section(strategy, offers_by_green_label(platform_)),
            green_section(
                market_dir,
                first_day,
                ((r.uscc, r.principal_fen) for r in simulation.receipts.values()),
            ),
            monitoring,
            prosperity_section(market_dir, settings.prosperity_folder, progress),
            federated_section(market_dir, first_day, workdir / "federated", progress),
            advisor_section(
                platform_,
                ports,
                market_dir,
                [a.uscc for a in reversed(applications)],
                workdir / "advisor",
            ),
            holdings_section(platform_),
            charts_section(simulation, defaulted, workdir / "charts"),
        ]
    )
    summary.seconds = {
        "market": generated,
        "training": trained,
        "loading": loaded,
        "behaviour model": behaviour,
        "pre-approval models": prospect_training,
        **summary.seconds,
        "pre-approval runs (in origination)": active_credit.seconds["monthly runs"],
        "supply chain (in publication)": vouchers.seconds,
        "partners (in publication)": partners.seconds,
        "term loans (in publication)": term_loans.results.seconds,
        "total": time.perf_counter() - started,
    }
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
    logger.info("time: %s", timing)
    run.summary, run.ports = summary, ports
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
                ("log:", "standard error" if run.log_file is None else str(run.log_file)),
                ("time:", timing),
            ],
        ),
        Section(
            "Models (out-of-sample figures)",
            ("", ""),
            rows=[*model_rows, ("behavioural model:", behaviour_line)],
        ),
        originations_section(simulation),
    ]
    return run
