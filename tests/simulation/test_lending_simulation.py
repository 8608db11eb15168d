"""End to end: a small market's applications through origination, servicing and end of day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.post_loan import post_loan_cycle
from puhui.bootstrap.wiring import (
    build_origination,
    end_of_day_store,
    model_registry,
    month_publisher,
    origination_ports,
    register_champion,
)
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.errors import LineFrozen
from puhui.domain.lending.schedule import add_months
from puhui.domain.monitoring import AlertStatus, Severity, TaskOutcome, TaskStatus
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.market import store
from puhui.market.generate import generate_market
from puhui.market.oracle import MarketOracle
from puhui.market.params import MarketParams
from puhui.pipelines.borrowing import read_needs
from puhui.pipelines.portfolio_summary import PortfolioSummary
from puhui.pipelines.post_loan import (
    PostLoanCycle,
    post_loan_report,
    train_behaviour_before,
)
from puhui.pipelines.simulation import (
    DEMO_MANAGER,
    LendingSimulation,
    MarketApplication,
    SimulationParts,
    read_applications,
    read_truth,
    simulation_window,
    train_market_model,
)
from puhui.risk.artefact import ModelKind
from puhui.risk.behaviour import BehaviouralModel
from puhui.services import strategies
from puhui.services.monitoring.ports import AlertQuery, RunStatus, TaskQuery
from puhui.services.origination import use_cases as uc
from puhui.services.origination.replay import replay_decision
from puhui.services.security.permissions import SYSTEM
from puhui.services.servicing.lines import draw

ENTERPRISES = 3_000
"""Fewer enterprises give the legacy lender too few bad loans for any model to grade them."""
HISTORY_MONTHS = 24
SIMULATED_MONTHS = 3
REFERRALS_LEFT_DAYS = 14
"""The simulation leaves the referrals of its last two weeks to the approvers (as the demo)."""


@dataclass(frozen=True)
class Market:
    market_dir: Path
    model_dir: Path
    first_day: date
    last_day: date
    behaviour: BehaviouralModel | None


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    root = tmp_path_factory.mktemp("demo")
    params = MarketParams(
        enterprises=ENTERPRISES,
        months=HISTORY_MONTHS + SIMULATED_MONTHS,
        start=date(2023, 1, 1),
        seed=7,
    )
    generate_market(params, root / "market")
    first, last = simulation_window(params.start, params.months, SIMULATED_MONTHS)
    train_market_model(
        root / "market",
        first,
        ModelKind.GBM,
        root / "model",
        trained_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    behaviour = train_behaviour_before(
        root / "market", first, root / "behaviour", trained_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    return Market(root / "market", root / "model", first, last, behaviour.model)


RULE = {
    Severity.HIGH: TaskOutcome.FREEZE,
    Severity.MEDIUM: TaskOutcome.CONTACTED,
    Severity.LOW: TaskOutcome.MONITOR,
}
"""How the demo's manager works a task (docs/monitoring.md, "In the demo")."""

Run = tuple[LendingSimulation, PortfolioSummary, Platform, PostLoanCycle]


class ListedProspects:
    """A hand-written pre-approval: every other enterprise (by USCC) applying in the month."""

    def __init__(self, applications: list[MarketApplication]) -> None:
        self.applying: dict[date, set[str]] = {}
        for app in applications:
            self.applying.setdefault(app.application_date.replace(day=1), set()).add(app.uscc)
        self.asked: list[date] = []
        self.listed: dict[date, list[str]] = {}
        self.told: list[tuple[str, str, date]] = []

    def month_started(self, month: date) -> list[str]:
        self.asked.append(month)
        self.listed[month] = sorted(self.applying.get(month, ()))[::2]
        return self.listed[month]

    def applied(self, uscc: str, application_id: str, on: date) -> None:
        self.told.append((uscc, application_id, on))


