"""Use cases: request an extension (展期) or a restructuring (重组), and approve it (four eyes).

A change is requested by one user and applied only when another approves it. Applying it
replaces the loan's remaining schedule in the approving transaction: the running period keeps
its interest (accrual stays whole) and bills no principal; the whole unbilled principal is
re-amortised from the running period's due date over the new number of periods. No money
moves: the principal stays on the same loan, so there is no journal entry (docs/adr/0040).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidInput, InvalidRate, NotFound
from puhui.domain.ids import new_id
from puhui.domain.lending.account import Arrears, LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.errors import EventOutOfOrder, RateOutOfRange
from puhui.domain.lending.integer_interest import check_rate_places, penalty_rate_e8, rate_e8
from puhui.domain.lending.loan_changes import (
    ChangeKind,
    ChangePolicy,
    ContractChange,
    LoanInArrears,
    check_four_eyes,
    observation_end,
)
from puhui.domain.lending.product import LoanProduct
from puhui.domain.lending.schedule import (
    MAX_TERM_MONTHS,
    ScheduledInstalment,
    accrual_schedule,
    due_dates,
    reamortise,
)
from puhui.services.audit import record
from puhui.services.loan_changes.ports import (
    ChangeStatus,
    LoanChangeRecord,
    LoanChangesUnitOfWork,
    LoanStanding,
    PendingChange,
)
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)

UowFactory = Callable[[], LoanChangesUnitOfWork]
MAX_REASON_LENGTH = 500


class ChangeNotPending(Conflict):
    """Only a requested change may be approved or rejected, once."""

    code = "change_not_pending"


class ChangeAlreadyPending(Conflict):
    """One change at a time: a loan with a change awaiting approval takes no other request."""

    code = "change_already_pending"


class LoanNotChangeable(Conflict):
    """Only an active term loan with instalments still ahead can be extended or restructured."""

    code = "loan_not_changeable"


@dataclass(frozen=True, slots=True)
class ChangeResult(ResultBase):
    change_id: str
    loan_id: str
    kind: str
    status: str
    in_difficulty: bool
    effective_on: str
    maturity_before: str
    maturity_after: str | None
    observation_ends_on: str | None
    requested_by: str
    approved_by: str | None
    replayed: bool = False
    new_annual_rate: str | None = None
    """A restructuring's new contract rate (None: kept)."""
    arrears_principal_fen: int | None = None
    """What an approved restructuring brought into the new schedule (None: nothing)."""
    arrears_interest_fen: int | None = None
    arrears_penalty_fen: int | None = None
    arrears_overdue_since: str | None = None
    arrears_days_past_due: int | None = None
    rejected_by: str | None = None
    rejected_at: str | None = None
    rejection_reason: str | None = None
    """Who rejected the change, when (ISO 8601, UTC) and why (None: it is not rejected)."""

    def arrears(self) -> Arrears | None:
        """The arrears brought forward, from the flat fields the result is stored as."""
        if self.arrears_days_past_due is None:
            return None
        since = self.arrears_overdue_since
        return Arrears(
            principal_fen=self.arrears_principal_fen or 0,
            interest_fen=self.arrears_interest_fen or 0,
            penalty_fen=self.arrears_penalty_fen or 0,
            overdue_since=None if since is None else date.fromisoformat(since),
            days_past_due=self.arrears_days_past_due,
        )


def change_result(change: LoanChangeRecord, *, replayed: bool = False) -> ChangeResult:
    arrears = change.arrears
    return ChangeResult(
        change_id=change.change_id,
        loan_id=change.loan_id,
        kind=change.kind.value,
        status=change.status,
        in_difficulty=change.in_difficulty,
        effective_on=change.effective_on.isoformat(),
        maturity_before=change.maturity_before.isoformat(),
        maturity_after=None if change.maturity_after is None else change.maturity_after.isoformat(),
        observation_ends_on=(
            None if change.observation_ends_on is None else change.observation_ends_on.isoformat()
        ),
        requested_by=change.requested_by,
        approved_by=change.approved_by,
        replayed=replayed,
        new_annual_rate=None if change.new_annual_rate is None else str(change.new_annual_rate),
        arrears_principal_fen=None if arrears is None else arrears.principal_fen,
        arrears_interest_fen=None if arrears is None else arrears.interest_fen,
        arrears_penalty_fen=None if arrears is None else arrears.penalty_fen,
        arrears_overdue_since=(
            None
            if arrears is None or arrears.overdue_since is None
            else arrears.overdue_since.isoformat()
        ),
        arrears_days_past_due=None if arrears is None else arrears.days_past_due,
        rejected_by=change.rejected_by,
        rejected_at=None if change.rejected_at is None else change.rejected_at.isoformat(),
        rejection_reason=change.rejection_reason,
    )


