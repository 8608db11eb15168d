"""Use case: renew a maturing loan without principal repayment (无还本续贷).

The renewal rules decide in the window before maturity. A term loan: an approved renewal makes
a new loan that starts on the old one's maturity date and carries its principal; the old
loan's last instalment keeps its interest (the borrower pays it) and bills no principal. A
receipt on a credit line (借据): interest runs by balance-days, so the principal moves on the
day of the decision — a new receipt on the same line, drawn that day, maturing ``term_months``
after the old maturity; the old receipt keeps the interest accrued to the day before and is
settled as usual (the 20th or its maturity). The line's expiry moves out to the new maturity
when it would end first (the line is renewed with it). Either way the principal moves from
one loan record to the other: no money flows, the line's drawn amount and the ledger's
principal receivable are unchanged, so no journal entry is posted (docs/adr/0040). Both
records are linked by the change record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import LoanId, ReceiptId, new_id
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.errors import EventOutOfOrder
from puhui.domain.lending.loan_changes import (
    ChangeKind,
    RenewalFacts,
    RenewalRules,
)
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import accrual_schedule, add_months, build_schedule
from puhui.services.audit import record
from puhui.services.loan_changes.changes import (
    LoanNotChangeable,
    UowFactory,
    in_arrears,
)
from puhui.services.loan_changes.ports import (
    ChangeStatus,
    LoanChangeRecord,
    LoanChangesUnitOfWork,
)
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)
from puhui.services.servicing.records import LineStatus

OpenAlerts = Callable[[str], int]
"""How many monitoring alerts are open for an enterprise; by default the unit of work's
monitoring alerts are counted in the renewal's own transaction."""


@dataclass(frozen=True, slots=True)
class RenewalResult(ResultBase):
    loan_id: str
    decision: str  # approved | declined
    reasons: str  # comma-separated decline reasons, empty when approved
    rules_version: str
    change_id: str | None
    new_loan_id: str | None
    principal_fen: int
    starts_on: str | None
    maturity_date: str | None
    replayed: bool = False