@pytest.fixture
def run(market: Market, database_url: str, tmp_path: Path) -> Iterator[Run]:
    clock = FixedClock(datetime.combine(market.first_day, datetime.min.time(), tzinfo=UTC))
    settings = Settings(
        database_url=database_url,
        environment="test",
        market_dir=market.market_dir,
        model_registry_dir=tmp_path / "models",
        _env_file=None,
    )
    platform = build_platform(settings, clock=clock)
    platform.migrate()
    register_champion(
        platform,
        market.model_dir,
        builder="test:modeller",
        approver="test:validator",
        promoter="test:risk",
        at=clock.now(),
    )
    try:
        data_source = MarketDataSource(market.market_dir)
        ports = origination_ports(platform, data_source=data_source)
        cycle = post_loan_cycle(
            platform, market.market_dir, data_source=data_source, model=market.behaviour
        )
        assert ports.wired == ("data_source", "assessor", "line_opener")
        applications = read_applications(market.market_dir, market.first_day, market.last_day)
        simulation = LendingSimulation(
            SimulationParts(
                origination=build_origination(platform, ports),
                servicing=platform.servicing_uow,
                end_of_day=end_of_day_store(platform),
                clock=clock,
                oracle=MarketOracle(market.market_dir),
                publish_month=month_publisher(platform, market.market_dir),
                month_end=cycle,
                referrals_left_from=market.last_day - timedelta(days=REFERRALS_LEFT_DAYS - 1),
                prospects=ListedProspects(applications),
            ),
            applications,
            read_needs(market.market_dir, market.first_day, market.last_day),
        )
        simulation.run(market.first_day, market.last_day)
        summary = simulation.summary(
            market.first_day, market.last_day, read_truth(market.market_dir)
        )
        yield simulation, summary, platform, cycle
    finally:
        platform.close()


@pytest.mark.slow
def test_a_simulated_quarter_keeps_the_books_and_every_promise(run: Run, market: Market) -> None:
    simulation, summary, platform, _ = run
    # Something happened: applications were decided and lines opened and used.
    assert summary.applications > 20
    assert summary.lines_opened > 0
    assert summary.repaid_fen > 0
    assert summary.eod_days == (market.last_day - market.first_day).days + 1
    # The general ledger balances after a quarter of daily accruals, draws and repayments.
    assert summary.trial_balance_fen == 0
    # Days-past-due buckets and the five categories partition the active receipts.
    active = sum(count for count, _ in summary.dpd_buckets.values())
    assert active == sum(count for count, _ in summary.categories.values())
    assert active <= summary.receipts
    assert sum(amount for _, amount in summary.dpd_buckets.values()) == (
        summary.outstanding_principal_fen
    )
    # Every decision is accounted for: each market application has exactly one fate.
    assert len(simulation.booked) == summary.applications
    # Referrals of the last days wait for a person; earlier ones the demo's approver decided.
    waiting = uc.list_applications(
        simulation.parts.origination, actor=SYSTEM, status=ApplicationStatus.REFERRED, limit=500
    )
    left_from = market.last_day - timedelta(days=REFERRALS_LEFT_DAYS - 1)
    assert all(a.created_at.date() >= left_from for a in waiting)
    assert len(waiting) == sum(1 for fate in simulation.booked.values() if fate == "referred")
    # Fraud figures are computed against truth/: caught + missed + existing = all fraud.
    truth = read_truth(market.market_dir)["applications_truth"]
    in_window = {a.application_id for a in simulation.applications}
    fraud = truth.filter(pl.col("is_fraud") & pl.col("application_id").is_in(list(in_window)))
    assert summary.fraud.get("total", 0) == fraud.height
    assert summary.fraud.get("total", 0) == (
        summary.fraud.get("caught", 0)
        + summary.fraud.get("missed_line_opened", 0)
        + summary.fraud.get("existing_customer", 0)
    )
    _every_approved_application_has_its_line(simulation, summary)
    _draws_follow_the_needs(simulation, summary, market)
    _prospects_are_asked_monthly_and_their_applications_marked(simulation, summary, market)
    _every_decision_is_stored_and_replays(simulation, platform)
    # Post-loan (贷后): the month's cycle ran on its first day and its tasks were worked.
    _each_month_is_monitored_and_its_tasks_are_worked(run, market)


