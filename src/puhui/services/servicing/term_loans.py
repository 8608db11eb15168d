"""Use cases of term loans: disburse one on its schedule (等额本息, 等额本金, 先息后本,
一次还本付息) and call one in early (提前收回)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from puhui.domain.errors import InvalidAmount, NotFound
from puhui.domain.ids import LoanId, ProductId, new_id
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.lending.acceleration import accelerate_term
from puhui.domain.lending.account import MAX_LOAN_PRINCIPAL_FEN, LoanAccount, LoanKind
from puhui.domain.lending.errors import EventOutOfOrder, MethodNotSupported
from puhui.domain.lending.integer_interest import check_rate_places
from puhui.domain.lending.schedule import accrual_schedule, build_schedule
from puhui.domain.money import require_positive
from puhui.services.audit import record
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.receipts import check_value_date

UowFactory = Callable[[], ServicingUnitOfWork]


@dataclass(frozen=True, slots=True)
class DisbursementResult(ResultBase):
    loan_id: str
    principal_fen: int
    disbursed_on: str
    maturity_date: str
    instalments: int
    total_interest_fen: int
    entry_key: str
    replayed: bool = False


def disburse_term_loan(
    uow_factory: UowFactory,
    *,
    enterprise_id: str,
    product_id: ProductId,
    principal_fen: int,
    annual_rate: Decimal,
    term_months: int,
    on: date,
    idempotency_key: str,
    actor: str,
    first_due_date: date | None = None,
) -> DisbursementResult:
    """Disburse a term loan: its schedule is stored and its principal booked, in one go."""
    key = check_key(idempotency_key)
    require_positive(principal_fen, "principal")
    if principal_fen > MAX_LOAN_PRINCIPAL_FEN:
        raise InvalidAmount(
            f"a loan may not exceed {MAX_LOAN_PRINCIPAL_FEN} fen (10 million yuan)",
            details={"principal_fen": principal_fen},
        )
    check_rate_places(annual_rate)
    operation = "disburse_term_loan"
    digest = request_digest(
        operation,
        {
            "enterprise_id": enterprise_id,
            "product_id": product_id,
            "principal_fen": principal_fen,
            "annual_rate": str(annual_rate),
            "term_months": term_months,
            "on": on,
            "first_due_date": first_due_date,
        },
    )
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, DisbursementResult)
        if replayed is not None:
            return replayed
        stored = uow.products.get(product_id)
        if stored is None:
            raise NotFound(f"no product {product_id}", details={"product_id": product_id})
        product = stored.product
        if not product.method.has_schedule:
            raise MethodNotSupported(
                f"product {product.code} is {product.method.value}: draw on a credit line instead"
            )
        product.validate_terms(principal_fen, annual_rate, term_months)
        closed = uow.business_days.last_closed()
        if closed is not None and on <= closed:
            raise EventOutOfOrder(
                f"business day {on} is closed (end of day ran through {closed})",
                details={"last_closed": closed.isoformat()},
            )
        plan = build_schedule(
            principal_fen,
            annual_rate,
            term_months,
            product.method,
            on,
            basis=product.basis,
            rounding=product.rounding,
            first_due_date=first_due_date,
        )
        rows = accrual_schedule(plan, on)
        loan_id = LoanId(new_id("loan"))
        uow.loans.add(
            LoanAccount.new(
                loan_id=loan_id,
                line_id=None,
                product=product,
                product_id=product_id,
                enterprise_id=enterprise_id,
                annual_rate=annual_rate,
                kind=LoanKind.TERM,
                method=product.method,
                principal_fen=principal_fen,
                disbursed_on=on,
                maturity_date=rows[-1].due_date,
                current_period=1,
                next_due_date=rows[0].due_date,
                period_interest_fen=rows[0].interest_fen,
                period_principal_fen=rows[0].principal_fen,
                period_days=rows[0].period_days,
            )
        )
        uow.instalments.replace_from(loan_id, 1, rows)
        entry = JournalEntry.build(
            f"{operation}:{key}",
            on,
            f"disbursement of term loan {loan_id}",
            [(Account.PRINCIPAL_RECEIVABLE, principal_fen), (Account.SETTLEMENT, -principal_fen)],
        )
        uow.ledger.post(entry)
        result = DisbursementResult(
            loan_id=loan_id,
            principal_fen=principal_fen,
            disbursed_on=on.isoformat(),
            maturity_date=rows[-1].due_date.isoformat(),
            instalments=len(rows),
            total_interest_fen=sum(r.interest_fen for r in rows),
            entry_key=entry.idempotency_key,
        )
        record(
            uow,
            actor=actor,
            action="term_loan.disbursed",
            entity="loan",
            entity_id=loan_id,
            payload={
                "product_id": product_id,
                "principal_fen": principal_fen,
                "annual_rate": str(annual_rate),
                "term_months": term_months,
                "method": product.method.value,
                "on": on.isoformat(),
                "idempotency_key": key,
            },
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


@dataclass(frozen=True, slots=True)
class CalledIn:
    loan_id: str
    called_fen: int
    """Principal falling due on the recall date that was not due before it."""
    interest_fen: int
    """The running period's interest to date, due with it."""
    previous_maturity: str


def accelerate_term_loan(
    uow_factory: UowFactory, loan_id: str, *, on: date, actor: str, reason: str
) -> CalledIn | None:
    """Call a term loan in early (提前收回): every instalment falls due on ``on``.

    The running period ends on ``on`` with its interest to date; the instalments after it are
    replaced by one, due on ``on``, of all the principal not yet billed (the schedule keeps the
    instalments already billed). From the next day what is unpaid is overdue and runs penalty
    interest as any instalment does. Nothing is posted: the receivables are the same balances
    with an earlier due date. ``on`` is the loan's open business day, as for a repayment. A
    loan whose last instalment has fallen due already is left as it is (None).
    """
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id, for_update=True)
        if loan is None:
            raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
        check_value_date(loan, on)
        running = next(
            (i for i in uow.instalments.schedule(loan_id) if i.period == loan.current_period),
            None,
        )
        after, called = accelerate_term(loan, running, on)
        if called is None:
            return None
        uow.loans.save(replace(after, version=loan.version + 1))
        uow.instalments.replace_from(loan_id, called.period, [called])
        result = CalledIn(
            loan_id=loan_id,
            called_fen=called.principal_fen,
            interest_fen=called.interest_fen,
            previous_maturity=loan.maturity_date.isoformat(),
        )
        record(
            uow,
            actor=actor,
            action="term_loan.accelerated",
            entity="loan",
            entity_id=loan_id,
            payload={
                "on": on.isoformat(),
                "period": called.period,
                "principal_fen": called.principal_fen,
                "interest_fen": called.interest_fen,
                "outstanding_principal_fen": after.outstanding_principal_fen,
                "previous_maturity": result.previous_maturity,
                "reason": reason,
            },
        )
        uow.commit()
    return result
