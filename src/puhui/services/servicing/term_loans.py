"""Use case: disburse a term loan on its schedule (等额本息, 等额本金, 先息后本, 一次还本付息)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from puhui.domain.errors import InvalidAmount, NotFound
from puhui.domain.ids import LoanId, ProductId, new_id
from puhui.domain.ledger import Account, JournalEntry
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
