"""The lending simulation: a market's applications through origination, servicing and end of day.

Each simulated day: the market's applications of the day go through the origination use
cases (the ones the API calls: create, consent, assess, review, accept), an accepted offer
opens a line; the enterprise draws on it when and as much as its true needs call for, and on
the settlement day every receipt is repaid as far as the enterprise's cash allows (the
borrowers, ``borrowing``); then the end of day closes the date. Only the borrowers (the
world's side: needs, cash) and the final evaluation read ``truth/``; the models and the
strategy see the public tables.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import polars as pl

from puhui.domain.clock import BANK_ZONE, FixedClock
from puhui.domain.errors import InvalidInput, PuhuiError
from puhui.domain.lending.schedule import add_months
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.consent import DataScope
from puhui.domain.progress import NO_PROGRESS, Progress
from puhui.market import store
from puhui.market.oracle import MarketOracle
from puhui.pipelines.borrowing import (
    Borrowers,
    NeedBook,
    SimulatedReceipt,
)
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.pipelines.eod import run_end_of_day
from puhui.pipelines.portfolio_history import PortfolioHistory
from puhui.pipelines.portfolio_summary import PortfolioSummary, portfolio_summary
from puhui.pipelines.prospect_channel import ProspectChannel, ProspectTally
from puhui.risk.artefact import ModelKind
from puhui.risk.market_training import train_on_market
from puhui.risk.training import OUT_OF_SAMPLE, out_of_sample_label
from puhui.services.origination import use_cases as uc
from puhui.services.origination.use_cases import NewApplication, Origination
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.end_of_day import EndOfDayStore
from puhui.services.servicing.ports import ServicingUnitOfWork

logger = logging.getLogger(__name__)

REPAYMENT_DAY = 21
"""Borrowers pay the day after the settlement day (the 20th): the day billed interest is due."""
DEMO_APPROVER = Principal(user_id="usr_demo_approver", role=Role.APPROVER)
"""The credit approver who decides referrals in the simulation (never the account manager)."""
DEMO_MANAGER = Principal(user_id="usr_demo_manager", role=Role.ACCOUNT_MANAGER)
"""The account manager who keys in the market's applications and asks for the decision."""
DEMO_SUPERVISOR = Principal(user_id="usr_demo_supervisor", role=Role.SUPERVISOR)
"""The manager's supervisor: records the post-loan outcomes a manager may not (collections)."""


@dataclass(frozen=True)
class MarketApplication:
    """One application the market sends, as the bank receives it (no truth attached)."""

    application_id: str
    uscc: str
    application_date: date
    id_number: str
    phone: str
    device_id: str | None
    ip_address: str | None
    address: str | None
    requested_amount_fen: int
    requested_term_months: int
    channel: str = "qr"
    """How the market says the enterprise came: ``qr``, ``branch``, ``partner`` or
    ``intermediary`` (an applicant's own doing, invisible to the bank as such)."""


@dataclass
class SimulationParts:
    """What the simulation drives; the composition root builds them (ports, units, stores)."""

    origination: Origination
    servicing: Callable[[], ServicingUnitOfWork]
    end_of_day: EndOfDayStore
    clock: FixedClock
    oracle: MarketOracle
    publish_month: Callable[[date], object] | None = None
    """Called on the first day of each month (and of the run) when the data sources publish
    the month before: the composition root builds the feature store for it."""
    month_end: Callable[[date], object] | None = None
    """Called on the first day of each month after that day's end of day, with the day: the
    month's post-loan cycle (monitoring reads the month just ended; see ``post_loan``)."""
    referrals_left_from: date | None = None
    """Referrals arriving on or after this day are left in the approvers' queue, not decided
    by the simulation's approver: the demo's console then has real referrals to review."""
    prospects: ProspectChannel | None = None
    """Active credit (主动授信): asked on the first day of each month (after ``publish_month``)
    which enterprises are pre-approved, told of each application one of them makes."""
    brought_by: Callable[[MarketApplication], Principal | None] | None = None
    """The partner that brings an application to the bank (its principal: the application then
    carries the partner's id, as one sent through the partner API would), or None when the
    application comes through the bank's own channels."""
    channel: CollectingChannel | None = None
    """The collecting channel the borrowers repay through: its own record of each repayment,
    for the day's reconciliation with the books."""


