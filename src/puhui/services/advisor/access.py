"""Who may read an enterprise's health report, and on which consented data it is built.

The owner reads the report of an enterprise they applied for; staff who may read
applications read any enterprise's, read only; partners read none. The data is pulled only
under a consent the owner gave that is active now and names the scope: tax returns, the
settlement account and the registration are needed (the report is refused, naming what is
missing, without them); the credit bureau is used when consented, else left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from puhui.decision.engine import LimitRule
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.identity import validate_uscc
from puhui.domain.lending.account import LoanStatus
from puhui.domain.origination.application import Application
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.errors import ConsentRequired, Forbidden
from puhui.services.advisor.limits import LimitAnalysis, analyse_limit
from puhui.services.advisor.ports import PeerBenchmarks, ReportRenderer
from puhui.services.advisor.report import (
    HealthReport,
    Reminder,
    ReportInputs,
    build_report,
    month_add,
)
from puhui.services.origination.context import Origination
from puhui.services.security.permissions import Permission, Principal, Role, require
from puhui.services.servicing.ports import ServicingUnitOfWork

REQUIRED_SCOPES = (DataScope.REGISTRATION, DataScope.TAX, DataScope.SETTLEMENT)
OPTIONAL_SCOPES = (DataScope.BUREAU,)
TABLES = "tables"
REPAYMENT_WINDOW_DAYS = 31
"""Repayments falling due within this many days of today are reminded."""
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class StrategyLimit:
    """The limit rule of the strategy in force, with its label (``name@version``)."""

    rule: LimitRule
    label: str
    grades: tuple[str, ...]


@dataclass
class Advisor:
    """The advisor's collaborators; built once by the composition root."""

    origination: Origination
    peers: PeerBenchmarks | None = None
    strategy: Callable[[], StrategyLimit] | None = None
    servicing_uow: Callable[[], ServicingUnitOfWork] | None = None
    pdf: ReportRenderer | None = None
    """Draws the report as a PDF in Chinese (None: no PDFs on this server)."""


def report_pdf(advisor: Advisor, *, actor: Principal, uscc: str, as_of: str) -> bytes:
    """The report as a PDF, under the same checks as ``health_report``."""
    if advisor.pdf is None:
        raise NotFound("PDF reports are not available on this server")
    return advisor.pdf.render(health_report(advisor, actor=actor, uscc=uscc, as_of=as_of))


