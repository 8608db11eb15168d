"""Partner use cases: agreements, loans tied to them, decisions, daily settlement, files.

Every write is one transaction with its audit event; the partner's shares are computed after
the fact from each loan's own journal entries, so no servicing code path changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidInput
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Approver,
)
from puhui.domain.partners.errors import (
    AgreementNotActive,
    ConcentrationLimitBreached,
    UnknownAgreement,
)
from puhui.domain.partners.settlement import (
    Component,
    Difference,
    Position,
    SettlementRow,
    loan_movements,
    parse_partner_file,
    position,
    reconcile,
    render_file,
    settle_loan,
    settlement_entry,
)
from puhui.domain.partners.shares import split
from puhui.services.audit import record
from puhui.services.partners.ports import (
    AgreementExists,
    LoanAlreadyLinked,
    LoanLink,
    LoanNotFound,
    PartnerDecision,
    PartnerUnitOfWork,
    RoutableLoan,
)
from puhui.services.servicing.idempotency import check_key, earlier_request, request_digest
from puhui.services.servicing.ports import StoredRequest

DECISIONS = ("approve", "decline")
KEY_PREFIX = "partners:"
"""The request log is shared with servicing: a partner request's key is kept under this prefix."""


@dataclass(slots=True)
class _Exposure:
    """What a partner's concentration limits are checked on, read once per unit of work."""

    partner_fen: int
    """Principal outstanding of the partner's linked loans, plus what this work linked."""
    book_fen: int
    """Principal outstanding of the whole book (the loans linked here are already in it)."""

    @classmethod
    def read(cls, uow: PartnerUnitOfWork, partner_id: str) -> _Exposure:
        return cls(
            uow.partners.partner_outstanding_fen(partner_id), uow.partners.book_outstanding_fen()
        )


class DecisionAlreadyRecorded(Conflict):
    """The partner already decided this application differently; decisions are final."""

    code = "decision_already_recorded"


@dataclass(frozen=True, slots=True)
class SettlementReport:
    agreement_id: str
    settled_on: dt.date
    rows: list[SettlementRow]
    entries_posted: int
    replayed: bool = False


@dataclass(slots=True)
class RoutingReport:
    """What routing did under one agreement: the loans linked, the others and why not."""

    agreement_id: str
    on: dt.date
    linked: list[LoanLink] = field(default_factory=list)
    not_linked: dict[str, str] = field(default_factory=dict)
    """Loan id -> ``awaiting_partner_decision``, ``partner_declined``, ``before_agreement``,
    ``settled_before_routing`` or ``concentration_limit_breached``."""


@dataclass(frozen=True, slots=True)
class FeeSettlement:
    agreement_id: str
    month: str
    amount_fen: int
    entry_key: str | None
    replayed: bool = False


