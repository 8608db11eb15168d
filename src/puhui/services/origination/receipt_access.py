"""Receipts (借据) as callers see them: repay and read the schedule; roles and ownership first."""

from __future__ import annotations

from dataclasses import dataclass

from puhui.domain.ids import ReceiptId
from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.services.origination.credit_access import CreditAccess, scoped_key, visible_receipt
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing import receipts


@dataclass(frozen=True, slots=True)
class ReceiptSchedule:
    receipt: LoanRecord
    instalments: tuple[ScheduledInstalment, ...]


def repay(
    access: CreditAccess,
    *,
    actor: Principal,
    receipt_id: str,
    amount_fen: int,
    idempotency_key: str,
) -> receipts.RepaymentResult:
    """A repayment on a receipt, valued today, allocated by the servicing waterfall."""
    require(actor, Permission.REPAY)
    visible_receipt(access, actor, receipt_id)
    return receipts.repay(
        access.servicing_uow,
        ReceiptId(receipt_id),
        amount_fen=amount_fen,
        on=access.today(),
        idempotency_key=scoped_key(actor, idempotency_key),
        actor=actor.audit_name(),
    )


def receipt_schedule(access: CreditAccess, *, actor: Principal, receipt_id: str) -> ReceiptSchedule:
    """A receipt's balances and, for instalment loans, its instalments."""
    require(actor, Permission.LINE_READ)
    receipt = visible_receipt(access, actor, receipt_id)
    with access.servicing_uow() as uow:
        instalments = tuple(uow.instalments.schedule(receipt_id))
    return ReceiptSchedule(receipt, instalments)