def _each_month_is_monitored_and_its_tasks_are_worked(run: Run, market: Market) -> None:
    simulation, _, platform, cycle = run
    # One run on the first day of each simulated month, completed, on the platform's database.
    assert market.behaviour is not None
    assert [m.as_of for m in cycle.months] == [add_months(market.first_day, i) for i in range(3)]
    with platform.monitoring_uow() as uow:
        runs = [uow.monitoring.run(m.as_of) for m in cycle.months]
        alerts = uow.monitoring.alerts(AlertQuery(limit=1_000))
        tasks = uow.monitoring.tasks(TaskQuery(limit=1_000))
    assert all(r is not None and r.status is RunStatus.COMPLETED for r in runs)
    assert runs[-1] is not None
    assert runs[-1].customers_done > 0
    assert alerts, "a quarter of lending raised no alert"
    assert len(tasks) == len(alerts) == sum(m.tasks_created for m in cycle.months)
    # Every task was worked the day it was raised, with the demo's rule for its alert.
    by_alert = {a.alert.alert_id: a.alert for a in alerts}
    for stored in tasks:
        task = stored.task
        assert task.status is TaskStatus.COMPLETED
        assert task.completed_on == task.created_on
        alert = by_alert[task.alert_id]
        expected = (
            TaskOutcome.HAND_TO_COLLECTIONS if "DPD_SERIOUS" in alert.codes else RULE[task.severity]
        )
        if expected is TaskOutcome.HAND_TO_COLLECTIONS:
            assert task.completed_by == "usr_demo_supervisor"
        if task.outcome is TaskOutcome.FREEZE:
            # A freeze is recorded only when a line was still open: it froze something.
            assert stored.action is not None
            assert stored.action["frozen"]
        elif expected is TaskOutcome.FREEZE and task.outcome is TaskOutcome.MONITOR:
            # ... else the customer's lines were all frozen already (and stay so).
            assert _all_frozen(platform, task.customer_id)
        else:
            # The rule's outcome, or monitor when there was nothing to act on.
            assert task.outcome is expected or task.note.startswith("nothing to act on")
        # Then the supervisor closed the alert: a later signal raises a new one.
        assert alert.status is AlertStatus.CLOSED
        assert alert.close_reason == f"task {task.task_id} completed: {task.outcome}"
    assert sum(cycle.outcomes.values()) == len(tasks)
    # A frozen line really refuses the next draw.
    frozen = [
        line
        for stored in tasks
        if stored.action is not None
        for line in stored.action.get("frozen", ())
    ]
    assert len(frozen) == cycle.lines_frozen
    if frozen:
        with pytest.raises(LineFrozen):
            draw(
                platform.servicing_uow,
                CreditLineId(frozen[0]),
                amount_fen=100_00,
                on=market.last_day,
                maturity_date=date(market.last_day.year + 1, 1, 1),
                idempotency_key="test-draw-on-frozen",
                actor="test",
            )
    # The report against the truth: lead times only for defaults the alerts came before.
    report = post_loan_report(
        cycle,
        booked={r.uscc for r in simulation.receipts.values()},
        truth=read_truth(market.market_dir),
        first_day=market.first_day,
        last_day=market.last_day,
    )
    assert report.alerts == len(alerts)
    assert sum(report.alerts_by_severity.values()) == len(alerts)
    assert report.alerted == len({a.alert.customer_id for a in alerts})
    assert 0 <= report.alerted_before_default <= report.defaulted <= report.booked
    assert report.alerted_defaulted <= report.booked_defaulted
    if report.median_lead_months is not None:
        assert 1 <= report.median_lead_months <= 2


def _draws_follow_the_needs(
    simulation: LendingSimulation, summary: PortfolioSummary, market: Market
) -> None:
    """Each draw for a need is in the need's month and no larger; the month's draws add up."""
    needs = {
        need.need_id: need
        for by_enterprise in read_needs(
            market.market_dir, market.first_day, market.last_day
        ).by_enterprise.values()
        for need in by_enterprise
    }
    receipts = list(simulation.receipts.values())
    for_needs = [r for r in receipts if r.need_id is not None]
    assert len(for_needs) > summary.lines_opened // 2  # most lines are opened for a need
    for receipt in for_needs:
        need = needs[receipt.need_id or ""]
        assert (receipt.uscc, receipt.drawn_on.replace(day=1)) == (need.uscc, need.month)
        assert 0 < receipt.principal_fen <= need.amount_fen
    assert summary.drawn_fen < summary.limits_fen  # not the whole limit on the first day
    assert [m.month.month for m in summary.utilisation] == [
        add_months(market.first_day, i).month for i in range(SIMULATED_MONTHS)
    ]
    assert sum(m.draws for m in summary.utilisation) == len(receipts)
    assert sum(m.draws_fen for m in summary.utilisation) == summary.drawn_fen
    assert all(0 <= m.drawn_fen <= m.limit_fen for m in summary.utilisation)
    assert summary.utilisation[-1].drawn_fen <= summary.outstanding_principal_fen
    assert summary.overall_utilisation is not None
    assert 0 < summary.overall_utilisation < 1


def _prospects_are_asked_monthly_and_their_applications_marked(
    simulation: LendingSimulation, summary: PortfolioSummary, market: Market
) -> None:
    channel = simulation.parts.prospects
    assert isinstance(channel, ListedProspects)
    months = [add_months(market.first_day, i) for i in range(SIMULATED_MONTHS)]
    assert channel.asked == months
    assert [(m.month, m.prospects) for m in summary.prospects] == [
        (month, len(channel.listed[month])) for month in months
    ]
    # Marked: the applications of listed enterprises that reached the platform, each told
    # to the channel with the platform's application id, on its day.
    marked = [
        app
        for app in simulation.applications
        if app.uscc in channel.listed[app.application_date.replace(day=1)]
        and simulation.booked[app.application_id] not in ("existing_customer",)
        and not simulation.booked[app.application_id].startswith("refused:")
    ]
    assert marked
    assert {a.application_id for a in marked} == (
        simulation.prospects.applications if simulation.prospects else set()
    )
    assert [(uscc, on) for uscc, _, on in channel.told] == [
        (a.uscc, a.application_date) for a in marked
    ]
    with simulation.parts.origination.reading() as uow:
        stored = [uow.applications.get(application_id) for _, application_id, _ in channel.told]
    assert [a.applicant.uscc if a else None for a in stored] == [a.uscc for a in marked]
    assert sum(m.applied for m in summary.prospects) == len(marked)
    assert sum(m.lines_opened for m in summary.prospects) == sum(
        simulation.booked[a.application_id] == "line" for a in marked
    )