@dataclass(slots=True)
class PartnerService:
    units: Callable[[], PartnerUnitOfWork]
    clock: Clock

    # -- agreements ------------------------------------------------------------------------

    def create_agreement(
        self, agreement: Agreement, *, actor: str, key: str | None = None
    ) -> Agreement:
        with self.units() as uow:
            _claim(uow, key, "create_agreement", agreement_payload(agreement))
            existing = uow.partners.agreement(agreement.agreement_id)
            if existing is not None:
                if replace(existing, status=AgreementStatus.DRAFT) == agreement:
                    return existing  # the same agreement sent again: a retry
                raise AgreementExists(
                    f"agreement {agreement.agreement_id} already exists with other terms"
                )
            draft = agreement if agreement.status is AgreementStatus.DRAFT else None
            if draft is None:
                raise InvalidInput("an agreement is created as a draft, then activated")
            uow.partners.add_agreement(draft, created_by=actor)
            record(
                uow,
                actor=actor,
                action="partner_agreement.created",
                entity="partner_agreement",
                entity_id=draft.agreement_id,
                payload=agreement_payload(draft),
            )
            uow.commit()
        return draft

    def activate(self, agreement_id: str, *, actor: str, key: str | None = None) -> Agreement:
        with self.units() as uow:
            _claim(uow, key, "activate", {"agreement_id": agreement_id})
            agreement = self._locked(uow, agreement_id)
            if agreement.status is AgreementStatus.ACTIVE:
                return agreement
            # The partner's loans under its other agreements already count against the new
            # agreement's limits: an agreement that starts in breach is refused.
            exposure = _Exposure.read(uow, agreement.partner_id)
            agreement.limits.check(
                partner_outstanding_fen=exposure.partner_fen, portfolio_fen=exposure.book_fen
            )
            active = agreement.activate()
            uow.partners.save_agreement(active)
            record(
                uow,
                actor=actor,
                action="partner_agreement.activated",
                entity="partner_agreement",
                entity_id=agreement_id,
                payload={"status": active.status.value},
            )
            uow.commit()
        return active

    def agreements(self) -> list[Agreement]:
        with self.units() as uow:
            return uow.partners.agreements()

    def agreement(self, agreement_id: str) -> Agreement:
        with self.units() as uow:
            return self._agreement(uow, agreement_id)

    # -- loans and decisions ---------------------------------------------------------------

    def link_loan(
        self,
        agreement_id: str,
        loan_id: str,
        *,
        channel: str,
        on: dt.date,
        actor: str,
        key: str | None = None,
    ) -> LoanLink:
        """Tie a loan (or a draw) to an agreement, refusing a concentration breach."""
        with self.units() as uow:
            request = {"agreement_id": agreement_id, "loan_id": loan_id, "channel": channel}
            _claim(uow, key, "link_loan", {**request, "on": on})
            agreement = self._locked(uow, agreement_id)
            agreement.require_active_on(on)
            existing = uow.partners.link_of(loan_id)
            if existing is not None:
                if existing.agreement_id == agreement_id:
                    return existing
                raise LoanAlreadyLinked(
                    f"loan {loan_id} is already under agreement {existing.agreement_id}"
                )
            exposure = _Exposure.read(uow, agreement.partner_id)
            link = self._link(
                uow, agreement, exposure, loan_id, channel=channel, on=on, actor=actor
            )
            uow.commit()
        return link

    @staticmethod
    def _link(
        uow: PartnerUnitOfWork,
        agreement: Agreement,
        exposure: _Exposure,
        loan_id: str,
        *,
        channel: str,
        on: dt.date,
        actor: str,
    ) -> LoanLink:
        """Link a loan under no agreement yet, within the agreement's concentration limits
        (counted on the partner's loans under all its agreements, this one's principal
        added); a linked loan's principal is added to ``exposure``."""
        principal = uow.partners.loan_principal_fen(loan_id)
        if principal is None:
            raise LoanNotFound(f"no loan or receipt {loan_id}")
        agreement.limits.check(
            partner_outstanding_fen=exposure.partner_fen + principal,
            portfolio_fen=exposure.book_fen,
        )
        exposure.partner_fen += principal
        link = LoanLink(
            loan_id, agreement.agreement_id, channel.strip() or "partner", principal, on
        )
        uow.partners.link(link)
        record(
            uow,
            actor=actor,
            action="partner_loan.linked",
            entity="loan",
            entity_id=loan_id,
            payload={
                "agreement_id": agreement.agreement_id,
                "channel": link.channel,
                "principal_fen": principal,
                "partner_principal_fen": split(principal, agreement.funding_share).partner_fen,
            },
        )
        return link

    def route(self, on: dt.date, *, actor: str, key: str | None = None) -> list[RoutingReport]:
        """Put the loans of partners' customers under their agreements (run before the day's
        settlement): each active agreement takes the receipts drawn through ``on`` on lines
        opened for applications its partner brought.

        Under a joint-lending agreement that the partner approves too (``approver: both``) a
        loan is linked only once the partner has approved the application (its callback); a
        declined one stays the bank's alone, one without an answer waits for the next run. A
        loan whose disbursement day is already settled under the agreement is not linked
        (the settled days would miss its shares), nor one that would breach a concentration
        limit: both are reported with their reason, and the others are still linked.
        """
        with self.units() as uow:
            _claim(uow, key, "route", {"on": on})
            reports = []
            for agreement in uow.partners.agreements():
                if not _active_on(agreement, on):
                    continue
                reports.append(self._route_one(uow, agreement, on, actor))
            uow.commit()
        return reports

    def _route_one(
        self, uow: PartnerUnitOfWork, agreement: Agreement, on: dt.date, actor: str
    ) -> RoutingReport:
        agreement = self._locked(uow, agreement.agreement_id)
        report = RoutingReport(agreement.agreement_id, on)
        channel = "joint" if agreement.kind is AgreementKind.JOINT_LENDING else "partner"
        settled_through = uow.partners.last_settled(agreement.agreement_id)
        # Read once for the run, not once per loan: each link adds its principal.
        exposure = _Exposure.read(uow, agreement.partner_id)
        for loan in uow.partners.routable_loans(agreement.partner_id, on):
            if loan.disbursed_on < agreement.valid_from:
                report.not_linked[loan.loan_id] = "before_agreement"
                continue
            if agreement.approver is Approver.BOTH:
                decision = uow.partners.decision(agreement.agreement_id, loan.application_id)
                if decision is None:
                    report.not_linked[loan.loan_id] = "awaiting_partner_decision"
                    continue
                if decision.decision != "approve":
                    report.not_linked[loan.loan_id] = "partner_declined"
                    continue
            if settled_through is not None and loan.disbursed_on <= settled_through:
                report.not_linked[loan.loan_id] = "settled_before_routing"
                continue
            try:
                link = self._link(
                    uow,
                    agreement,
                    exposure,
                    loan.loan_id,
                    channel=channel,
                    on=loan.disbursed_on,
                    actor=actor,
                )
            except ConcentrationLimitBreached as exc:
                report.not_linked[loan.loan_id] = exc.code
                continue
            report.linked.append(link)
        return report

    def awaiting_decisions(self, agreement_id: str, on: dt.date) -> list[RoutableLoan]:
        """The partner's queue under a joint-lending agreement it approves too: the loans of
        applications it brought, drawn through ``on``, not yet under the agreement, on which it
        has not decided yet. Empty for an agreement the bank approves alone."""
        with self.units() as uow:
            agreement = self._agreement(uow, agreement_id)
            if agreement.approver is not Approver.BOTH:
                return []
            return [
                loan
                for loan in uow.partners.routable_loans(agreement.partner_id, on)
                if uow.partners.decision(agreement_id, loan.application_id) is None
            ]

    def record_decision(
        self,
        agreement_id: str,
        application_id: str,
        *,
        decision: str,
        reason: str,
        actor: str,
        key: str | None = None,
    ) -> PartnerDecision:
        """The partner's own approve/decline for an application (its callback)."""
        if decision not in DECISIONS:
            raise InvalidInput(f"decision must be approve or decline, got {decision!r}")
        if not application_id.strip():
            raise InvalidInput("an application id is required")
        with self.units() as uow:
            request = {"agreement_id": agreement_id, "application_id": application_id}
            _claim(uow, key, "decision", {**request, "decision": decision, "reason": reason})
            agreement = self._agreement(uow, agreement_id)
            agreement.require_active_on(self.clock.today())
            existing = uow.partners.decision(agreement_id, application_id)
            if existing is not None:
                if existing.decision != decision:
                    raise DecisionAlreadyRecorded(
                        f"partner already decided {existing.decision} on {application_id}"
                    )
                return existing
            made = PartnerDecision(
                agreement_id, application_id, decision, reason[:200], self.clock.now()
            )
            uow.partners.record_decision(made)
            record(
                uow,
                actor=actor,
                action="partner_decision.recorded",
                entity="application",
                entity_id=application_id,
                payload={"agreement_id": agreement_id, "decision": decision, "reason": reason},
            )
            uow.commit()
        return made

    # -- settlement ------------------------------------------------------------------------

    def settle(
        self, on: dt.date, *, actor: str, agreement_id: str | None = None, key: str | None = None
    ) -> list[SettlementReport]:
        """Settle the day for each active agreement (or the one given); a settled day replays."""
        with self.units() as uow:
            _claim(uow, key, "settle", {"on": on, "agreement_id": agreement_id})
            if agreement_id is not None:
                chosen = [self._agreement(uow, agreement_id, for_update=True)]
                chosen[0].require_active_on(on)
            else:
                chosen = [a for a in uow.partners.agreements() if _active_on(a, on)]
            reports = [self._settle_one(uow, a, on, actor) for a in chosen]
            uow.commit()
        return reports

    def _settle_one(
        self, uow: PartnerUnitOfWork, agreement: Agreement, on: dt.date, actor: str
    ) -> SettlementReport:
        if uow.partners.settled(agreement.agreement_id, on):
            stored = uow.partners.rows(agreement.agreement_id, on=on)
            return SettlementReport(agreement.agreement_id, on, stored, 0, replayed=True)
        rows: list[SettlementRow] = []
        history = uow.partners.rows(agreement.agreement_id, through=on)
        posted = 0
        for link in uow.partners.links(agreement.agreement_id):
            movements: dict[Component, int] = {}
            for loan_entry in uow.partners.loan_entries_on(link.loan_id, on):
                moved = loan_movements(loan_entry.amounts_fen, reversal=loan_entry.reversal)
                for component, amount in moved.items():
                    movements[component] = movements.get(component, 0) + amount
            loan_rows = settle_loan(
                agreement,
                link.loan_id,
                on,
                movements,
                principal_fen=link.principal_fen,
                history=[r for r in history if r.loan_id == link.loan_id],
            )
            entry = settlement_entry(loan_rows)
            if entry is not None:
                uow.ledger.post(entry)
                posted += 1
            rows += loan_rows
        uow.partners.save_settlement(agreement.agreement_id, on, rows)
        record(
            uow,
            actor=actor,
            action="partner_settlement.settled",
            entity="partner_agreement",
            entity_id=agreement.agreement_id,
            payload={
                "on": on.isoformat(),
                "rows": len(rows),
                "entries": posted,
                "partner_fen": sum(r.partner_fen for r in rows),
            },
        )
        return SettlementReport(agreement.agreement_id, on, rows, posted)

    def settle_fees(self, agreement_id: str, *, month: str, actor: str) -> FeeSettlement:
        """Pay the facilitation fees accrued in a month (YYYY-MM): Dr 2244 / Cr 1002."""
        try:
            first = dt.date.fromisoformat(f"{month}-01")
        except ValueError:
            raise InvalidInput(f"month is not YYYY-MM: {month!r}") from None
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
        with self.units() as uow:
            agreement = self._agreement(uow, agreement_id, for_update=True)
            if agreement.kind is not AgreementKind.FACILITATION:
                raise InvalidInput("fees are settled under facilitation agreements")
            key = f"partner-fees:{agreement_id}:{month}"
            if uow.ledger.get(key) is not None:
                amount = _fee_total(uow.partners.rows(agreement_id, through=last), first)
                return FeeSettlement(agreement_id, month, amount, key, replayed=True)
            amount = _fee_total(uow.partners.rows(agreement_id, through=last), first)
            if amount == 0:
                return FeeSettlement(agreement_id, month, 0, None)
            uow.ledger.post(
                JournalEntry.build(
                    key,
                    last,
                    f"facilitation fees of {month} paid to {agreement.partner_id}",
                    [
                        (Account.FACILITATION_FEE_PAYABLE, amount),
                        (Account.SETTLEMENT, -amount),
                    ],
                )
            )
            record(
                uow,
                actor=actor,
                action="partner_fees.settled",
                entity="partner_agreement",
                entity_id=agreement_id,
                payload={"month": month, "amount_fen": amount},
            )
            uow.commit()
        return FeeSettlement(agreement_id, month, amount, key)

    def settlement_file(self, agreement_id: str, on: dt.date) -> str:
        with self.units() as uow:
            self._agreement(uow, agreement_id)
            return render_file(uow.partners.rows(agreement_id, on=on))

    def reconcile(self, agreement_id: str, on: dt.date, theirs: str) -> list[Difference]:
        """Every difference between the partner's file for the day and our rows."""
        parsed = parse_partner_file(theirs)
        with self.units() as uow:
            self._agreement(uow, agreement_id)
            return reconcile(uow.partners.rows(agreement_id, on=on), parsed)

    def position(self, agreement_id: str, *, through: dt.date | None = None) -> Position:
        with self.units() as uow:
            self._agreement(uow, agreement_id)
            return position(uow.partners.rows(agreement_id, through=through))

    @staticmethod
    def _locked(uow: PartnerUnitOfWork, agreement_id: str) -> Agreement:
        """The agreement, read after every agreement of its partner is locked (PostgreSQL
        ``FOR UPDATE``, in id order): the concentration limits are checked on the partner's
        exposure under all its agreements, so a loan tied under one of them must wait for a
        loan being tied under another."""
        partner_id = PartnerService._agreement(uow, agreement_id).partner_id
        uow.partners.lock_partner(partner_id)
        return PartnerService._agreement(uow, agreement_id)

    @staticmethod
    def _agreement(
        uow: PartnerUnitOfWork, agreement_id: str, *, for_update: bool = False
    ) -> Agreement:
        agreement = uow.partners.agreement(agreement_id, for_update=for_update)
        if agreement is None:
            raise UnknownAgreement(f"no partner agreement {agreement_id}")
        return agreement