def _at(day: date) -> datetime:
    """Ten in the morning in the bank's zone, as UTC: when the day's business happens."""
    return datetime.combine(day, clock_time(10, 0), tzinfo=BANK_ZONE).astimezone(UTC)


def _move(clock: FixedClock, to: datetime) -> None:
    delta = to - clock.now()
    if delta < timedelta(0):
        raise InvalidInput("the simulation clock only moves forward")
    clock.advance(delta)


def read_applications(market_dir: Path, first_day: date, last_day: date) -> list[MarketApplication]:
    """The market's public applications in ``[first_day, last_day]``, with the firm's address."""
    apps = (
        store.scan(market_dir, "applications")
        .filter(pl.col("application_date").is_between(first_day, last_day))
        .join(
            store.scan(market_dir, "enterprises").select("uscc", "address"),
            on="uscc",
            how="left",
        )
        .sort("application_date", "application_id")
        .collect()
    )
    return [
        MarketApplication(
            application_id=r["application_id"],
            uscc=r["uscc"],
            application_date=r["application_date"],
            id_number=r["legal_rep_id_number"],
            phone=r["phone"],
            device_id=r["device_id"],
            ip_address=r["ip_address"],
            address=r["address"],
            requested_amount_fen=int(r["requested_amount_fen"]),
            requested_term_months=int(r["requested_term_months"]),
            channel=r["channel"],
        )
        for r in apps.iter_rows(named=True)
    ]


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class LendingSimulation:
    """Runs the simulated months and keeps what the summary needs (ids, never truth)."""

    def __init__(
        self, parts: SimulationParts, applications: list[MarketApplication], needs: NeedBook
    ) -> None:
        self.parts = parts
        self.applications = applications
        self.borrowers = Borrowers(parts.servicing, parts.oracle, needs, parts.channel)
        """The enterprises holding lines: their draws and repayments (the world's side)."""
        self.prospects = None if parts.prospects is None else ProspectTally(parts.prospects)
        self.outcomes: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.repeat_customers = 0
        self.limits_fen = 0
        self.booked: dict[str, str] = {}
        """Market application id -> platform outcome ('line', 'declined', 'referred', ...)."""
        self.screened: dict[str, tuple[str, ...]] = {}
        """Market application id -> the reasons of its automatic assessment."""
        self.eod_days = 0
        self.seconds: dict[str, float] = {
            "origination": 0.0,
            "draws": 0.0,
            "repayments": 0.0,
            "end_of_day": 0.0,
        }
        self.history = PortfolioHistory()
        """The receipts still owing at each month end (the demo's charts)."""

    @property
    def receipts(self) -> dict[str, SimulatedReceipt]:
        return self.borrowers.receipts

    @property
    def lines(self) -> dict[str, str]:
        """USCC -> credit line id."""
        return {uscc: held.line_id for uscc, held in self.borrowers.lines.items()}

    # --- origination -------------------------------------------------------------------

    def _originate(self, app: MarketApplication) -> None:
        o = self.parts.origination
        if app.uscc in self.borrowers.lines:
            self.repeat_customers += 1
            self.booked[app.application_id] = "existing_customer"
            return
        partner = None if self.parts.brought_by is None else self.parts.brought_by(app)
        try:
            created = uc.create_application(
                o,
                actor=DEMO_MANAGER if partner is None else partner,
                request=NewApplication(
                    uscc=app.uscc,
                    id_number=app.id_number,
                    phone=app.phone,
                    requested_amount_fen=app.requested_amount_fen,
                    requested_term_months=app.requested_term_months,
                    device_id=app.device_id,
                    ip_address=app.ip_address,
                    address=app.address,
                ),
                idempotency_key=f"market-{app.application_id}",
            )
        except PuhuiError as exc:
            self.refused[exc.code] += 1
            self.booked[app.application_id] = f"refused:{exc.code}"
            return
        owner = Principal(user_id=created.applicant_user_id or "", role=Role.APPLICANT)
        app_id = created.application_id
        if self.prospects is not None:
            self.prospects.applied(app.uscc, app.application_id, app_id, app.application_date)
        uc.give_consent(
            o,
            actor=owner,
            application_id=app_id,
            scopes=tuple(DataScope),
            purpose="小微企业线上信用贷申请 / online MSE credit application",
        )
        view = uc.assess_application(o, actor=DEMO_MANAGER, application_id=app_id)
        assessment = view.application.assessment
        self.outcomes[view.application.status.value] += 1
        self.screened[app.application_id] = () if assessment is None else assessment.reasons
        if view.application.status is ApplicationStatus.REFERRED and assessment is not None:
            left_from = self.parts.referrals_left_from
            if left_from is not None and self.parts.clock.today() >= left_from:
                self.booked[app.application_id] = "referred"
                return
            view = self._review(app_id, assessment.reasons, assessment.limit_fen is not None)
        if view.application.status is not ApplicationStatus.OFFERED:
            self.booked[app.application_id] = view.application.status.value
            return
        accepted = uc.accept_offer(o, actor=owner, application_id=app_id)
        line_id = accepted.application.credit_line_id
        offer = accepted.offer
        if line_id is None or offer is None:
            self.booked[app.application_id] = "accepted_without_line"
            return
        self.limits_fen += offer.limit_fen
        self.booked[app.application_id] = "line"
        if self.prospects is not None:
            self.prospects.line_opened(app.application_id)
        self._draw_at_opening(app, line_id, offer.term_months, accepted)

    def _review(
        self, app_id: str, reasons: tuple[str, ...], has_proposal: bool
    ) -> uc.ApplicationView:
        """The demo approver: approves a proposal without anti-fraud hits, declines the rest."""
        suspicious = any(code.startswith("AF") for code in reasons)
        approve = has_proposal and not suspicious
        note = (
            "审批通过：无反欺诈命中 / approved: no anti-fraud hit"
            if approve
            else "拒绝：反欺诈命中或无方案 / declined: anti-fraud hit or no proposal"
        )
        return uc.review_application(
            self.parts.origination,
            actor=DEMO_APPROVER,
            application_id=app_id,
            approve=approve,
            note=note,
        )

    def _draw_at_opening(
        self, app: MarketApplication, line_id: str, offer_term_months: int, view: uc.ApplicationView
    ) -> None:
        assessment = view.application.assessment
        self.borrowers.line_opened(
            app.uscc,
            line_id,
            on=self.parts.clock.today(),
            application_id=app.application_id,
            requested_fen=app.requested_amount_fen,
            term_months=offer_term_months,
            pd=None if assessment is None else assessment.pd,
        )

    # --- the run -----------------------------------------------------------------------

    def run(self, first_day: date, last_day: date, progress: Progress = NO_PROGRESS) -> None:
        by_day: dict[date, list[MarketApplication]] = {}
        for app in self.applications:
            by_day.setdefault(app.application_date, []).append(app)
        clock = self.parts.clock
        progress.start((last_day - first_day).days + 1, "lending, day by day")
        for day in _days(first_day, last_day):
            progress.stage(day.isoformat())
            _move(clock, _at(day))
            started = time.perf_counter()
            if self.parts.publish_month is not None and (day.day == 1 or day == first_day):
                self.parts.publish_month(date(day.year, day.month, 1))
            if self.prospects is not None and (day.day == 1 or day == first_day):
                self.prospects.month_started(date(day.year, day.month, 1))
            for app in by_day.get(day, ()):
                self._originate(app)
            self.seconds["origination"] += time.perf_counter() - started
            started = time.perf_counter()
            self.borrowers.draw_for_needs(day)
            self.seconds["draws"] += time.perf_counter() - started
            started = time.perf_counter()
            self.borrowers.collect(day, maturing_only=day.day != REPAYMENT_DAY)
            self.seconds["repayments"] += time.perf_counter() - started
            started = time.perf_counter()
            run_end_of_day(self.parts.end_of_day, day)
            self.eod_days += 1
            self.seconds["end_of_day"] += time.perf_counter() - started
            if self.parts.month_end is not None and day.day == 1:
                started = time.perf_counter()
                self.parts.month_end(day)
                self.seconds["post_loan"] = (
                    self.seconds.get("post_loan", 0.0) + time.perf_counter() - started
                )
            if (day + timedelta(days=1)).day == 1 or day == last_day:
                self.history.record(day, self.parts.servicing, list(self.borrowers.active))
                self.borrowers.record_month_end(day)
            if day.day == 1 or day == last_day:
                logger.info(
                    "simulated %s: %d lines, %d receipts",
                    day,
                    len(self.borrowers.lines),
                    len(self.receipts),
                )
            progress.advance()

    # --- the summary -------------------------------------------------------------------

    def summary(
        self, first_day: date, last_day: date, truth: Mapping[str, pl.DataFrame]
    ) -> PortfolioSummary:
        return portfolio_summary(self, first_day, last_day, truth)


