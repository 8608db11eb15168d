"""Credit lines as callers see them: read, freeze, reduce, draw, statements; roles first."""

from __future__ import annotations

from datetime import date

from puhui.domain.ids import CreditLineId
from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.domain.origination.errors import Forbidden
from puhui.services.origination.credit_access import (
    CreditAccess,
    ensure_line_visible,
    scoped_key,
    stored_line,
)
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing import line_list, lines, statements
from puhui.services.servicing.records import CreditLineRecord


def get_line(access: CreditAccess, *, actor: Principal, line_id: str) -> CreditLineRecord:
    require(actor, Permission.LINE_READ)
    ensure_line_visible(access, actor, line_id)
    return stored_line(access, line_id)


def freeze_line(
    access: CreditAccess, *, actor: Principal, line_id: str, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_MANAGE)
    stored_line(access, line_id)
    return lines.freeze_credit_line(
        access.servicing_uow, CreditLineId(line_id), actor=actor.audit_name(), reason=reason
    )


def unfreeze_line(
    access: CreditAccess, *, actor: Principal, line_id: str, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_MANAGE)
    stored_line(access, line_id)
    return lines.unfreeze_credit_line(
        access.servicing_uow, CreditLineId(line_id), actor=actor.audit_name(), reason=reason
    )


def reduce_limit(
    access: CreditAccess, *, actor: Principal, line_id: str, new_limit_fen: int, reason: str
) -> CreditLineRecord:
    require(actor, Permission.LINE_REDUCE)
    stored_line(access, line_id)
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
    ensure_line_visible(access, actor, line_id)
    stored_line(access, line_id)
    return lines.draw(
        access.servicing_uow,
        CreditLineId(line_id),
        amount_fen=amount_fen,
        on=access.today(),
        maturity_date=maturity_date,
        idempotency_key=scoped_key(actor, idempotency_key),
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


def list_lines(
    access: CreditAccess,
    *,
    actor: Principal,
    search: line_list.LineSearch,
    limit: int = 50,
    offset: int = 0,
) -> list[CreditLineRecord]:
    """A page of every credit line, newest first (staff only: the book, not one's own)."""
    require(actor, Permission.LINE_READ)
    if not actor.is_staff:
        raise Forbidden("only staff list the credit lines of the book")
    return line_list.list_lines(
        access.servicing_reader or access.servicing_uow, search=search, limit=limit, offset=offset
    )


def line_repayments(
    access: CreditAccess, *, actor: Principal, line_id: str, limit: int = 100
) -> list[line_list.Repayment]:
    """The line's repayments, newest first; who may read them: as for the line."""
    get_line(access, actor=actor, line_id=line_id)
    return line_list.line_repayments(
        access.servicing_reader or access.servicing_uow,
        CreditLineId(line_id),
        through=access.today(),
        limit=limit,
    )