def _all_frozen(platform: Platform, customer_id: str) -> bool:
    with platform.monitoring_uow() as uow:
        line_ids = uow.monitoring.customer_lines(customer_id)
    with platform.servicing_uow() as uow:
        lines = [uow.lines.get(CreditLineId(line_id)) for line_id in line_ids]
    return bool(lines) and all(line is not None and line.status.value == "frozen" for line in lines)


def _every_decision_is_stored_and_replays(
    simulation: LendingSimulation, platform: Platform
) -> None:
    """Each automatic decision kept its inputs and versions, and replays to the same result."""
    origination = simulation.parts.origination
    decided = [
        application
        for status in (ApplicationStatus.LINE_OPENED, ApplicationStatus.DECLINED)
        for application in uc_list(simulation, status)
        if application.reviewed_by is None
    ]
    assert decided
    registry = model_registry(platform)
    with origination.reading() as uow:
        records = [uow.decisions.get(a.application_id) for a in decided]
    assert all(record is not None for record in records)
    stored = [record for record in records if record is not None]
    # The month's features were published to the store before the month's applications.
    assert {record.evidence.feature_source for record in stored} == {"store"}
    assert {record.evidence.strategy_label for record in stored} == {"mse-online-credit@1"}
    champion = registry.champion("mse_pd")
    assert champion is not None
    assert {record.evidence.model_version for record in stored} == {champion.version}
    for record in stored[:40]:
        result = replay_decision(
            origination.reading,
            load_version=lambda name, version: strategies.get_version(
                platform.strategy_reader, name, version
            ),
            models=registry,
            application_id=record.application_id,
        )
        assert result.matches, result.first_difference


def _every_approved_application_has_its_line(
    simulation: LendingSimulation, summary: PortfolioSummary
) -> None:
    opened = uc_list(simulation, ApplicationStatus.LINE_OPENED)
    # Accepted offers all reached servicing; no application waits between the two steps.
    assert uc_list(simulation, ApplicationStatus.ACCEPTED) == []
    assert uc_list(simulation, ApplicationStatus.OFFERED) == []
    assert len(opened) == summary.lines_opened
    with simulation.parts.servicing() as uow:
        for application in opened:
            assert application.credit_line_id is not None
            line = uow.lines.get(CreditLineId(application.credit_line_id))
            assert line is not None
            assert line.enterprise_id == application.applicant.uscc
            assert application.assessment is not None
            assert line.limit_fen == application.assessment.limit_fen


def uc_list(simulation: LendingSimulation, status: ApplicationStatus) -> list[Application]:
    found: list[Application] = []
    offset = 0
    while True:
        page = uc.list_applications(
            simulation.parts.origination,
            actor=DEMO_MANAGER,
            status=status,
            limit=500,
            offset=offset,
        )
        found.extend(page)
        if len(page) < 500:
            return found
        offset += 500


def test_the_truth_marks_an_enterprises_own_applications_on_pumped_data(market: Market) -> None:
    truth = read_truth(market.market_dir)["applications_truth"]
    inflated = truth.filter(pl.col("on_inflated_data"))
    assert inflated.height > 0
    # Only genuine applications (the intermediary's own is packaged, not "on inflated data").
    assert not inflated.select(pl.col("is_fraud") | pl.col("is_packaged")).to_series().any()
    # Each from an enterprise that was packaged, within 3 months of its packaging month.
    apps = store.read(market.market_dir, "applications").select("application_id", "uscc", "month")
    packaged = store.read(market.market_dir, "enterprises_truth").select("uscc", "packaging_month")
    rows = inflated.join(apps, on="application_id").join(packaged, on="uscc")
    assert rows.height == inflated.height
    months_apart = (
        (rows["month"].dt.year() - rows["packaging_month"].dt.year()) * 12
        + rows["month"].dt.month()
        - rows["packaging_month"].dt.month()
    )
    assert months_apart.abs().max() <= 3  # type: ignore[operator]