INFLATED_BEFORE_MONTHS, INFLATED_AFTER_MONTHS = 3, 3
"""An application of a packaged enterprise from 3 months before to 3 after its packaging month
reads pumped settlement months: the market pumps the four months before the packaging month,
and the bank reads the month before an application and the three before that."""


def read_truth(market_dir: Path) -> dict[str, pl.DataFrame]:
    """The hidden truth the final evaluation compares against (never used for decisions).

    ``enterprises_truth``: each enterprise's default month, and whether it is a shell or in a
    fraud ring (the demo's branch lends term loans only to genuine businesses).

    ``applications_truth`` also says which applications rest on inflated data
    (``on_inflated_data``): the enterprise's own applications, not the intermediary's, made
    while the data the bank reads carried an intermediary's pumping (养流水) for it.
    """
    enterprises = store.read(market_dir, "enterprises_truth").select(
        "uscc", "default_month", "packaging_month", "is_shell", "fraud_ring_id"
    )
    month = pl.col("month")
    packaged_at = pl.col("packaging_month")
    applications = (
        store.read(market_dir, "applications_truth")
        .select("application_id", "is_fraud", "is_packaged")
        .join(
            store.read(market_dir, "applications").select("application_id", "uscc", "month"),
            on="application_id",
            how="left",
        )
        .join(enterprises.select("uscc", "packaging_month"), on="uscc", how="left")
        .with_columns(
            (
                ~pl.col("is_packaged")
                & ~pl.col("is_fraud")
                & packaged_at.is_not_null()
                & (month >= packaged_at.dt.offset_by(f"-{INFLATED_BEFORE_MONTHS}mo"))
                & (month <= packaged_at.dt.offset_by(f"{INFLATED_AFTER_MONTHS}mo"))
            )
            .fill_null(False)
            .alias("on_inflated_data")
        )
        .select("application_id", "is_fraud", "is_packaged", "on_inflated_data")
    )
    return {
        "enterprises_truth": enterprises.select(
            "uscc", "default_month", "is_shell", "fraud_ring_id"
        ),
        "applications_truth": applications,
    }


def simulation_window(market_start: date, market_months: int, months: int) -> tuple[date, date]:
    """The last ``months`` of the market: the history before them trains the models."""
    first = add_months(market_start, market_months - months)
    last = add_months(first, months) - timedelta(days=1)
    return first, last


def train_market_model(
    market_dir: Path, as_of: date, kind: ModelKind, out: Path, *, trained_at: datetime
) -> tuple[int, int, float, str]:
    """Train the risk model on the market's history before ``as_of`` (public tables only).

    The path of ``puhui model train-market`` (:func:`train_on_market`): loans whose 12-month
    outcome is known by ``as_of``, their point-in-time features, the window as long as the
    history allows. Returns (loans, bad loans, out-of-sample AUC, how it was measured).
    """
    trained = train_on_market(
        market_dir, as_of, kind, trained_at=trained_at, builder="puhui demo", out=out
    )
    metrics = trained.artefact.metadata.metrics
    return (
        trained.prepared.n_rows,
        int(trained.prepared.target.sum()),
        float(metrics[OUT_OF_SAMPLE]["auc"]),
        out_of_sample_label(metrics) or "",
    )