def _reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(f"a reason of 1 to {MAX_REASON_LENGTH} characters is required")
    return text


def _changeable_loan(
    uow: LoanChangesUnitOfWork, loan_id: str, on: date, *, restructuring: bool
) -> LoanAccount:
    """The loan, locked, if it can have the change. A restructuring also takes a loan past
    its last instalment (matured in arrears): its new schedule starts on the change date."""
    loan = uow.loans.get(loan_id, for_update=True)
    if loan is None:
        raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
    if loan.kind is not LoanKind.TERM or loan.status is not LoanStatus.ACTIVE:
        raise LoanNotChangeable(
            f"loan {loan_id} is not an active term loan",
            details={"loan_id": loan_id, "kind": loan.kind.value, "status": loan.status.value},
        )
    nothing_left = (
        loan.outstanding_principal_fen == 0
        if restructuring
        else loan.next_due_date is None or loan.unbilled_principal_fen == 0
    )
    if nothing_left:
        raise LoanNotChangeable(
            f"loan {loan_id} has no principal left to reschedule", details={"loan_id": loan_id}
        )
    closed = uow.business_days.last_closed()
    if closed is not None and on <= closed:
        raise EventOutOfOrder(
            f"business day {on} is closed (end of day ran through {closed})",
            details={"last_closed": closed.isoformat()},
        )
    return loan


def in_arrears(loan: LoanAccount) -> bool:
    return (
        loan.days_past_due > 0 or loan.overdue_principal_fen > 0 or loan.overdue_since is not None
    )


def _periods(uow: LoanChangesUnitOfWork, loan: LoanAccount) -> int:
    schedule = uow.instalments.schedule(loan.loan_id)
    return max((i.period for i in schedule), default=0)


def _original_term(changes: list[LoanChangeRecord], periods_now: int, loan_id: str) -> int:
    """The term before the first change: what the 展期 limits are measured against (every
    change of a loan carries it, so the order of the records does not matter)."""
    own = [c for c in changes if c.loan_id == loan_id and c.kind is not ChangeKind.RENEWAL]
    return own[0].original_term_months if own else periods_now


def request_extension(
    uow_factory: UowFactory,
    *,
    loan_id: str,
    extension_months: int,
    on: date,
    reason: str,
    in_difficulty: bool,
    idempotency_key: str,
    actor: str,
    clock: Clock,
    policy: ChangePolicy,
) -> ChangeResult:
    """Ask for a loan to run ``extension_months`` longer; applied when another user approves.

    An extension for a debtor in difficulty is a restructuring for classification; one for a
    debtor not in difficulty needs a loan with no arrears (``loan_in_arrears``).
    """
    return _request(
        uow_factory,
        kind=ChangeKind.EXTENSION,
        loan_id=loan_id,
        months=extension_months,
        on=on,
        reason=reason,
        in_difficulty=in_difficulty,
        idempotency_key=idempotency_key,
        actor=actor,
        clock=clock,
        policy=policy,
    )


def request_restructuring(
    uow_factory: UowFactory,
    *,
    loan_id: str,
    new_term_months: int,
    on: date,
    reason: str,
    idempotency_key: str,
    actor: str,
    clock: Clock,
    policy: ChangePolicy,
    new_annual_rate: Decimal | None = None,
) -> ChangeResult:
    """Ask for a debtor in difficulty's unbilled principal to be re-amortised over
    ``new_term_months`` periods from the running period's due date; ``new_annual_rate``, if
    given, is the contract rate from the next period on (within the product's bounds)."""
    return _request(
        uow_factory,
        kind=ChangeKind.RESTRUCTURING,
        loan_id=loan_id,
        months=new_term_months,
        on=on,
        reason=reason,
        in_difficulty=True,
        idempotency_key=idempotency_key,
        actor=actor,
        clock=clock,
        policy=policy,
        new_rate=new_annual_rate,
    )


