"""The console's credit lines (授信额度): the list, and a line with its receipts (借据), its
repayments, its statements (对账单) and the actions staff take on it (freeze, unfreeze,
reduce the limit).

Reads and changes go through servicing's access functions with the signed-in user as actor,
so the services' permission checks apply; a refusal is shown on the line's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, NotFound, PuhuiError
from puhui.domain.lending.account import LoanStatus
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.money import parse_yuan
from puhui.services.origination import line_access
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.origination.line_opening import ONLINE_CREDIT_PRODUCT
from puhui.services.security.permissions import Permission, Principal
from puhui.services.servicing.line_list import LineSearch
from puhui.services.servicing.records import LineStatus
from puhui.services.servicing.statements import MovementKind, statement_periods
from puhui.web.dependencies import call
from puhui.web.pages import errors, session
from puhui.web.pages.common import console_page
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext, render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE_SIZE = 50
RECEIPTS_PAGE = 50
REPAYMENTS_SHOWN = 50

NAV = (
    NavItem(
        "/console/lines",
        N_("Credit lines"),
        N_("Credit lines and receipts: freeze, unfreeze, reduce, statements and repayments."),
        permission=Permission.LINE_READ,
        order=30,
    ),
)
ERRORS = {
    "end_of_day_pending": N_(
        "The end of day of the last business date has not finished. Try again when it has."
    ),
}
LINE_STATUS_NAMES = {LineStatus.ACTIVE: N_("Active"), LineStatus.FROZEN: N_("Frozen")}
RECEIPT_STATUS_NAMES = {
    LoanStatus.ACTIVE: N_("Outstanding"),
    LoanStatus.CLOSED: N_("Repaid"),
    LoanStatus.WRITTEN_OFF: N_("Written off"),
}
CATEGORY_NAMES = {
    FiveCategory.PASS: N_("Pass"),
    FiveCategory.SPECIAL_MENTION: N_("Special mention"),
    FiveCategory.SUBSTANDARD: N_("Substandard"),
    FiveCategory.DOUBTFUL: N_("Doubtful"),
    FiveCategory.LOSS: N_("Loss"),
}
MOVEMENT_NAMES = {
    MovementKind.DRAW: N_("Draw"),
    MovementKind.REPAYMENT: N_("Repayment"),
    MovementKind.REPAYMENT_REVERSAL: N_("Repayment reversed"),
    MovementKind.ACCRUAL: N_("Interest and penalty accrued"),
    MovementKind.WRITE_OFF: N_("Written off"),
    MovementKind.RECOVERY: N_("Recovered after write-off"),
}
ACTIONS = {
    "freeze": N_("The line is frozen: no new draws; repayments are still taken."),
    "unfreeze": N_("The line is active again: the owner may draw."),
    "reduce": N_("The limit has been reduced."),
}


def _access(request: Request) -> CreditAccess:
    access: CreditAccess | None = request.app.state.deps.credit
    if access is None:
        raise NotFound("servicing is not wired in this deployment")
    return access


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineFilters:
    line_id: str
    customer: str
    status: str
    page: int

    def query(self, **changes: Any) -> str:
        values = {
            "line": self.line_id,
            "customer": self.customer,
            "status": self.status,
            "page": str(self.page),
            **{k: str(v) for k, v in changes.items()},
        }
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == "1")})

    def search(self) -> LineSearch:
        status = None
        if self.status:
            try:
                status = LineStatus(self.status)
            except ValueError:
                raise InvalidInput("no such status", details={"field": "status"}) from None
        return LineSearch(
            line_id=self.line_id or None, enterprise_id=self.customer or None, status=status
        )


def _line_filters(request: Request) -> LineFilters:
    q = request.query_params
    try:
        page = max(1, min(int(q.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    return LineFilters(
        line_id=q.get("line", "").strip(),
        customer=q.get("customer", "").strip().upper(),
        status=q.get("status", "").strip(),
        page=page,
    )


@router.get("/console/lines")
async def line_list(request: Request, principal: StaffUser) -> HTMLResponse:
    filters = _line_filters(request)
    deps = request.app.state.deps
    problem: str | None = None
    rows: list[Any] = []
    try:
        rows = await call(
            deps,
            line_access.list_lines,
            _access(request),
            actor=principal,
            search=filters.search(),
            limit=PAGE_SIZE + 1,
            offset=(filters.page - 1) * PAGE_SIZE,
        )
    except InvalidInput as exc:
        problem = errors.user_message(request, exc.code, ("invalid_input",))
    context = {
        "filters": filters,
        "rows": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE,
        "problem": problem,
        "statuses": [(s.value, LINE_STATUS_NAMES[s]) for s in LineStatus],
        "status_names": {s.value: name for s, name in LINE_STATUS_NAMES.items()},
    }
    status = 422 if problem else 200
    if request.headers.get("hx-request"):
        # HTMX swaps only successful answers: the problem is shown inside the results.
        return render(request, "lines/_results.html", context)
    response = console_page(request, principal, "lines/list.html", context)
    response.status_code = status
    return response


# --- one line --------------------------------------------------------------------------------


def _periods(opened_on: date, today: date) -> list[str]:
    """Every cycle from the line's first to today's, newest first (ten years at most)."""
    return statement_periods(
        opened_on, today, settlement_day=ONLINE_CREDIT_PRODUCT.settlement_day, limit=120
    )


async def _line_context(request: Request, principal: Principal, line_id: str) -> dict[str, Any]:
    deps = request.app.state.deps
    access = _access(request)
    line = await call(deps, line_access.get_line, access, actor=principal, line_id=line_id)
    q = request.query_params
    try:
        receipts_page = max(1, min(int(q.get("receipts", "1")), 10_000))
    except ValueError:
        receipts_page = 1
    receipts = await call(
        deps,
        line_access.line_receipts,
        access,
        actor=principal,
        line_id=line_id,
        limit=RECEIPTS_PAGE + 1,
        offset=(receipts_page - 1) * RECEIPTS_PAGE,
    )
    repayments = await call(
        deps,
        line_access.line_repayments,
        access,
        actor=principal,
        line_id=line_id,
        limit=REPAYMENTS_SHOWN,
    )
    today = access.today()
    periods = _periods(line.opened_on, today)
    period = q.get("period", "") or periods[0]
    statement = None
    statement_problem = None
    try:
        statement = await call(
            deps,
            line_access.line_statement,
            access,
            actor=principal,
            line_id=line_id,
            period=period,
        )
    except (InvalidDate, InvalidInput) as exc:
        statement_problem = errors.user_message(request, exc.code, ("invalid_input",))
    return {
        "line": line,
        "status_name": LINE_STATUS_NAMES[line.status],
        "frozen": line.status is LineStatus.FROZEN,
        "receipts": receipts[:RECEIPTS_PAGE],
        "receipts_page": receipts_page,
        "receipts_next": len(receipts) > RECEIPTS_PAGE,
        "receipt_status": {s.value: n for s, n in RECEIPT_STATUS_NAMES.items()},
        "categories": {c.value: n for c, n in CATEGORY_NAMES.items()},
        "repayments": repayments,
        "periods": periods,
        "period": period,
        "statement": statement,
        "statement_problem": statement_problem,
        "movement_names": {k.value: n for k, n in MOVEMENT_NAMES.items()},
        "can_manage": principal.can(Permission.LINE_MANAGE),
        "can_reduce": principal.can(Permission.LINE_REDUCE),
        "today": today,
        "done": ACTIONS.get(q.get("done", "")),
        "problem": None,
        "form": {},
    }


@router.get("/console/lines/{line_id}")
async def line_detail(request: Request, principal: StaffUser, line_id: str) -> HTMLResponse:
    context = await _line_context(request, principal, line_id)
    return console_page(request, principal, "lines/detail.html", context)


async def _act(request: Request, principal: Principal, line_id: str, action: str) -> Response:
    form = await session.verified_form(request)
    reason = str(form.get("reason", "")).strip()
    new_limit = str(form.get("new_limit_yuan", "")).strip()
    deps = request.app.state.deps
    access = _access(request)
    try:
        if not reason:
            raise InvalidInput("state the reason", details={"field": "reason"})
        if len(reason) > 200:
            raise InvalidInput("a reason is at most 200 characters", details={"field": "reason"})
        if action == "freeze":
            await call(
                deps,
                line_access.freeze_line,
                access,
                actor=principal,
                line_id=line_id,
                reason=reason,
            )
        elif action == "unfreeze":
            await call(
                deps,
                line_access.unfreeze_line,
                access,
                actor=principal,
                line_id=line_id,
                reason=reason,
            )
        else:
            if not new_limit:
                raise InvalidAmount("enter the new limit", details={"field": "new_limit"})
            await call(
                deps,
                line_access.reduce_limit,
                access,
                actor=principal,
                line_id=line_id,
                new_limit_fen=int(parse_yuan(new_limit)),
                reason=reason,
            )
    except NotFound:
        raise
    except PuhuiError as refused:
        context = await _line_context(request, principal, line_id)
        context.update(
            problem=_problem(request, refused),
            form={"action": action, "reason": reason, "limit": new_limit},
        )
        status = 403 if refused.code in ("forbidden",) else 422
        response = console_page(request, principal, "lines/detail.html", context)
        response.status_code = status
        return response
    return RedirectResponse(f"/console/lines/{line_id}?done={action}", status_code=303)


def _problem(request: Request, refused: PuhuiError) -> str:
    field = refused.details.get("field") if isinstance(refused.details, dict) else None
    if field == "reason":
        return gettext(request, N_("State the reason for the change (at most 200 characters)."))
    if refused.code == "invalid_amount" and "new_limit_fen" in refused.details:
        return gettext(request, N_("A reduction must be below the current limit."))
    kinds = tuple(
        str(getattr(kind, "code", ""))
        for kind in type(refused).__mro__[1:]
        if isinstance(getattr(kind, "code", None), str)
    )
    return errors.user_message(request, refused.code, kinds)


@router.post("/console/lines/{line_id}/freeze")
async def freeze(request: Request, principal: StaffUser, line_id: str) -> Response:
    return await _act(request, principal, line_id, "freeze")


@router.post("/console/lines/{line_id}/unfreeze")
async def unfreeze(request: Request, principal: StaffUser, line_id: str) -> Response:
    return await _act(request, principal, line_id, "unfreeze")


@router.post("/console/lines/{line_id}/limit-reduction")
async def reduce_limit(request: Request, principal: StaffUser, line_id: str) -> Response:
    return await _act(request, principal, line_id, "reduce")
