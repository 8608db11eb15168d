"""Use cases of loan accounts (receipts 借据 and term loans): repay, quote payoff, reverse a
repayment, write off, recover. The arithmetic is the account's (``domain.lending.account``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from puhui.domain.errors import Conflict, InvalidDate, NotFound
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.lending.account import (
    LoanAccount,
    LoanAccountId,
    LoanKind,
    LoanStatus,
)
from puhui.domain.lending.errors import EventOutOfOrder
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.reconciliation import order_of
from puhui.domain.lending.schedule import accrual_schedule, reamortise
from puhui.domain.money import require_positive
from puhui.services.audit import record
from puhui.services.servicing.errors import (
    CorrectionNotPossible,
    EndOfDayPending,
    LoanNotActive,
    NotWrittenOff,
    ReceiptNotActive,
)
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import LineStatus, loan_from_json, loan_to_json

UowFactory = Callable[[], ServicingUnitOfWork]


def _load_loan(uow: ServicingUnitOfWork, loan_id: str) -> LoanAccount:
    # The row lock serialises concurrent requests on one loan (PostgreSQL FOR UPDATE;
    # SQLite already holds the database write lock from BEGIN IMMEDIATE).
    loan = uow.loans.get(loan_id, for_update=True)
    if loan is None:
        raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
    return loan


def _not_active(loan: LoanAccount) -> LoanNotActive:
    error = ReceiptNotActive if loan.kind is LoanKind.RECEIPT else LoanNotActive
    return error(
        f"{loan.kind.value} {loan.loan_id} is {loan.status.value}",
        details={"status": loan.status.value},
    )


def check_active(loan: LoanAccount) -> None:
    """Only an active loan takes a repayment."""
    if loan.status is not LoanStatus.ACTIVE:
        raise _not_active(loan)


def check_value_date(loan: LoanAccount, on: date) -> None:
    """A money event is dated the loan's next open business day, never before it was disbursed.

    Earlier days are closed (their accrual is booked); a later date would skip accrual
    days, so the end of day must catch up first.
    """
    if on < loan.disbursed_on:
        raise InvalidDate(
            f"{on} is before loan {loan.loan_id} was disbursed ({loan.disbursed_on})",
            details={"disbursed_on": loan.disbursed_on.isoformat()},
        )
    last_closed = loan.accrued_through or loan.disbursed_on - timedelta(days=1)
    if on <= last_closed:
        raise EventOutOfOrder(
            f"business day {on} is closed for loan {loan.loan_id}: accrual is booked "
            f"through {last_closed}; correct past events with a reversal",
            details={"accrued_through": last_closed.isoformat()},
        )
    if on > last_closed + timedelta(days=1):
        missing = last_closed + timedelta(days=1)
        raise EndOfDayPending(
            f"end of day has not run for {missing}: run it before posting on {on}",
            details={"missing_date": missing.isoformat()},
        )


REPAY = "repay"


class OrderInSuspense(Conflict):
    """The order this repayment names is held in suspense (挂账): applying it is suspense's."""

    code = "order_in_suspense"


@dataclass(frozen=True, slots=True)
class RepaymentResult(ResultBase):
    receipt_id: str
    """The loan account paid, a receipt or a term loan (the name stored results and the API
    keep; likewise in the results below)."""
    amount_fen: int
    paid_on: str
    penalty_fen: int
    compound_fen: int
    interest_fen: int
    principal_fen: int
    outstanding_principal_fen: int
    owed_after_fen: int
    closed: bool
    entry_key: str
    loan_version: int
    replayed: bool = False


def quote_payoff(uow_factory: UowFactory, loan_id: LoanAccountId, *, on: date) -> int:
    """What a full repayment on ``on`` must bring, in fen (interest settled to that day)."""
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
        if loan is None:
            raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
        check_value_date(loan, on)
        return loan.settle_accrued(on).total_owed_fen


def repay(
    uow_factory: UowFactory,
    loan_id: LoanAccountId,
    *,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    actor: str,
) -> RepaymentResult:
    """Take a payment on a receipt or a term loan: overdue first, in waterfall order.

    A receipt settles its interest to date first (结息 at repayment); repaid principal
    restores the line's available limit. A term loan pays what is billed; anything beyond it
    is an early repayment, which settles the running period's interest to date and
    re-amortises the remaining schedule per the product (reduce instalment or term).
    A full repayment is the amount ``quote_payoff`` gives.
    """
    key = check_key(idempotency_key)
    require_positive(amount_fen, "repayment amount")
    digest = repayment_digest(loan_id, amount_fen, on)
    with uow_factory() as uow:
        loan = _load_loan(uow, loan_id)
        replayed = find_replay(uow, key, REPAY, digest, RepaymentResult)
        if replayed is not None:
            return replayed
        held = uow.suspense.of_order(order_of(key))
        if held is not None:
            raise OrderInSuspense(
                f"order {held.order_id} was collected on {held.value_date} and is held in "
                f"suspense as {held.item_id} ({held.status.value}): apply it from suspense "
                "instead of posting it again",
                details={"item_id": held.item_id, "order_id": held.order_id},
            )
        result = post_repayment(uow, loan, amount_fen=amount_fen, on=on, key=key, actor=actor)
        uow.commit()
    return result


