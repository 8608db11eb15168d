"""Lending with partners in the demo: a joint-lending bank, a facilitation channel, a guarantee
agency and renewals, worked on the platform's own services (issue #19).

On the window's first day the stage signs and activates a joint-lending agreement (the partner
bank funds ``JOINT_SHARE`` of each loan tied to it), a facilitation agreement (a fee per loan
funded) and a batch guarantee agreement with an agency (``COVERAGE`` of the loss, an annual fee
collected at draw). The simulation has no daily hook, only the month's publication (the first
day of each month), so the stage works there, on the days just closed:

1. the loans of partners' customers are routed to their agreements: the market's
   applications that came through a partner are brought by one of the two partners (by a hash
   of the application, ``brought_by``), so they carry its id; the partner bank records its own
   decision on each of its customers (it declines about 1 in 10 borrowers, by a hash of the
   borrower, ``partner_approves``), then
   the platform's routing links each receipt, dated on its disbursement day, or says why not.
   Every other receipt drawn since the last hook is covered by the guarantee agency or stays
   the bank's alone, by a hash of its borrower, day and amount (deterministic); a guarantee
   cover is dated on the hook day (its fee is posted on an open day), and a receipt matured by
   then is not covered;
2. the partners' daily settlement runs for every day from the last one settled to yesterday;
3. the facilitation fees of the month just ended are paid;
4. the guarantee claims job runs as of yesterday (claims at the agreement's trigger, 90 days
   past due) and each claim raised is paid by the agency;
5. every active loan of the bank's own (tied to no arrangement: renewing a shared loan needs
   the partner's or the agency's consent) maturing within 30 days is offered a renewal
   (无还本续贷) through the loan-changes service, which decides, declines or refuses (a loan
   in arrears). An approved renewal of a receipt moves its principal to a new receipt on the
   same line that day; the simulation is told, so the borrower repays the new receipt from
   then on.

``finish(last_day)`` does the same through the window's last day. Refusals are counted by
their code, never hidden.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from puhui.bootstrap.container import Platform
from puhui.bootstrap.guarantees import guarantee_service
from puhui.bootstrap.loan_changes import loan_changes
from puhui.bootstrap.partners import partner_service
from puhui.domain.errors import PuhuiError
from puhui.domain.guarantees.agreements import FeeMode
from puhui.domain.lending.account import LoanStatus
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)
from puhui.domain.partners.settlement import Difference, Position
from puhui.services.guarantees.ports import ExposureRow
from puhui.services.guarantees.use_cases import AgreementTerms, GuaranteeService
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.partners.use_cases import PartnerService
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.ledger import trial_balance

logger = logging.getLogger(__name__)

JOINT_LENDING_ID = "demo-joint-lending"
FACILITATION_ID = "demo-facilitation"
JOINT_SHARE = Decimal("0.4")
"""The partner bank's share of each loan tied to it (the bank keeps 60 %, above its 30 %)."""
FEE_PER_LOAN_FEN = 200_00
COVERAGE = Decimal("0.8")
GUARANTEE_FEE_RATE = Decimal("0.01")
RENEWAL_WINDOW_DAYS = 30
RENEWAL_TERM_MONTHS = 12
OPERATIONS = "demo:operations"
RISK_OFFICER = "demo:risk-officer"
RENEWAL_DESK = Principal(user_id="usr_demo_manager", role=Role.ACCOUNT_MANAGER)
PARTNER_BANK = Principal(
    user_id="usr_demo_partner_bank", role=Role.PARTNER, partner_id="partner-bank"
)
FACILITATION_CHANNEL = Principal(
    user_id="usr_demo_facilitation", role=Role.PARTNER, partner_id="channel-platform"
)


class Booked(Protocol):
    """A loan the simulation booked (``pipelines.borrowing.SimulatedReceipt``)."""

    @property
    def receipt_id(self) -> str: ...

    @property
    def uscc(self) -> str: ...

    @property
    def principal_fen(self) -> int: ...

    @property
    def drawn_on(self) -> date: ...

    @property
    def maturity(self) -> date: ...


Arrangement = str
JOINT, FACILITATED, GUARANTEED, ALONE = "joint lending", "facilitation", "guarantee", "alone"


def _bucket(key: str) -> int:
    return hashlib.sha256(key.encode()).digest()[0] % 10


def arrangement_of(loan: Booked) -> Arrangement:
    """Which arrangement a loan no partner brought goes to: 3 in 10 guaranteed, the rest the
    bank's alone; by a hash of the borrower, the day and the amount (not the loan's id, which
    is random), so every run of a market ties the same loans."""
    key = f"{loan.uscc}:{loan.drawn_on.isoformat()}:{loan.principal_fen}"
    return GUARANTEED if _bucket(key) < 3 else ALONE