def renew_loan(
    uow_factory: UowFactory,
    *,
    loan_id: str,
    on: date,
    term_months: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    clock: Clock,
    rules: RenewalRules,
    open_alerts: OpenAlerts | None = None,
) -> RenewalResult:
    """Decide and, when approved, make the renewal; a decline is a result, not an error.

    Refused with nothing changed: a loan in arrears (``loan_in_arrears``), a request outside
    the window (``outside_renewal_window``), a term loan whose last instalment is already
    billed or that has more than one instalment left, a receipt whose line is frozen
    (``loan_not_changeable``), a receipt renewed on a closed business day
    (``event_out_of_order``).
    """
    key = check_key(idempotency_key)
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > 500:
        raise InvalidInput("a reason of 1 to 500 characters is required")
    operation = "renew_loan"
    digest = request_digest(
        operation, {"loan_id": loan_id, "on": on, "term_months": term_months, "reason": text}
    )
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, RenewalResult)
        if replayed is not None:
            return replayed
        loan = uow.loans.get(loan_id, for_update=True)
        if loan is None:
            raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
        history = uow.changes.of_loan(loan_id)
        facts = RenewalFacts(
            on=on,
            maturity_date=loan.maturity_date,
            days_past_due=loan.days_past_due,
            in_arrears=in_arrears(loan),
            open_alerts=(
                uow.changes.open_alert_count(loan.enterprise_id)
                if open_alerts is None
                else open_alerts(loan.enterprise_id)
            ),
            category=loan.category,
            renewals_so_far=_renewals_in_chain(uow, loan_id, history),
            term_months=term_months,
        )
        decision = rules.decide(facts)
        if not decision.approved:
            result = RenewalResult(
                loan_id=loan_id,
                decision="declined",
                reasons=",".join(decision.reasons),
                rules_version=decision.rules_version,
                change_id=None,
                new_loan_id=None,
                principal_fen=0,
                starts_on=None,
                maturity_date=None,
            )
            record(
                uow,
                actor=actor,
                action="loan_change.renewal_declined",
                entity="loan",
                entity_id=loan_id,
                payload={"reasons": list(decision.reasons), "idempotency_key": key},
            )
            remember(uow, key, operation, digest, result)
            uow.commit()
            return result
        if loan.outstanding_principal_fen == 0 or loan.status is not LoanStatus.ACTIVE:
            raise LoanNotChangeable(
                f"loan {loan_id} has no principal left to renew (already renewed or repaid)",
                details={"loan_id": loan_id, "reason": "nothing_left"},
            )
        renew = _renew if loan.kind is LoanKind.TERM else _renew_receipt
        result = renew(
            uow,
            loan,
            on=on,
            term_months=term_months,
            reason=text,
            key=key,
            actor=actor,
            clock=clock,
            rules_version=decision.rules_version,
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


def _renewals_in_chain(
    uow: LoanChangesUnitOfWork, loan_id: str, history: list[LoanChangeRecord]
) -> int:
    """Renewals that led to this loan: the loan it replaced, the one before, and so on."""
    count, current, changes = 0, loan_id, history
    while True:
        previous = next(
            (
                c
                for c in changes
                if c.kind is ChangeKind.RENEWAL
                and c.status == ChangeStatus.APPROVED
                and c.new_loan_id == current
            ),
            None,
        )
        if previous is None:
            return count
        count, current = count + 1, previous.loan_id
        changes = uow.changes.of_loan(current)


def _product_for(uow: LoanChangesUnitOfWork, loan: LoanAccount, term_months: int) -> LoanProduct:
    """The loan's product, with the renewal's principal, rate and term checked against it."""
    stored = uow.products.get(loan.product_id)
    if stored is None:
        raise NotFound(f"no product {loan.product_id}", details={"product_id": loan.product_id})
    stored.product.validate_terms(loan.outstanding_principal_fen, loan.annual_rate, term_months)
    return stored.product


def _renew_receipt(
    uow: LoanChangesUnitOfWork,
    loan: LoanAccount,
    *,
    on: date,
    term_months: int,
    reason: str,
    key: str,
    actor: str,
    clock: Clock,
    rules_version: str,
) -> RenewalResult:
    if loan.line_id is None:
        raise LoanNotChangeable(
            f"receipt {loan.loan_id} belongs to no credit line",
            details={"loan_id": loan.loan_id, "reason": "no_line"},
        )
    closed = uow.business_days.last_closed()
    if closed is not None and on <= closed:
        raise EventOutOfOrder(
            f"business day {on} is closed (end of day ran through {closed}): a receipt is "
            "renewed on an open day",
            details={"last_closed": closed.isoformat()},
        )
    line = uow.lines.get(loan.line_id, for_update=True)
    if line is None:
        raise NotFound(f"no credit line {loan.line_id}", details={"line_id": loan.line_id})
    if line.status is LineStatus.FROZEN:
        raise LoanNotChangeable(
            f"credit line {line.line_id} is frozen: its receipts are not renewed",
            details={"loan_id": loan.loan_id, "line_id": line.line_id, "reason": "line_frozen"},
        )
    product = _product_for(uow, loan, term_months)
    principal = loan.outstanding_principal_fen
    maturity = add_months(loan.maturity_date, term_months)
    new_loan_id = ReceiptId(new_id("rcpt"))
    renewed = LoanAccount.new(
        loan_id=new_loan_id,
        line_id=line.line_id,
        product=product,
        product_id=loan.product_id,
        enterprise_id=loan.enterprise_id,
        annual_rate=loan.annual_rate,
        kind=LoanKind.RECEIPT,
        method=RepaymentMethod.DAILY_REVOLVING,
        principal_fen=principal,
        disbursed_on=on,
        maturity_date=maturity,
    )
    uow.loans.add(replace(renewed, payee=loan.payee))
    # The old receipt keeps what it accrued; from today its principal is the new receipt's.
    uow.loans.save(replace(loan, outstanding_principal_fen=0, version=loan.version + 1))
    expiry_before = line.expiry_date
    if maturity > line.expiry_date:
        uow.lines.save(replace(line, expiry_date=maturity, version=line.version + 1))
    term_before = max(
        1,
        (loan.maturity_date.year - loan.disbursed_on.year) * 12
        + loan.maturity_date.month
        - loan.disbursed_on.month,
    )
    moved = _Moved(
        new_loan_id=new_loan_id,
        principal_fen=principal,
        starts_on=on,
        maturity=maturity,
        periods_before=1,
        original_term_months=term_before,
        entity="receipt",
        details={
            "line_id": line.line_id,
            "line_expiry_before": expiry_before.isoformat(),
            "line_expiry_after": max(maturity, expiry_before).isoformat(),
        },
    )
    return _approved(
        uow,
        loan,
        moved,
        decided_on=on,
        term_months=term_months,
        reason=reason,
        key=key,
        actor=actor,
        clock=clock,
        rules_version=rules_version,
    )


def _renew(
    uow: LoanChangesUnitOfWork,
    loan: LoanAccount,
    *,
    on: date,
    term_months: int,
    reason: str,
    key: str,
    actor: str,
    clock: Clock,
    rules_version: str,
) -> RenewalResult:
    remaining = [
        i for i in uow.instalments.schedule(loan.loan_id) if i.period >= loan.current_period
    ]
    if len(remaining) != 1 or loan.billed_principal_fen != 0 or loan.next_due_date is None:
        raise LoanNotChangeable(
            f"loan {loan.loan_id} must be in its last instalment, not yet billed, to be renewed",
            details={
                "loan_id": loan.loan_id,
                "instalments_left": len(remaining),
                "reason": "not_last_instalment",
            },
        )
    product = _product_for(uow, loan, term_months)
    principal = loan.outstanding_principal_fen
    starts_on = loan.maturity_date
    plan = build_schedule(
        principal,
        loan.annual_rate,
        term_months,
        loan.method,
        starts_on,
        basis=product.basis,
        rounding=product.rounding,
    )
    rows = accrual_schedule(plan, starts_on)
    new_loan_id = LoanId(new_id("loan"))
    uow.loans.add(
        LoanAccount.new(
            loan_id=new_loan_id,
            line_id=None,
            product=product,
            product_id=loan.product_id,
            enterprise_id=loan.enterprise_id,
            annual_rate=loan.annual_rate,
            kind=LoanKind.TERM,
            method=loan.method,
            principal_fen=principal,
            disbursed_on=starts_on,
            maturity_date=rows[-1].due_date,
            current_period=1,
            next_due_date=rows[0].due_date,
            period_interest_fen=rows[0].interest_fen,
            period_principal_fen=rows[0].principal_fen,
            period_days=rows[0].period_days,
        )
    )
    uow.instalments.replace_from(new_loan_id, 1, rows)
    # The old loan's last instalment keeps its interest; its principal now sits on the new loan.
    uow.instalments.replace_from(
        loan.loan_id, loan.current_period, [replace(remaining[0], principal_fen=0)]
    )
    uow.loans.save(
        replace(
            loan,
            outstanding_principal_fen=0,
            period_principal_fen=0,
            version=loan.version + 1,
        )
    )
    periods = max(i.period for i in uow.instalments.schedule(loan.loan_id))
    moved = _Moved(
        new_loan_id=new_loan_id,
        principal_fen=principal,
        starts_on=starts_on,
        maturity=rows[-1].due_date,
        periods_before=periods,
        original_term_months=periods,
        entity="loan",
        details={},
    )
    return _approved(
        uow,
        loan,
        moved,
        decided_on=on,
        term_months=term_months,
        reason=reason,
        key=key,
        actor=actor,
        clock=clock,
        rules_version=rules_version,
    )


@dataclass(frozen=True, slots=True)
class _Moved:
    """Where a renewal moved the principal: the new loan, from when to when."""

    new_loan_id: str
    principal_fen: int
    starts_on: date
    maturity: date
    periods_before: int
    original_term_months: int
    entity: str
    """What the audit event names: a ``loan`` (term) or a ``receipt``."""
    details: dict[str, str]
    """More for the audit event (a receipt's line and its expiry before and after)."""


def _approved(
    uow: LoanChangesUnitOfWork,
    loan: LoanAccount,
    moved: _Moved,
    *,
    decided_on: date,
    term_months: int,
    reason: str,
    key: str,
    actor: str,
    clock: Clock,
    rules_version: str,
) -> RenewalResult:
    """The renewal's change record linking old and new loans, its audit event, its result."""
    change = LoanChangeRecord(
        change_id=new_id("chg"),
        loan_id=loan.loan_id,
        kind=ChangeKind.RENEWAL,
        status=ChangeStatus.APPROVED,
        in_difficulty=False,
        effective_on=moved.starts_on,
        reason=reason,
        requested_by=actor,
        requested_at=clock.now(),
        periods_before=moved.periods_before,
        maturity_before=loan.maturity_date,
        original_term_months=moved.original_term_months,
        new_term_months=term_months,
        new_loan_id=moved.new_loan_id,
        principal_fen=moved.principal_fen,
        maturity_after=moved.maturity,
        approved_by=rules_version,
        approved_at=clock.now(),
    )
    uow.changes.add(change)
    record(
        uow,
        actor=actor,
        action="loan_change.renewal_approved",
        entity=moved.entity,
        entity_id=loan.loan_id,
        payload={
            "change_id": change.change_id,
            "new_loan_id": moved.new_loan_id,
            "principal_fen": moved.principal_fen,
            "term_months": term_months,
            "starts_on": moved.starts_on.isoformat(),
            "decided_on": decided_on.isoformat(),
            **moved.details,
            "idempotency_key": key,
        },
    )
    return RenewalResult(
        loan_id=loan.loan_id,
        decision="approved",
        reasons="",
        rules_version=rules_version,
        change_id=change.change_id,
        new_loan_id=moved.new_loan_id,
        principal_fen=moved.principal_fen,
        starts_on=moved.starts_on.isoformat(),
        maturity_date=moved.maturity.isoformat(),
    )