def repayment_digest(loan_id: str, amount_fen: int, on: date) -> str:
    # The stored digest names the account "receipt_id" whatever its kind: keys already
    # served must keep replaying.
    return request_digest(REPAY, {"receipt_id": loan_id, "amount_fen": amount_fen, "on": on})


def post_repayment(
    uow: ServicingUnitOfWork,
    loan: LoanAccount,
    *,
    amount_fen: int,
    on: date,
    key: str,
    actor: str,
    funded_by: Account = Account.SETTLEMENT,
) -> RepaymentResult:
    """Post a repayment on a loan locked in ``uow`` (``repay``'s work, in the caller's
    transaction): the money debits ``funded_by``, settlement for money that arrives now, the
    suspense account for money held since an earlier day (``services.servicing.suspense``)."""
    loan_id = loan.loan_id
    check_active(loan)
    check_value_date(loan, on)
    stored_product = uow.products.get(loan.product_id)
    if stored_product is None:
        raise NotFound(f"no product {loan.product_id}")
    product = stored_product.product
    early = False
    if loan.kind is LoanKind.TERM:
        settled = loan.settle_accrued(on, interest=False)
        # Paying more than what is due repays principal early: the running period's
        # interest to date is settled now and the rest of the schedule re-amortised.
        early = amount_fen > settled.due_without_early_repayment_fen
        if early:
            settled = settled.settle_accrued(on)
    else:
        settled = loan.settle_accrued(on)
    after, payment = settled.allocate_payment(amount_fen, product.waterfall, on)
    if early and after.status is LoanStatus.ACTIVE:
        after = _reamortise(uow, after, product, on)
    uow.loans.save(replace(after, version=loan.version + 1))
    if payment.principal_fen and loan.line_id is not None:
        line = uow.lines.get(loan.line_id, for_update=True)
        if line is not None:
            uow.lines.save(
                replace(
                    line,
                    drawn_fen=line.drawn_fen - payment.principal_fen,
                    version=line.version + 1,
                )
            )
    amounts = [
        (funded_by if account is Account.SETTLEMENT else account, value)
        for account, value in payment.ledger_amounts()
    ]
    entry = JournalEntry.build(f"{REPAY}:{key}", on, f"repayment of {loan_id}", amounts)
    uow.ledger.post(entry)
    result = RepaymentResult(
        receipt_id=loan_id,
        amount_fen=amount_fen,
        paid_on=on.isoformat(),
        penalty_fen=payment.penalty_fen,
        compound_fen=payment.compound_fen,
        interest_fen=payment.interest_fen,
        principal_fen=payment.principal_fen,
        outstanding_principal_fen=after.outstanding_principal_fen,
        owed_after_fen=after.total_owed_fen,
        closed=after.status is LoanStatus.CLOSED,
        entry_key=entry.idempotency_key,
        loan_version=loan.version + 1,
    )
    record(
        uow,
        actor=actor,
        action="receipt.repaid",
        entity="receipt",
        entity_id=loan_id,
        payload={
            "amount_fen": amount_fen,
            "on": on.isoformat(),
            "principal_fen": payment.principal_fen,
            "interest_fen": payment.interest_fen,
            "penalty_fen": payment.penalty_fen,
            "compound_fen": payment.compound_fen,
            "closed": result.closed,
            "idempotency_key": key,
        },
    )
    # A re-amortised schedule is not kept in the undo record: such a repayment is final.
    undo = None if early else loan_to_json(loan)
    remember(uow, key, REPAY, repayment_digest(loan_id, amount_fen, on), result, undo_json=undo)
    return result