def _request(
    uow_factory: UowFactory,
    *,
    kind: ChangeKind,
    loan_id: str,
    months: int,
    on: date,
    reason: str,
    in_difficulty: bool,
    idempotency_key: str,
    actor: str,
    clock: Clock,
    policy: ChangePolicy,
    new_rate: Decimal | None = None,
) -> ChangeResult:
    key = check_key(idempotency_key)
    text = _reason(reason)
    if new_rate is not None:
        if not isinstance(new_rate, Decimal) or not new_rate.is_finite() or new_rate <= 0:
            raise InvalidRate(f"a new annual rate must be a positive Decimal, got {new_rate!r}")
        check_rate_places(new_rate)
    if (
        isinstance(months, bool)
        or not isinstance(months, int)
        or not 1 <= months <= MAX_TERM_MONTHS
    ):
        raise InvalidInput(f"months must be an integer from 1 to {MAX_TERM_MONTHS}, got {months!r}")
    if not isinstance(in_difficulty, bool):
        raise InvalidInput("in_difficulty must be true or false")
    operation = f"request_{kind.value}"
    digest = request_digest(
        operation,
        {
            "loan_id": loan_id,
            "months": months,
            "on": on,
            "reason": text,
            "diff": in_difficulty,
            # Only when given: a request without a rate hashes as before rates existed.
            **({} if new_rate is None else {"rate": str(new_rate)}),
        },
    )
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, ChangeResult)
        if replayed is not None:
            return replayed
        restructuring = ContractChange(kind, on, in_difficulty).is_restructuring
        loan = _changeable_loan(uow, loan_id, on, restructuring=restructuring)
        changes = uow.changes.of_loan(loan_id)
        periods = _periods(uow, loan)
        counted = sum(1 for c in changes if c.loan_id == loan_id and c.counts_against_policy)
        original = _original_term(changes, periods, loan_id)
        if kind is ChangeKind.EXTENSION:
            if not in_difficulty and in_arrears(loan):
                raise LoanInArrears(
                    f"loan {loan_id} is in arrears: an extension for a debtor not in difficulty "
                    "needs a loan with no arrears (a debtor in difficulty is restructured)",
                    details={"loan_id": loan_id, "days_past_due": loan.days_past_due},
                )
            policy.check_extension(original, months, counted)
        else:
            policy.check_count(counted)
        if any(c.status == ChangeStatus.REQUESTED and c.loan_id == loan_id for c in changes):
            raise ChangeAlreadyPending(
                f"loan {loan_id} already has a change awaiting approval",
                details={"loan_id": loan_id},
            )
        if new_rate is not None:
            _check_rate_in_product(uow, loan, new_rate)
        change = LoanChangeRecord(
            change_id=new_id("chg"),
            loan_id=loan_id,
            kind=kind,
            status=ChangeStatus.REQUESTED,
            in_difficulty=in_difficulty,
            effective_on=on,
            reason=text,
            requested_by=actor,
            requested_at=clock.now(),
            periods_before=periods,
            maturity_before=loan.maturity_date,
            original_term_months=original,
            extension_months=months if kind is ChangeKind.EXTENSION else None,
            new_term_months=months if kind is ChangeKind.RESTRUCTURING else None,
            new_annual_rate=new_rate,
        )
        uow.changes.add(change)
        result = change_result(change)
        record(
            uow,
            actor=actor,
            action=f"loan_change.{kind.value}_requested",
            entity="loan",
            entity_id=loan_id,
            payload={
                "change_id": change.change_id,
                "months": months,
                "in_difficulty": in_difficulty,
                "effective_on": on.isoformat(),
                **({} if new_rate is None else {"new_annual_rate": str(new_rate)}),
                "idempotency_key": key,
            },
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


def approve_change(
    uow_factory: UowFactory,
    change_id: str,
    *,
    on: date,
    idempotency_key: str,
    actor: str,
    clock: Clock,
    policy: ChangePolicy,
) -> ChangeResult:
    """Approve a requested extension or restructuring (not by its requester) and apply it:
    the remaining schedule is replaced and the loan's maturity moves, in one transaction."""
    key = check_key(idempotency_key)
    operation = "approve_loan_change"
    digest = request_digest(operation, {"change_id": change_id, "on": on})
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, ChangeResult)
        if replayed is not None:
            return replayed
        change = uow.changes.get(change_id, for_update=True)
        if change is None:
            raise NotFound(f"no loan change {change_id}", details={"change_id": change_id})
        if change.status != ChangeStatus.REQUESTED or change.kind is ChangeKind.RENEWAL:
            raise ChangeNotPending(
                f"loan change {change_id} is {change.status}, not awaiting approval",
                details={"change_id": change_id, "status": change.status},
            )
        check_four_eyes(change.requested_by, actor)
        restructuring = change.as_contract_change().is_restructuring
        loan = _changeable_loan(uow, change.loan_id, on, restructuring=restructuring)
        if change.kind is ChangeKind.EXTENSION and not change.in_difficulty and in_arrears(loan):
            raise LoanInArrears(
                f"loan {loan.loan_id} fell into arrears after the extension was requested",
                details={"loan_id": loan.loan_id, "days_past_due": loan.days_past_due},
            )
        # A restructuring re-ages the loan: its arrears go into the new schedule.
        rows, arrears = _reschedule(uow, loan, change, on=on, arrears_forward=restructuring)
        earlier = [
            c
            for c in uow.changes.of_loan(loan.loan_id)
            if c.status == ChangeStatus.APPROVED
            and c.loan_id == loan.loan_id
            and c.as_contract_change().is_restructuring
        ]
        dates = [i.due_date for i in uow.instalments.schedule(loan.loan_id)]
        ends_on = (
            observation_end(change.effective_on, dates, frozenset()) if restructuring else None
        )
        second = restructuring and any(
            (end := c.observation_ends_on) is None or change.effective_on <= end for c in earlier
        )
        approved = replace(
            change,
            status=ChangeStatus.APPROVED,
            approved_by=actor,
            approved_at=clock.now(),
            maturity_after=rows[-1].due_date,
            observation_ends_on=ends_on,
            second_in_observation=second,
            arrears=arrears if arrears.any else None,
        )
        uow.changes.save(approved)
        result = change_result(approved)
        record(
            uow,
            actor=actor,
            action=f"loan_change.{change.kind.value}_approved",
            entity="loan",
            entity_id=loan.loan_id,
            payload={
                "change_id": change_id,
                "requested_by": change.requested_by,
                "maturity_before": change.maturity_before.isoformat(),
                "maturity_after": rows[-1].due_date.isoformat(),
                "instalments_replaced_from": loan.current_period,
                "observation_ends_on": None if ends_on is None else ends_on.isoformat(),
                "arrears_brought_forward": arrears.to_dict() if arrears.any else None,
                "idempotency_key": key,
            },
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


def reject_change(
    uow_factory: UowFactory,
    change_id: str,
    *,
    reason: str,
    idempotency_key: str,
    actor: str,
    clock: Clock,
) -> ChangeResult:
    """Reject (or withdraw) a requested change: nothing is applied, the loan may be asked for
    another change. Rejecting needs no second person: it changes no loan. The change keeps
    who rejected it, when and the reason, for whoever looks at the loan next."""
    key = check_key(idempotency_key)
    text = _reason(reason)
    operation = "reject_loan_change"
    digest = request_digest(operation, {"change_id": change_id, "reason": text})
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, ChangeResult)
        if replayed is not None:
            return replayed
        change = uow.changes.get(change_id, for_update=True)
        if change is None:
            raise NotFound(f"no loan change {change_id}", details={"change_id": change_id})
        if change.status != ChangeStatus.REQUESTED:
            raise ChangeNotPending(
                f"loan change {change_id} is {change.status}, not awaiting approval",
                details={"change_id": change_id, "status": change.status},
            )
        rejected = replace(
            change,
            status=ChangeStatus.REJECTED,
            rejected_by=actor,
            rejected_at=clock.now(),
            rejection_reason=text,
        )
        uow.changes.save(rejected)
        result = change_result(rejected)
        record(
            uow,
            actor=actor,
            action=f"loan_change.{change.kind.value}_rejected",
            entity="loan",
            entity_id=change.loan_id,
            payload={"change_id": change_id, "reason": text, "idempotency_key": key},
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


def _reschedule(
    uow: LoanChangesUnitOfWork,
    loan: LoanAccount,
    change: LoanChangeRecord,
    *,
    on: date,
    arrears_forward: bool,
) -> tuple[list[ScheduledInstalment], Arrears]:
    stored = uow.products.get(loan.product_id)
    if stored is None:
        raise NotFound(f"no product {loan.product_id}", details={"product_id": loan.product_id})
    product = stored.product
    remaining = [
        i for i in uow.instalments.schedule(loan.loan_id) if i.period >= loan.current_period
    ]
    if not remaining:
        if not arrears_forward:
            raise LoanNotChangeable(f"loan {loan.loan_id} has no instalment left")
        return _restart(uow, loan, change, product, on)
    running = remaining[0]
    arrears = Arrears.NONE
    if arrears_forward:
        # Billed interest and penalties fall due with the running instalment; the principal
        # billed or overdue joins the principal re-amortised below.
        loan, arrears = loan.arrears_brought_forward(running.due_date)
    if change.kind is ChangeKind.EXTENSION:
        count = len(remaining) - 1 + (change.extension_months or 0)
    else:
        count = change.new_term_months or 0
    if count < 1:
        raise InvalidInput("the new schedule needs at least one period")
    rate = loan.annual_rate if change.new_annual_rate is None else change.new_annual_rate
    new = reamortise(
        loan.unbilled_principal_fen,
        rate,
        loan.method,
        running.due_date,
        due_dates(running.due_date, count),
        basis=product.basis,
        rounding=product.rounding,
        first_period=loan.current_period + 1,
    )
    # The running period keeps its interest (already accruing) and bills no principal.
    kept = replace(running, principal_fen=0)
    rows = [kept, *accrual_schedule(new, running.due_date)]
    uow.instalments.replace_from(loan.loan_id, loan.current_period, rows)
    # A new rate runs from the next period: the running one keeps its interest.
    rescheduled = replace(loan, period_principal_fen=0, maturity_date=rows[-1].due_date)
    uow.loans.save(_at_rate(rescheduled, rate, product))
    return rows, arrears


def _restart(
    uow: LoanChangesUnitOfWork,
    loan: LoanAccount,
    change: LoanChangeRecord,
    product: LoanProduct,
    on: date,
) -> tuple[list[ScheduledInstalment], Arrears]:
    """Restructure a loan past its last instalment (no running period to keep): the whole
    outstanding principal is re-amortised over monthly periods from the change date, interest
    running from that day, and the arrears fall due with the first new instalment."""
    count = (
        change.extension_months if change.kind is ChangeKind.EXTENSION else change.new_term_months
    ) or 0
    if count < 1:
        raise InvalidInput("the new schedule needs at least one period")
    dates = due_dates(on, count)
    loan, arrears = loan.arrears_brought_forward(dates[0])
    rate = loan.annual_rate if change.new_annual_rate is None else change.new_annual_rate
    new = reamortise(
        loan.unbilled_principal_fen,
        rate,
        loan.method,
        on,
        dates,
        basis=product.basis,
        rounding=product.rounding,
        first_period=loan.current_period,
    )
    rows = accrual_schedule(new, on)
    uow.instalments.replace_from(loan.loan_id, loan.current_period, rows)
    uow.loans.save(_at_rate(loan.rescheduled(rows), rate, product))
    return rows, arrears


def _at_rate(loan: LoanAccount, rate: Decimal, product: LoanProduct) -> LoanAccount:
    """The rescheduled loan at ``rate`` (its penalty rate from the product), one version on.

    A schedule the bank agreed replaces an earlier recall: the loan is no longer called in.
    """
    return replace(
        loan,
        called_in_on=None,
        annual_rate=rate,
        rate_e8=rate_e8(rate),
        penalty_rate_e8=penalty_rate_e8(rate, product.penalty_uplift),
        version=loan.version + 1,
    )


def _check_rate_in_product(uow: LoanChangesUnitOfWork, loan: LoanAccount, rate: Decimal) -> None:
    stored = uow.products.get(loan.product_id)
    if stored is None:
        raise NotFound(f"no product {loan.product_id}", details={"product_id": loan.product_id})
    product = stored.product
    if not product.min_annual_rate <= rate <= product.max_annual_rate:
        raise RateOutOfRange(
            f"annual rate {rate} is outside {product.min_annual_rate} to "
            f"{product.max_annual_rate} for product {product.code}",
            details={
                "annual_rate": str(rate),
                "min_annual_rate": str(product.min_annual_rate),
                "max_annual_rate": str(product.max_annual_rate),
            },
        )


def pending_changes(
    uow_factory: UowFactory, *, limit: int = 50, offset: int = 0
) -> list[LoanChangeRecord]:
    with uow_factory() as uow:
        return uow.changes.pending(limit=limit, offset=offset)


def count_pending(uow_factory: UowFactory) -> int:
    with uow_factory() as uow:
        return uow.changes.count_pending()


def pending_queue(
    uow_factory: UowFactory, *, limit: int = 50, offset: int = 0
) -> list[PendingChange]:
    """Changes awaiting approval, oldest first, each with its loan as it stands now, read in
    one transaction: an approver sees the arrears and the category without opening the loan."""
    with uow_factory() as uow:
        waiting = uow.changes.pending(limit=limit, offset=offset)
        loans = {c.loan_id: uow.loans.get(c.loan_id) for c in waiting}
    return [
        PendingChange(c, None if (loan := loans[c.loan_id]) is None else LoanStanding.of(loan))
        for c in waiting
    ]


def changes_of_loan(uow_factory: UowFactory, loan_id: str) -> list[LoanChangeRecord]:
    with uow_factory() as uow:
        return uow.changes.of_loan(loan_id)