def parse_month(text: str) -> date:
    """``YYYY-MM`` to the month's first day; a clear error otherwise."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(
            f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-06",
            details={"field": "as_of"},
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def _visible(actor: Principal, applications: list[Application]) -> list[Application]:
    if actor.is_staff:
        return applications
    if actor.role is Role.APPLICANT:
        return [a for a in applications if a.applicant_user_id == actor.user_id]
    return []


def _verified(tax: pl.DataFrame, column: str) -> int | None:
    """The strategy's verified monthly basis: the twelve latest filings' total over 12
    (``risk.enterprise_inputs``: a short history counts its missing months as nil)."""
    if tax.height == 0:
        return None
    total = tax.sort("month").tail(12).get_column(column).sum()
    return int(total) // 12


def _repayments(advisor: Advisor, uscc: str, today: date) -> tuple[Reminder, ...]:
    if advisor.servicing_uow is None:
        return ()
    found: list[Reminder] = []
    horizon = today + timedelta(days=REPAYMENT_WINDOW_DAYS)
    with advisor.servicing_uow() as uow:
        for line in uow.lines.page(enterprise_id=uscc, limit=20):
            for loan in uow.loans.of_line(line.line_id):
                if loan.status is not LoanStatus.ACTIVE:
                    continue
                if loan.overdue_principal_fen > 0:
                    found.append(
                        Reminder(
                            "repayment_overdue",
                            amount_fen=loan.overdue_principal_fen,
                            reference=str(loan.loan_id),
                        )
                    )
                due = loan.next_due_date
                if due is not None and today <= due <= horizon:
                    found.append(
                        Reminder(
                            "repayment_due",
                            due=due,
                            amount_fen=loan.period_principal_fen + loan.period_interest_fen,
                            reference=str(loan.loan_id),
                        )
                    )
    return tuple(found)


def _limit(
    advisor: Advisor,
    tax: pl.DataFrame,
    application: Application,
    record: DecisionRecord | None,
) -> LimitAnalysis | None:
    if advisor.strategy is None:
        return None
    strategy = advisor.strategy()
    rule = strategy.rule
    inputs: Mapping[str, Any] = record.evidence.inputs if record is not None else {}
    env: dict[str, Any] = {
        "verified_monthly_sales_fen": _verified(tax, "declared_sales_fen"),
        "verified_monthly_tax_fen": _verified(tax, "vat_payable_fen"),
        rule.requested: application.requested_amount_fen,
    }
    for name in (rule.need, rule.headroom):
        if name is not None and inputs.get(name) is not None:
            env[name] = inputs[name]
    return analyse_limit(
        rule,
        env,
        record.grade if record is not None else None,
        strategy=strategy.label,
        grade_order=strategy.grades,
    )


def health_report(advisor: Advisor, *, actor: Principal, uscc: str, as_of: str) -> HealthReport:
    """The report of ``uscc`` for the month ``as_of`` (``YYYY-MM``), from consented data."""
    require(actor, Permission.APPLICATION_READ)
    if actor.role is Role.PARTNER:
        raise Forbidden("a partner does not read an enterprise's health report")
    uscc = validate_uscc(uscc.strip().upper())
    month = parse_month(as_of)
    origination = advisor.origination
    today = origination.clock.today()
    latest = month_add(date(today.year, today.month, 1), -1)
    if month > latest:
        raise InvalidInput(
            f"{as_of} is not a complete month yet: the latest is {latest:%Y-%m}",
            details={"field": "as_of", "latest": f"{latest:%Y-%m}"},
        )
    now = origination.clock.now()
    with origination.reading() as uow:
        applications = _visible(
            actor,
            uow.applications.earlier_of_enterprise(uscc, before=now + timedelta(seconds=1)),
        )
        if not applications:
            raise NotFound(
                "no application of this enterprise that you may see",
                details={"uscc": uscc},
            )
        scopes: set[DataScope] = set()
        for application in applications:
            for consent in uow.consents.for_application(application.application_id):
                if consent.is_active(now):
                    scopes |= consent.scopes
        record = None
        for application in applications:  # newest first
            record = uow.decisions.get(application.application_id)
            if record is not None:
                break
    missing = [s.value for s in REQUIRED_SCOPES if s not in scopes]
    if missing:
        raise ConsentRequired(
            "the health report needs the owner's active consent to read " + ", ".join(missing),
            details={"missing_scopes": missing},
        )
    cutoff = month_add(month, 1)
    used = [*REQUIRED_SCOPES, *(s for s in OPTIONAL_SCOPES if s in scopes)]
    pulled = {s: origination.data_source.pull(uscc, s, as_of=cutoff) for s in used}

    def table(scope: DataScope, name: str) -> pl.DataFrame | None:
        frame = pulled.get(scope, {}).get(TABLES, {}).get(name)
        return frame if isinstance(frame, pl.DataFrame) else None

    enterprises = table(DataScope.REGISTRATION, "enterprises")
    tax = table(DataScope.TAX, "tax_monthly")
    settlement = table(DataScope.SETTLEMENT, "settlement_monthly")
    if enterprises is None or enterprises.height == 0 or tax is None or settlement is None:
        raise NotFound(
            "the data sources hold no records of this enterprise for that month",
            details={"uscc": uscc, "as_of": f"{month:%Y-%m}"},
        )
    registration = enterprises.row(0, named=True)
    cells: Mapping[str, Any] = {}
    counts: Mapping[str, int] = {}
    if advisor.peers is not None:
        answer = advisor.peers.cells(
            registration["industry_group"], registration["size_band"], month
        )
        cells, counts = answer.cells, answer.counts
    return build_report(
        ReportInputs(
            uscc=uscc,
            as_of=month,
            registration=registration,
            tax=tax,
            settlement=settlement,
            bureau=table(DataScope.BUREAU, "bureau"),
            scopes=tuple(s.value for s in used),
            peers=cells,
            peer_counts=counts,
            repayments=_repayments(advisor, uscc, today),
            limit=_limit(advisor, tax, applications[0], record),
            peers_available=advisor.peers is not None,
        )
    )