def _reamortise(
    uow: ServicingUnitOfWork, loan: LoanAccount, product: LoanProduct, on: date
) -> LoanAccount:
    """Rebuild a term loan's remaining schedule from ``on`` on what principal is left unbilled,
    keeping the due dates (reduce the instalment) or the instalment (reduce the term)."""
    remaining = [
        i for i in uow.instalments.schedule(loan.loan_id) if i.period >= loan.current_period
    ]
    balance = loan.unbilled_principal_fen
    if balance == 0 or not remaining:
        uow.instalments.replace_from(loan.loan_id, loan.current_period, [])
        return loan.rescheduled([])
    running = remaining[0]
    kept = (
        running.principal_fen
        if loan.method is RepaymentMethod.EQUAL_PRINCIPAL
        else running.principal_fen + running.interest_fen
    )
    new = reamortise(
        balance,
        loan.annual_rate,
        loan.method,
        on,
        [i.due_date for i in remaining],
        mode=product.early_repayment,
        kept_payment_fen=kept,
        basis=product.basis,
        rounding=product.rounding,
        first_period=loan.current_period,
    )
    rows = accrual_schedule(new, on)
    uow.instalments.replace_from(loan.loan_id, loan.current_period, rows)
    return loan.rescheduled(rows)


@dataclass(frozen=True, slots=True)
class ReversalResult(ResultBase):
    receipt_id: str
    reversed_key: str
    amount_fen: int
    entry_key: str
    replayed: bool = False


