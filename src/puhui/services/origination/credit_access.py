"""Credit lines, receipts, strategies and models as callers see them: roles and ownership first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.services import strategies
from puhui.services.origination.ports import OriginationUnitOfWork
from puhui.services.security.permissions import Permission, Principal, Role, require
from puhui.services.servicing import lines, receipts, statements
from puhui.services.servicing.idempotency import MAX_KEY_LENGTH
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import CreditLineRecord

if TYPE_CHECKING:
    # The registry pulls in the modelling stack (seconds to import); only its types here.
    from puhui.risk.registry import ModelRegistry, RegistryEntry


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


@dataclass(frozen=True, slots=True)
class ReceiptSchedule:
    receipt: LoanRecord
    instalments: tuple[ScheduledInstalment, ...]


def _not_found_line(line_id: str) -> NotFound:
    return NotFound("no such credit line", details={"line_id": line_id})


def _ensure_line_visible(access: CreditAccess, actor: Principal, line_id: str) -> None:
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


def _line(access: CreditAccess, line_id: str) -> CreditLineRecord:
    with access.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    if line is None:
        raise _not_found_line(line_id)
    return line


def _receipt(access: CreditAccess, actor: Principal, receipt_id: str) -> LoanRecord:
    with access.servicing_uow() as uow:
        receipt = uow.loans.get(receipt_id)
    missing = NotFound("no such receipt", details={"receipt_id": receipt_id})
    if receipt is None:
        raise missing
    if not actor.is_staff:
        if receipt.line_id is None:
            raise missing
        try:
            _ensure_line_visible(access, actor, receipt.line_id)
        except NotFound:
            raise missing from None
    return receipt


def _scoped_key(actor: Principal, idempotency_key: str) -> str:
    """Keys are per caller: another caller's key never replays (or blocks) this one."""
    key = f"{actor.user_id}:{idempotency_key.strip()}"
    if not idempotency_key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "the Idempotency-Key header is missing or too long",
            details={"max_length": MAX_KEY_LENGTH - len(actor.user_id) - 1},
        )
    return key


def get_line(access: CreditAccess, *, actor: Principal, line_id: str) -> CreditLineRecord:
    require(actor, Permission.LINE_READ)
    _ensure_line_visible(access, actor, line_id)
    return _line(access, line_id)


def freeze_line(
    access: CreditAccess, *, actor: Principal, line_id: str, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_MANAGE)
    _line(access, line_id)
    return lines.freeze_credit_line(
        access.servicing_uow, CreditLineId(line_id), actor=actor.audit_name(), reason=reason
    )


def unfreeze_line(
    access: CreditAccess, *, actor: Principal, line_id: str, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_MANAGE)
    _line(access, line_id)
    return lines.unfreeze_credit_line(
        access.servicing_uow, CreditLineId(line_id), actor=actor.audit_name(), reason=reason
    )


def reduce_limit(
    access: CreditAccess, *, actor: Principal, line_id: str, new_limit_fen: int, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_REDUCE)
    _line(access, line_id)
    return lines.reduce_credit_limit(
        access.servicing_uow,
        CreditLineId(line_id),
        new_limit_fen=new_limit_fen,
        actor=actor.audit_name(),
        reason=reason,
    )


def draw(
    access: CreditAccess,
    *,
    actor: Principal,
    line_id: str,
    amount_fen: int,
    maturity_date: date,
    idempotency_key: str,
) -> lines.DrawResult:
    """The owner draws a receipt on their line, dated today (the platform's business date)."""
    require(actor, Permission.DRAW)
    _ensure_line_visible(access, actor, line_id)
    _line(access, line_id)
    return lines.draw(
        access.servicing_uow,
        CreditLineId(line_id),
        amount_fen=amount_fen,
        on=access.today(),
        maturity_date=maturity_date,
        idempotency_key=_scoped_key(actor, idempotency_key),
        actor=actor.audit_name(),
    )


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
    _receipt(access, actor, receipt_id)
    return receipts.repay(
        access.servicing_uow,
        ReceiptId(receipt_id),
        amount_fen=amount_fen,
        on=access.today(),
        idempotency_key=_scoped_key(actor, idempotency_key),
        actor=actor.audit_name(),
    )


def line_statement(
    access: CreditAccess, *, actor: Principal, line_id: str, period: str
) -> statements.Statement:
    """The statement of one interest cycle (``YYYY-MM``); who may read it: as for the line."""
    get_line(access, actor=actor, line_id=line_id)
    year, month = statements.parse_period(period)
    return statements.line_statement(
        access.servicing_reader or access.servicing_uow,
        CreditLineId(line_id),
        year=year,
        month=month,
        today=access.today(),
    )


def line_receipts(
    access: CreditAccess, *, actor: Principal, line_id: str, limit: int, offset: int
) -> list[LoanRecord]:
    """The line's receipts (借据), oldest draw first; who may read them: as for the line."""
    get_line(access, actor=actor, line_id=line_id)
    return statements.line_receipts(
        access.servicing_reader or access.servicing_uow,
        CreditLineId(line_id),
        limit=limit,
        offset=offset,
    )


def receipt_schedule(access: CreditAccess, *, actor: Principal, receipt_id: str) -> ReceiptSchedule:
    """A receipt's balances and, for instalment loans, its instalments."""
    require(actor, Permission.LINE_READ)
    receipt = _receipt(access, actor, receipt_id)
    with access.servicing_uow() as uow:
        instalments = tuple(uow.instalments.schedule(receipt_id))
    return ReceiptSchedule(receipt, instalments)


def _strategies_uow(access: CreditAccess) -> strategies.UowFactory:
    if access.strategies_uow is None:
        raise NotFound("strategies are not available on this server")
    return access.strategies_uow


def list_strategies(
    access: CreditAccess, *, actor: Principal, name: str | None = None
) -> list[strategies.StrategyVersion]:
    require(actor, Permission.STRATEGY_READ)
    return strategies.list_versions(_strategies_uow(access), name)


def get_strategy(
    access: CreditAccess, *, actor: Principal, name: str, version: int
) -> strategies.StrategyVersion:

    require(actor, Permission.STRATEGY_READ)
    return strategies.get_version(_strategies_uow(access), name, version)


def _registry(access: CreditAccess) -> ModelRegistry:
    if access.model_registry is None:
        raise NotFound("the model registry is not available on this server")
    return access.model_registry


def list_models(access: CreditAccess, *, actor: Principal) -> list[RegistryEntry]:
    require(actor, Permission.MODEL_READ)
    return _registry(access).entries()


def get_model(access: CreditAccess, *, actor: Principal, version: str) -> RegistryEntry:
    require(actor, Permission.MODEL_READ)
    return _registry(access).get(version)