def brought_by(application_id: str, channel: str) -> Principal | None:
    """The partner that brings an application the market says came through a partner: 3 in 5
    the partner bank (joint lending), the rest the facilitation channel; by a hash of the
    market's application id, so every run of a market brings the same ones. None for the bank's
    own channels (QR codes, branches) and for intermediaries, who are not partners."""
    if channel != "partner":
        return None
    return PARTNER_BANK if _bucket(f"brought:{application_id}") < 6 else FACILITATION_CHANNEL


def partner_approves(uscc: str) -> bool:
    """The partner bank's own decision on a customer it brought (its strategy, not ours): it
    declines about 1 in 10 borrowers, by a hash of the enterprise (not the platform's
    application id, which is random), so every run of a market decides alike."""
    return _bucket(f"partner-decision:{uscc}") != 0


@dataclass
class RenewalTally:
    """Renewal offers in the window before maturity and what the service answered."""

    offered: int = 0
    approved: list[tuple[str, str]] = field(default_factory=list)
    """(old loan, new loan) of each approved renewal."""
    declined: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    days_past_due_when_approved: list[int] = field(default_factory=list)
    principal_fen: int = 0
    """Principal moved to new loans by the approved renewals (no money flowed)."""


@dataclass(frozen=True, slots=True)
class PartnersResults:
    """The figures of the run, read back from the platform at ``last_day``."""

    last_day: date
    tied: Counter[str]
    refused: Counter[str]
    joint: Position
    facilitation: Position
    exposure: list[ExposureRow]
    claims: list[tuple[str, int, int]]
    """(loan, days past due when the claim was raised, claim) of each claim."""
    renewals: RenewalTally
    ledger: dict[str, int]
    trial_balance_fen: int
    last_file_day: date
    """The last day through ``last_day`` whose joint-lending settlement file has rows."""
    last_file: str
    last_file_rows: int
    last_file_differences: list[Difference]
    seconds: float

    def credit(self, *codes: str) -> int:
        """The credits of ``codes`` in the ledger (credit balances positive)."""
        return -sum(self.ledger.get(code, 0) for code in codes)


def _ignore_renewal(old: str, new: str, principal_fen: int, on: date, maturity: date) -> None:
    """No simulation to tell (the stage used alone, as in tests)."""


