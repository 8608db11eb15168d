"""Use cases of credit lines (授信额度): open, freeze, unfreeze, reduce, draw, recall early."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from puhui.domain.errors import InvalidAmount, InvalidDate, NotFound
from puhui.domain.ids import CreditLineId, ProductId, ReceiptId, new_id
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.lending.acceleration import accelerate
from puhui.domain.lending.account import (
    MAX_LOAN_PRINCIPAL_FEN,
    LoanAccount,
    LoanKind,
    LoanStatus,
)
from puhui.domain.lending.errors import (
    EventOutOfOrder,
    InsufficientLimit,
    LineExpired,
    LineFrozen,
    MethodNotSupported,
)
from puhui.domain.lending.integer_interest import check_rate_places, penalty_rate_e8
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
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
from puhui.services.servicing.records import CreditLineRecord, LineStatus

UowFactory = Callable[[], ServicingUnitOfWork]
OPEN_LINE = "open_credit_line"
"""The operation under which an opening's idempotency key is logged."""


@dataclass(frozen=True, slots=True)
class LineOpened(ResultBase):
    line_id: str
    replayed: bool = False


def open_credit_line(
    uow_factory: UowFactory,
    *,
    enterprise_id: str,
    product_id: ProductId,
    limit_fen: int,
    annual_rate: Decimal,
    opened_on: date,
    expiry_date: date,
    actor: str,
    idempotency_key: str | None = None,
) -> CreditLineId:
    """Open a revolving line on a daily-interest product, within the product's bounds.

    With an ``idempotency_key`` the line and its request log commit in one transaction: the
    same key and request answer with the line opened first, a crash leaves neither, and the
    key reused for another request is a 409.
    """
    key = None if idempotency_key is None else check_key(idempotency_key)
    require_positive(limit_fen, "credit limit")
    if expiry_date <= opened_on:
        raise InvalidDate(f"line expiry {expiry_date} must be after its opening {opened_on}")
    check_rate_places(annual_rate)
    digest = request_digest(
        OPEN_LINE,
        {
            "enterprise_id": enterprise_id,
            "product_id": product_id,
            "limit_fen": limit_fen,
            "annual_rate": str(annual_rate),
            "opened_on": opened_on,
            "expiry_date": expiry_date,
        },
    )
    with uow_factory() as uow:
        if key is not None:
            replayed = find_replay(uow, key, OPEN_LINE, digest, LineOpened)
            if replayed is not None:
                return CreditLineId(replayed.line_id)
        stored = uow.products.get(product_id)
        if stored is None:
            raise NotFound(f"no product {product_id}", details={"product_id": product_id})
        product = stored.product
        if product.method is not RepaymentMethod.DAILY_REVOLVING:
            raise MethodNotSupported(
                f"product {product.code} is {product.method.value}:"
                " credit lines need daily-revolving"
            )
        product.validate_terms(limit_fen, annual_rate, product.min_term_months)
        penalty_rate_e8(annual_rate, product.penalty_uplift)
        line_id = CreditLineId(new_id("line"))
        uow.lines.add(
            CreditLineRecord(
                line_id=line_id,
                enterprise_id=enterprise_id,
                product_id=product_id,
                annual_rate=annual_rate,
                limit_fen=limit_fen,
                drawn_fen=0,
                opened_on=opened_on,
                expiry_date=expiry_date,
                status=LineStatus.ACTIVE,
                version=1,
            )
        )
        record(
            uow,
            actor=actor,
            action="credit_line.opened",
            entity="credit_line",
            entity_id=line_id,
            payload={
                "product_id": product_id,
                "limit_fen": limit_fen,
                "annual_rate": str(annual_rate),
                "opened_on": opened_on.isoformat(),
                "expiry_date": expiry_date.isoformat(),
            },
        )
        if key is not None:
            remember(uow, key, OPEN_LINE, digest, LineOpened(line_id))
        uow.commit()
    return line_id


def _load_line(uow: ServicingUnitOfWork, line_id: CreditLineId) -> CreditLineRecord:
    line = uow.lines.get(line_id, for_update=True)
    if line is None:
        raise NotFound(f"no credit line {line_id}", details={"line_id": line_id})
    return line


def _change_line(
    uow_factory: UowFactory,
    line_id: CreditLineId,
    *,
    actor: str,
    action: str,
    reason: str,
    status: LineStatus | None = None,
    limit_fen: int | None = None,
) -> CreditLineRecord:
    with uow_factory() as uow:
        line = _load_line(uow, line_id)
        changed = replace(
            line,
            status=status or line.status,
            limit_fen=line.limit_fen if limit_fen is None else limit_fen,
            version=line.version + 1,
        )
        uow.lines.save(changed)
        record(
            uow,
            actor=actor,
            action=action,
            entity="credit_line",
            entity_id=line_id,
            payload={
                "reason": reason,
                "status": changed.status.value,
                "limit_fen": changed.limit_fen,
                "previous_limit_fen": line.limit_fen,
            },
        )
        uow.commit()
    return changed


