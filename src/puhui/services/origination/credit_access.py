"""Credit access: the collaborators of servicing's API, and who may see which line or receipt.

What each caller may do sits with what it serves: lines and draws in ``line_access``,
receipts and repayments in ``receipt_access``, strategies and models in ``strategy_access``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import CreditLineId
from puhui.domain.lending import suspense
from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.services import strategies
from puhui.services.origination.ports import OriginationUnitOfWork
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.idempotency import MAX_KEY_LENGTH
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import CreditLineRecord

if TYPE_CHECKING:
    # The registry pulls in the modelling stack (seconds to import); only its types here.
    from puhui.risk.registry import ModelRegistry


@dataclass
class CreditAccess:
    """The collaborators of the servicing part of the API; built once by the composition root."""

    origination_uow: Callable[[], OriginationUnitOfWork]
    servicing_uow: Callable[[], ServicingUnitOfWork]
    today: Callable[[], date]
    strategies_uow: strategies.UowFactory | None = None
    model_registry: ModelRegistry | None = None
    servicing_reader: Callable[[], ServicingUnitOfWork] | None = None
    """Read-only units of work for statements and lists (``servicing_uow`` when not wired)."""
    suspense_max_days: int = suspense.DEFAULT_MAX_DAYS
    """Days an item may stay in suspense before it is overdue (the setting of that name)."""


def _not_found_line(line_id: str) -> NotFound:
    return NotFound("no such credit line", details={"line_id": line_id})


def ensure_line_visible(access: CreditAccess, actor: Principal, line_id: str) -> None:
    """Staff see every line; applicants their own, partners their referrals; others: 404."""
    if actor.is_staff:
        return
    with access.origination_uow() as uow:
        owned = uow.applications.owns_credit_line(
            line_id,
            applicant_user_id=actor.user_id if actor.role is Role.APPLICANT else None,
            partner_id=actor.partner_id if actor.role is Role.PARTNER else None,
        )
    if not owned:
        raise _not_found_line(line_id)


def stored_line(access: CreditAccess, line_id: str) -> CreditLineRecord:
    """The line as servicing stores it; 404 when there is none."""
    with access.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    if line is None:
        raise _not_found_line(line_id)
    return line


def visible_receipt(access: CreditAccess, actor: Principal, receipt_id: str) -> LoanRecord:
    """The receipt, if the caller may see its line (else 404, as for a receipt that is not)."""
    with access.servicing_uow() as uow:
        receipt = uow.loans.get(receipt_id)
    missing = NotFound("no such receipt", details={"receipt_id": receipt_id})
    if receipt is None:
        raise missing
    if not actor.is_staff:
        if receipt.line_id is None:
            raise missing
        try:
            ensure_line_visible(access, actor, receipt.line_id)
        except NotFound:
            raise missing from None
    return receipt


def scoped_key(actor: Principal, idempotency_key: str) -> str:
    """Keys are per caller: another caller's key never replays (or blocks) this one."""
    key = f"{actor.user_id}:{idempotency_key.strip()}"
    if not idempotency_key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "the Idempotency-Key header is missing or too long",
            details={"max_length": MAX_KEY_LENGTH - len(actor.user_id) - 1},
        )
    return key