class DemoPartners:
    """Signs the agreements, ties loans, settles and claims each month, offers renewals."""

    def __init__(
        self,
        partners: PartnerService,
        guarantees: GuaranteeService,
        changes: LoanChangeAccess,
        *,
        ledger: Callable[[date], dict[str, int]],
        days_past_due: Callable[[str], int | None],
        assign: Callable[[Booked], Arrangement] = arrangement_of,
    ) -> None:
        self.partners = partners
        self.guarantees = guarantees
        self.changes = changes
        self.ledger = ledger
        self.days_past_due = days_past_due
        self.assign = assign
        self.booked: Callable[[], Mapping[str, Booked]] = dict
        """The simulation's loans; set once the simulation is built."""
        self.renewed: Callable[[str, str, int, date, date], None] = _ignore_renewal
        """Tells the simulation a receipt was renewed: (old, new, principal, drawn on,
        maturity); the borrower then repays the new receipt. Set with ``booked``."""
        self.agency_id = ""
        self.guarantee_agreement_id = ""
        self.tied: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.renewals = RenewalTally()
        self.claims: list[tuple[str, int, int]] = []
        self.seconds = 0.0
        self._seen: set[str] = set()
        self._shared: set[str] = set()
        """Loans under an agreement (a partner's or the agency's): renewed only with consent."""
        self._settled_through: date | None = None
        self._first_day: date | None = None

    def sign(self, first_day: date, last_day: date) -> None:
        """Create and activate the three agreements, valid over the window."""
        started = time.perf_counter()
        self._first_day = first_day
        self._settled_through = first_day - timedelta(days=1)
        valid_to = last_day + timedelta(days=3 * 365)
        for agreement in (
            Agreement(
                agreement_id=JOINT_LENDING_ID,
                partner_id=PARTNER_BANK.partner_id or "",
                partner_name="合作银行 / partner bank (joint lending)",
                kind=AgreementKind.JOINT_LENDING,
                funding_share=JOINT_SHARE,
                approver=Approver.BOTH,
                limits=ConcentrationLimits(max_portfolio_share=Decimal("0.5")),
                fees=FeeTerms(),
                valid_from=first_day,
                valid_to=valid_to,
            ),
            Agreement(
                agreement_id=FACILITATION_ID,
                partner_id=FACILITATION_CHANNEL.partner_id or "",
                partner_name="助贷平台 / facilitation channel",
                kind=AgreementKind.FACILITATION,
                funding_share=Decimal(0),
                approver=Approver.BANK,
                limits=ConcentrationLimits(max_portfolio_share=Decimal("0.5")),
                fees=FeeTerms(per_loan_fen=FEE_PER_LOAN_FEN),
                valid_from=first_day,
                valid_to=valid_to,
            ),
        ):
            self.partners.create_agreement(agreement, actor=RISK_OFFICER)
            self.partners.activate(agreement.agreement_id, actor=RISK_OFFICER)
        agency = self.guarantees.create_agency(
            name="国家融资担保基金 (demo) / national financing guarantee fund",
            uscc="91110000MA01DEMO0X",
            actor=RISK_OFFICER,
        )
        self.agency_id = agency.agency_id
        self.guarantee_agreement_id = self.guarantees.create_agreement(
            AgreementTerms(
                agency_id=agency.agency_id,
                coverage_share=COVERAGE,
                fee_rate=GUARANTEE_FEE_RATE,
                fee_mode=FeeMode.AT_DRAW,
                borrower_cap_fen=10_000_000_00,
                portfolio_cap_fen=10_000_000_000_00,
                valid_from=first_day,
                valid_to=valid_to,
                counter_guarantee_waived=True,
            ),
            actor=RISK_OFFICER,
            key=f"demo-guarantee-{first_day.isoformat()}",
        ).agreement_id
        self.seconds += time.perf_counter() - started

    # -- the monthly hook ------------------------------------------------------------------

    def month_started(self, day: date) -> None:
        """Work the days closed before ``day`` (the first of a month)."""
        started = time.perf_counter()
        self._tie(day)
        self._settle_through(day - timedelta(days=1))
        self._pay_fees(day - timedelta(days=1))
        self._claims(day - timedelta(days=1), pay_on=day)
        self._offer_renewals(day)
        self.seconds += time.perf_counter() - started

    def finish(self, last_day: date) -> None:
        """The window's last day is closed: tie, settle, pay fees and claims through it."""
        started = time.perf_counter()
        self._tie(last_day)
        self._settle_through(last_day)
        self._pay_fees(last_day)
        self._claims(last_day, pay_on=last_day)
        self.seconds += time.perf_counter() - started

    def _route(self, on: date) -> None:
        """The partner bank decides on its customers' loans, then the platform routes them."""
        booked = self.booked()
        for loan in self.partners.awaiting_decisions(JOINT_LENDING_ID, on):
            approve = partner_approves(booked[loan.loan_id].uscc)
            self.partners.record_decision(
                JOINT_LENDING_ID,
                loan.application_id,
                decision="approve" if approve else "decline",
                reason="合作行审批 / the partner bank's own review",
                actor=f"partner:{PARTNER_BANK.partner_id}",
            )
        kinds = {JOINT_LENDING_ID: JOINT, FACILITATION_ID: FACILITATED}
        for report in self.partners.route(on, actor=OPERATIONS):
            kind = kinds.get(report.agreement_id, report.agreement_id)
            for link in report.linked:
                self._seen.add(link.loan_id)
                self._shared.add(link.loan_id)
                self.tied[kind] += 1
            for loan_id, reason in report.not_linked.items():
                self._seen.add(loan_id)  # the bank's alone from now on
                self.refused[f"{kind}: {reason}"] += 1

    def _tie(self, on: date) -> None:
        self._route(on)
        # In booking order: the receipts' ids are random within a millisecond, and the order
        # decides which loans a concentration limit leaves out.
        for loan_id, loan in list(self.booked().items()):
            if loan_id in self._seen or loan.drawn_on > on:
                continue
            self._seen.add(loan_id)
            kind = self.assign(loan)
            try:
                if kind == JOINT:
                    self.partners.link_loan(
                        JOINT_LENDING_ID,
                        loan_id,
                        channel="joint",
                        on=loan.drawn_on,
                        actor=OPERATIONS,
                    )
                elif kind == FACILITATED:
                    self.partners.link_loan(
                        FACILITATION_ID,
                        loan_id,
                        channel="partner",
                        on=loan.drawn_on,
                        actor=OPERATIONS,
                    )
                elif kind == GUARANTEED:
                    if loan.maturity <= on:
                        self.refused["cover: matured before the hook"] += 1
                        continue
                    self.guarantees.cover_loan(
                        loan_id=loan_id,
                        agreement_id=self.guarantee_agreement_id,
                        on=on,
                        actor=OPERATIONS,
                    )
                else:
                    continue
            except PuhuiError as exc:
                self.refused[f"{kind}: {exc.code}"] += 1
                continue
            self._shared.add(loan_id)
            self.tied[kind] += 1

    def _settle_through(self, last: date) -> None:
        day = (self._settled_through or last) + timedelta(days=1)
        while day <= last:
            self.partners.settle(day, actor=OPERATIONS)
            day += timedelta(days=1)
        self._settled_through = max(last, self._settled_through or last)

    def _pay_fees(self, closed: date) -> None:
        month = f"{closed.year:04d}-{closed.month:02d}"
        self.partners.settle_fees(FACILITATION_ID, month=month, actor=OPERATIONS)

    def _claims(self, as_of: date, *, pay_on: date) -> None:
        run = self.guarantees.run_claims(as_of)
        for claim in run.raised:
            self.guarantees.pay_claim(loan_id=claim.loan_id, on=pay_on, actor=OPERATIONS)
            self.claims.append((claim.loan_id, claim.days_past_due, claim.claim_fen))

    def _offer_renewals(self, day: date) -> None:
        horizon = day + timedelta(days=RENEWAL_WINDOW_DAYS)
        # In booking order (see ``_tie``); a copy, as renewals book new receipts.
        for loan_id, loan in list(self.booked().items()):
            # Only the bank's own loans: renewing a shared loan needs its partner's consent.
            # A renewal's new receipt is the bank's alone, as the loan it replaced.
            if not day < loan.maturity <= horizon:
                continue
            if loan_id in self._shared or loan_id not in self._seen:
                continue
            dpd = self.days_past_due(loan_id)
            if dpd is None:  # repaid and closed: nothing to renew
                continue
            self.renewals.offered += 1
            try:
                result = self.changes.renew(
                    RENEWAL_DESK,
                    loan_id=loan_id,
                    term_months=RENEWAL_TERM_MONTHS,
                    reason="续贷：经营正常、无逾期 / renewal: in good standing",
                    idempotency_key=f"demo-renew-{loan_id}",
                    on=day,
                )
            except PuhuiError as exc:
                reason = exc.details.get("reason")
                self.renewals.refused[f"{exc.code}/{reason}" if reason else exc.code] += 1
                continue
            if result.decision == "approved" and result.new_loan_id is not None:
                self.renewals.approved.append((loan_id, result.new_loan_id))
                self.renewals.days_past_due_when_approved.append(dpd)
                self.renewals.principal_fen += result.principal_fen
                self._seen.add(result.new_loan_id)
                self.renewed(
                    loan_id,
                    result.new_loan_id,
                    result.principal_fen,
                    date.fromisoformat(result.starts_on or day.isoformat()),
                    date.fromisoformat(result.maturity_date or day.isoformat()),
                )
            else:
                for reason in result.reasons.split(",") if result.reasons else ("declined",):
                    self.renewals.declined[reason] += 1

    # -- the results -----------------------------------------------------------------------

    def results(self, last_day: date) -> PartnersResults:
        ledger = self.ledger(last_day)
        # The window's last day may have moved nothing: look back to the last day that did.
        file_day, first = last_day, self._first_day or last_day
        last_file = self.partners.settlement_file(JOINT_LENDING_ID, file_day)
        while len(last_file.strip().splitlines()) < 2 and file_day > first:
            file_day -= timedelta(days=1)
            last_file = self.partners.settlement_file(JOINT_LENDING_ID, file_day)
        rows = max(0, len(last_file.strip().splitlines()) - 1)
        return PartnersResults(
            last_day=last_day,
            tied=Counter(self.tied),
            refused=Counter(self.refused),
            joint=self.partners.position(JOINT_LENDING_ID, through=last_day),
            facilitation=self.partners.position(FACILITATION_ID, through=last_day),
            exposure=self.guarantees.exposure(),
            claims=list(self.claims),
            renewals=self.renewals,
            ledger=ledger,
            trial_balance_fen=sum(ledger.values()),
            last_file_day=file_day,
            last_file=last_file,
            last_file_rows=rows,
            # The file as the partner would send it back: it must reconcile to the fen.
            last_file_differences=self.partners.reconcile(JOINT_LENDING_ID, file_day, last_file),
            seconds=self.seconds,
        )


def demo_partners(platform: Platform) -> DemoPartners:
    """The stage on the platform's partner, guarantee and loan-changes services."""

    def ledger(as_of: date) -> dict[str, int]:
        balance = trial_balance(platform.servicing_uow, as_of=as_of)
        return {account.code: amount for account, amount in balance.balances_fen.items()}

    def days_past_due(loan_id: str) -> int | None:
        with platform.servicing_uow() as uow:
            loan = uow.loans.get(loan_id)
        if loan is None or loan.status is not LoanStatus.ACTIVE:
            return None
        return loan.days_past_due

    return DemoPartners(
        partner_service(platform),
        guarantee_service(platform),
        loan_changes(platform),
        ledger=ledger,
        days_past_due=days_past_due,
    )