def freeze_credit_line(
    uow_factory: UowFactory, line_id: CreditLineId, *, actor: str, reason: str
) -> CreditLineRecord:
    """Stop new draws (early warning, dispute); repayments are still taken."""
    return _change_line(
        uow_factory,
        line_id,
        actor=actor,
        action="credit_line.frozen",
        reason=reason,
        status=LineStatus.FROZEN,
    )


def unfreeze_credit_line(
    uow_factory: UowFactory, line_id: CreditLineId, *, actor: str, reason: str
) -> CreditLineRecord:
    return _change_line(
        uow_factory,
        line_id,
        actor=actor,
        action="credit_line.unfrozen",
        reason=reason,
        status=LineStatus.ACTIVE,
    )


def reduce_credit_limit(
    uow_factory: UowFactory, line_id: CreditLineId, *, new_limit_fen: int, actor: str, reason: str
) -> CreditLineRecord:
    """Lower the limit. Below what is drawn, nothing is called in: available becomes zero."""
    with uow_factory() as uow:
        current = _load_line(uow, line_id).limit_fen
    if isinstance(new_limit_fen, bool) or not isinstance(new_limit_fen, int) or new_limit_fen < 0:
        raise InvalidAmount(
            f"a credit limit must be a non-negative integer of fen, got {new_limit_fen!r}"
        )
    if new_limit_fen >= current:
        raise InvalidAmount(
            f"a reduction must lower the limit ({current} fen), got {new_limit_fen} fen",
            details={"limit_fen": current, "new_limit_fen": new_limit_fen},
        )
    return _change_line(
        uow_factory,
        line_id,
        actor=actor,
        action="credit_line.reduced",
        reason=reason,
        limit_fen=new_limit_fen,
    )


@dataclass(frozen=True, slots=True)
class DrawResult(ResultBase):
    receipt_id: str
    line_id: str
    amount_fen: int
    drawn_on: str
    maturity_date: str
    entry_key: str
    available_fen: int
    replayed: bool = False
    payee: str | None = None
    """The payee of an entrusted payment (受托支付); None: the borrower."""


def draw(
    uow_factory: UowFactory,
    line_id: CreditLineId,
    *,
    amount_fen: int,
    on: date,
    maturity_date: date,
    idempotency_key: str,
    actor: str,
    payee: str | None = None,
) -> DrawResult:
    """Draw on a line: a new receipt (借据), daily interest, repay any time (随借随还).

    ``payee``: the proceeds go to this enterprise, not the borrower (受托支付, entrusted
    payment): recorded on the receipt, in the entry's narrative and in the audit event. The
    borrower owes the receipt as any other; the ledger entry is the same.
    """
    key = check_key(idempotency_key)
    require_positive(amount_fen, "draw amount")
    if amount_fen > MAX_LOAN_PRINCIPAL_FEN:
        raise InvalidAmount(
            f"a receipt may not exceed {MAX_LOAN_PRINCIPAL_FEN} fen (10 million yuan)",
            details={"amount_fen": amount_fen},
        )
    if maturity_date <= on:
        raise InvalidDate(f"maturity {maturity_date} must be after the draw date {on}")
    operation = "draw"
    digest = request_digest(
        operation,
        {
            "line_id": line_id,
            "amount_fen": amount_fen,
            "on": on,
            "maturity_date": maturity_date,
            # Only when given: a draw to the borrower hashes as before payees existed.
            **({} if payee is None else {"payee": payee}),
        },
    )
    with uow_factory() as uow:
        line = _load_line(uow, line_id)
        replayed = find_replay(uow, key, operation, digest, DrawResult)
        if replayed is not None:
            return replayed
        if line.status is LineStatus.FROZEN:
            raise LineFrozen(f"credit line {line_id} is frozen", details={"line_id": line_id})
        if on < line.opened_on:
            raise InvalidDate(f"draw date {on} is before the line opened ({line.opened_on})")
        if on > line.expiry_date:
            raise LineExpired(
                f"credit line {line_id} expired on {line.expiry_date}",
                details={"line_id": line_id, "expiry_date": line.expiry_date.isoformat()},
            )
        if maturity_date > line.expiry_date:
            raise InvalidDate(
                f"maturity {maturity_date} is after the line's expiry {line.expiry_date}"
            )
        closed = uow.business_days.last_closed()
        if closed is not None and on <= closed:
            raise EventOutOfOrder(
                f"business day {on} is closed (end of day ran through {closed})",
                details={"last_closed": closed.isoformat()},
            )
        if amount_fen > line.available_fen:
            raise InsufficientLimit(amount_fen, line.available_fen)
        stored_product = uow.products.get(line.product_id)
        if stored_product is None:
            raise NotFound(f"no product {line.product_id}")
        product = stored_product.product
        receipt_id = ReceiptId(new_id("rcpt"))
        receipt = _new_receipt(
            receipt_id, line, product, amount_fen=amount_fen, on=on, maturity_date=maturity_date
        )
        uow.loans.add(receipt if payee is None else replace(receipt, payee=payee))
        updated_line = replace(
            line, drawn_fen=line.drawn_fen + amount_fen, version=line.version + 1
        )
        uow.lines.save(updated_line)
        entry = JournalEntry.build(
            f"{operation}:{key}",
            on,
            f"draw {receipt_id} on line {line_id}"
            + ("" if payee is None else f", paid to {payee} (entrusted payment)"),
            [(Account.PRINCIPAL_RECEIVABLE, amount_fen), (Account.SETTLEMENT, -amount_fen)],
        )
        uow.ledger.post(entry)
        result = DrawResult(
            receipt_id=receipt_id,
            line_id=line_id,
            amount_fen=amount_fen,
            drawn_on=on.isoformat(),
            maturity_date=maturity_date.isoformat(),
            entry_key=entry.idempotency_key,
            available_fen=updated_line.available_fen,
            payee=payee,
        )
        record(
            uow,
            actor=actor,
            action="receipt.drawn",
            entity="receipt",
            entity_id=receipt_id,
            payload={
                "line_id": line_id,
                "amount_fen": amount_fen,
                "on": on.isoformat(),
                "idempotency_key": key,
                **({} if payee is None else {"payee": payee}),
            },
        )
        remember(uow, key, operation, digest, result)
        uow.commit()
    return result