def reverse_repayment(
    uow_factory: UowFactory,
    repayment_key: str,
    *,
    idempotency_key: str,
    actor: str,
    reason: str,
) -> ReversalResult:
    """Correct a repayment posted in error: restore the loan and post the reversal entry.

    Only while its business day is open and it is the loan's latest change; the original
    journal entry stays, and the reversal names it. Later corrections need a new event.
    """
    key = check_key(idempotency_key)
    original_key = check_key(repayment_key)
    operation = "reverse_repayment"
    digest = request_digest(operation, {"repayment_key": original_key})
    with uow_factory() as uow:
        stored = uow.requests.get(original_key)
        if stored is None or stored.operation != REPAY:
            raise NotFound(
                f"no repayment with idempotency key {original_key!r}",
                details={"repayment_key": original_key},
            )
        original = RepaymentResult.from_json(stored.result_json)
        loan = _load_loan(uow, original.receipt_id)
        replayed = find_replay(uow, key, operation, digest, ReversalResult)
        if replayed is not None:
            return replayed
        if stored.undo_json is None:
            raise CorrectionNotPossible(
                "an early repayment re-amortised the schedule: post a new event instead"
            )
        if loan.version != original.loan_version:
            raise CorrectionNotPossible(
                f"loan {loan.loan_id} changed after the repayment: reverse later events first",
                details={"repayment_key": original_key},
            )
        paid_on = date.fromisoformat(original.paid_on)
        # A business day is closed once its end of day has started, as for draws. The loan's
        # ``accrued_through`` cannot tell: the end of day moves it only for active loans, so a
        # payoff freezes it (None on the draw day) and a reversal days later would reopen the
        # loan behind the end of day, with a gap in its accrual that blocks every later event.
        closed = uow.business_days.last_closed()
        if closed is not None and paid_on <= closed:
            raise EventOutOfOrder(
                f"business day {paid_on} is closed (end of day ran through {closed}):"
                " the repayment can no longer be reversed",
                details={"paid_on": paid_on.isoformat(), "last_closed": closed.isoformat()},
            )
        before = loan_from_json(stored.undo_json)
        uow.loans.save(replace(before, version=loan.version + 1))
        if original.principal_fen and loan.line_id is not None:
            line = uow.lines.get(loan.line_id, for_update=True)
            if line is not None:
                uow.lines.save(
                    replace(
                        line,
                        drawn_fen=line.drawn_fen + original.principal_fen,
                        version=line.version + 1,
                    )
                )
        entry = uow.ledger.get(original.entry_key)
        if entry is None:
            raise NotFound(f"no journal entry {original.entry_key}")
        reversal = entry.reversal(f"{operation}:{key}", paid_on)
        uow.ledger.post(reversal)
        # A repayment applied from suspense gives its money back to suspense (the reversal
        # credits it), so its item is on hold again, to be applied anew or refunded.
        applied = uow.suspense.applied_as(original_key)
        if applied is not None:
            reopened = applied.reopened()
            uow.suspense.save(reopened)
            record(
                uow,
                actor=actor,
                action="suspense.reopened",
                entity="repayment_suspense",
                entity_id=reopened.item_id,
                payload={"repayment_key": original_key, "reason": reason},
            )
        result = ReversalResult(
            receipt_id=loan.loan_id,
            reversed_key=original_key,
            amount_fen=original.amount_fen,
            entry_key=reversal.idempotency_key,
        )
        record(
            uow,
            actor=actor,
            action="receipt.repayment_reversed",
            entity="receipt",
            entity_id=loan.loan_id,
            payload={"repayment_key": original_key, "reason": reason, "idempotency_key": key},
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


@dataclass(frozen=True, slots=True)
class WriteOffResult(ResultBase):
    receipt_id: str
    written_off_on: str
    principal_fen: int
    income_fen: int
    written_off_fen: int
    entry_key: str
    replayed: bool = False


def write_off(
    uow_factory: UowFactory,
    loan_id: LoanAccountId,
    *,
    on: date,
    idempotency_key: str,
    actor: str,
    reason: str,
) -> WriteOffResult:
    """Write a loan off (核销): its receivables go to expense, the claim is kept for recovery.

    A receipt's line is frozen: a borrower whose debt was written off does not draw again.
    """
    key = check_key(idempotency_key)
    operation = "write_off"
    digest = request_digest(operation, {"receipt_id": loan_id, "on": on})
    with uow_factory() as uow:
        loan = _load_loan(uow, loan_id)
        replayed = find_replay(uow, key, operation, digest, WriteOffResult)
        if replayed is not None:
            return replayed
        if loan.status is not LoanStatus.ACTIVE:
            raise _not_active(loan)
        check_value_date(loan, on)
        written_off, written = loan.write_off(on)
        entry = JournalEntry.build(
            f"{operation}:{key}", on, f"write-off of {loan_id}", written.ledger_amounts()
        )
        uow.ledger.post(entry)
        uow.loans.save(replace(written_off, version=loan.version + 1))
        if loan.line_id is not None:
            line = uow.lines.get(loan.line_id, for_update=True)
            if line is not None:
                uow.lines.save(
                    replace(
                        line,
                        drawn_fen=max(0, line.drawn_fen - written.principal_fen),
                        status=LineStatus.FROZEN,
                        version=line.version + 1,
                    )
                )
        result = WriteOffResult(
            receipt_id=loan_id,
            written_off_on=on.isoformat(),
            principal_fen=written.principal_fen,
            income_fen=written.claim_fen - written.principal_fen,
            written_off_fen=written.claim_fen,
            entry_key=entry.idempotency_key,
        )
        record(
            uow,
            actor=actor,
            action="receipt.written_off",
            entity="receipt",
            entity_id=loan_id,
            payload={
                "on": on.isoformat(),
                "principal_fen": written.principal_fen,
                "claim_fen": written.claim_fen,
                "reason": reason,
                "idempotency_key": key,
            },
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


@dataclass(frozen=True, slots=True)
class RecoveryResult(ResultBase):
    receipt_id: str
    amount_fen: int
    recovered_on: str
    recovered_total_fen: int
    entry_key: str
    replayed: bool = False


def recover(
    uow_factory: UowFactory,
    loan_id: LoanAccountId,
    *,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    actor: str,
) -> RecoveryResult:
    """Cash collected on a written-off loan: income from recoveries, up to the claim."""
    key = check_key(idempotency_key)
    require_positive(amount_fen, "recovery amount")
    operation = "recover"
    digest = request_digest(operation, {"receipt_id": loan_id, "amount_fen": amount_fen, "on": on})
    with uow_factory() as uow:
        loan = _load_loan(uow, loan_id)
        replayed = find_replay(uow, key, operation, digest, RecoveryResult)
        if replayed is not None:
            return replayed
        if loan.status is not LoanStatus.WRITTEN_OFF:
            raise NotWrittenOff(f"loan {loan_id} is {loan.status.value}, not written off")
        if loan.closed_on is not None and on < loan.closed_on:
            raise InvalidDate(f"{on} is before the write-off ({loan.closed_on})")
        recovered = loan.recover(amount_fen)
        uow.loans.save(replace(recovered, version=loan.version + 1))
        entry = JournalEntry.build(
            f"{operation}:{key}",
            on,
            f"recovery on {loan_id}",
            [(Account.SETTLEMENT, amount_fen), (Account.RECOVERY_INCOME, -amount_fen)],
        )
        uow.ledger.post(entry)
        result = RecoveryResult(
            receipt_id=loan_id,
            amount_fen=amount_fen,
            recovered_on=on.isoformat(),
            recovered_total_fen=recovered.recovered_fen,
            entry_key=entry.idempotency_key,
        )
        record(
            uow,
            actor=actor,
            action="receipt.recovered",
            entity="receipt",
            entity_id=loan_id,
            payload={"amount_fen": amount_fen, "on": on.isoformat(), "idempotency_key": key},
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result