def _claim(
    uow: PartnerUnitOfWork, key: str | None, operation: str, request: dict[str, object]
) -> None:
    """Hold an Idempotency-Key for this request in the caller's transaction.

    Each operation is idempotent by its natural key (agreement, loan, application, day), so a
    replay recomputes the stored answer; the key only refuses being reused for another request
    (409 ``idempotency_conflict``). Held only if the request commits.
    """
    if key is None:
        return
    held = KEY_PREFIX + check_key(key)
    name = f"partners.{operation}"
    digest = request_digest(name, request)
    if earlier_request(uow.requests, held, name, digest) is None:
        uow.requests.add(StoredRequest(held, name, digest, "{}"))


def _active_on(agreement: Agreement, on: dt.date) -> bool:
    try:
        agreement.require_active_on(on)
    except AgreementNotActive:
        return False
    return True


def _fee_total(rows: list[SettlementRow], first: dt.date) -> int:
    return sum(
        r.partner_fen for r in rows if r.component is Component.FEE and r.settled_on >= first
    )


def agreement_payload(agreement: Agreement) -> dict[str, object]:
    return {
        "agreement_id": agreement.agreement_id,
        "partner_id": agreement.partner_id,
        "partner_name": agreement.partner_name,
        "kind": agreement.kind.value,
        "funding_share": str(agreement.funding_share),
        "approver": agreement.approver.value,
        "max_outstanding_fen": agreement.limits.max_outstanding_fen,
        "max_portfolio_share": str(agreement.limits.max_portfolio_share),
        "fee_per_loan_fen": agreement.fees.per_loan_fen,
        "fee_interest_share": str(agreement.fees.interest_share),
        "valid_from": agreement.valid_from.isoformat(),
        "valid_to": agreement.valid_to.isoformat(),
        "status": agreement.status.value,
    }