def _new_receipt(
    receipt_id: ReceiptId,
    line: CreditLineRecord,
    product: LoanProduct,
    *,
    amount_fen: int,
    on: date,
    maturity_date: date,
) -> LoanAccount:
    return LoanAccount.new(
        loan_id=receipt_id,
        line_id=line.line_id,
        product=product,
        product_id=line.product_id,
        enterprise_id=line.enterprise_id,
        annual_rate=line.annual_rate,
        kind=LoanKind.RECEIPT,
        method=RepaymentMethod.DAILY_REVOLVING,
        principal_fen=amount_fen,
        disbursed_on=on,
        maturity_date=maturity_date,
    )


@dataclass(frozen=True, slots=True)
class Accelerated:
    receipt_id: str
    called_fen: int
    """Principal now due on the recall date."""


def accelerate_line(
    uow_factory: UowFactory, line_id: CreditLineId, *, on: date, actor: str, reason: str
) -> list[Accelerated]:
    """Call in every active receipt of a line (提前收回) and freeze the line, one transaction.

    Each receipt's outstanding principal and its interest to date fall due on ``on``; the
    line takes no new draws. Receipts already due are left as they are.
    """
    with uow_factory() as uow:
        line = _load_line(uow, line_id)
        called: list[Accelerated] = []
        for receipt in uow.loans.of_line(line_id):
            if receipt.status is not LoanStatus.ACTIVE or receipt.outstanding_principal_fen == 0:
                continue
            changed = accelerate(receipt, on)
            if changed is receipt:
                continue
            uow.loans.save(replace(changed, version=receipt.version + 1))
            record(
                uow,
                actor=actor,
                action="receipt.accelerated",
                entity="receipt",
                entity_id=receipt.loan_id,
                payload={
                    "line_id": line_id,
                    "on": on.isoformat(),
                    "principal_fen": receipt.outstanding_principal_fen,
                    "previous_maturity": receipt.maturity_date.isoformat(),
                    "reason": reason,
                },
            )
            called.append(Accelerated(receipt.loan_id, receipt.outstanding_principal_fen))
        if line.status is not LineStatus.FROZEN:
            uow.lines.save(replace(line, status=LineStatus.FROZEN, version=line.version + 1))
            record(
                uow,
                actor=actor,
                action="credit_line.frozen",
                entity="credit_line",
                entity_id=line_id,
                payload={
                    "reason": reason,
                    "status": LineStatus.FROZEN.value,
                    "limit_fen": line.limit_fen,
                    "previous_limit_fen": line.limit_fen,
                },
            )
        uow.commit()
    return called
