"""Repayments held in suspense (挂账) in the console (``/console/suspense``).

A reconciliation's ``not_posted`` break (the channel collected, no loan was credited) is held
from the reconciliation's page; the item's page shows where the money came from and, while it
is held, the ways to resolve it: apply it to the channel's loan (入账), or request, with a
reason, its transfer to another loan (转入他笔贷款) or its refund (退回), which a second
operator approves or rejects there. The list shows the items by status, those on hold first.
Every action is the suspense service's, with the signed-in user as actor; a refusal is shown
on the item's page with the status the API would answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import ConfigurationError, PuhuiError
from puhui.domain.lending.suspense import SuspenseItem, SuspenseStatus
from puhui.domain.origination.errors import Forbidden
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing import suspense
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page, staff_names
from puhui.web.pages.errors import error_text, refusal_status
from puhui.web.pages.forms import form_text, page_offset
from puhui.web.pages.nav import N_, NavItem

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 50
REASON = ("reason",)


def held_waiting(deps: ApiDependencies, principal: Principal) -> int:
    """Items on hold or with a refund or transfer to approve, for those who resolve them."""
    if not principal.can(Permission.SUSPENSE_MANAGE):
        return 0
    return suspense.count_held(_reader(deps), actor=principal)


NAV = (
    NavItem(
        "/console/suspense",
        N_("Repayments in suspense"),
        N_("Money collected that no loan was credited with: apply it or refund it."),
        Permission.LEDGER_READ,
        order=72,
        waiting=held_waiting,
        waiting_label=N_("Repayments held in suspense: %(count)s"),
    ),
)
FACE = session.Face.CONSOLE
ERRORS = {
    "suspense_not_held": N_("This item was applied or refunded already: it is resolved once."),
    "order_already_posted": N_(
        "This order stands in the books as a repayment already: there is nothing to hold."
    ),
    "order_held_already": N_(
        "This order number is held already for another collection: investigate it with the channel."
    ),
    "reconciliation_stale": N_(
        "The books changed since this reconciliation: reconcile the day again, then hold what "
        "it finds."
    ),
    "suspense_refund_pending": N_(
        "A refund of this item waits for its approval: approve or reject it first."
    ),
    "suspense_no_refund_requested": N_("No refund of this item is requested."),
    "suspense_transfer_pending": N_(
        "A transfer of this item to another loan waits for its approval: approve or reject it "
        "first."
    ),
    "suspense_no_transfer_requested": N_("No transfer of this item is requested."),
    "suspense_transfer_needs_approval": N_(
        "Applying the money to another loan than the channel's takes two people: request the "
        "transfer with a reason, and another operator approves it."
    ),
}
LOCAL_ERRORS = {
    # What these pages say of another area's errors: the way out here is suspense's own.
    "overpayment": N_(
        "The loan owes less than this amount: transfer it to another loan or refund it."
    ),
    "loan_not_active": N_(
        "The loan is not active: transfer the money to another loan or refund it."
    ),
    "receipt_not_active": N_(
        "The receipt is not active: transfer the money to another loan or refund it."
    ),
    "end_of_day_pending": N_("The end of day has not run for every loan yet: try after it."),
}
STATUS_NAMES = {
    SuspenseStatus.HELD: N_("On hold"),
    SuspenseStatus.REFUND_REQUESTED: N_("Refund awaiting approval"),
    SuspenseStatus.TRANSFER_REQUESTED: N_("Transfer awaiting approval"),
    SuspenseStatus.APPLIED: N_("Applied to a loan"),
    SuspenseStatus.REFUNDED: N_("Refunded"),
}
NOTICES = {
    "held": N_("The money is held in suspense. Reconcile its day again: the order now matches."),
    "applied": N_("The money is applied to the loan as a repayment."),
    "refund_requested": N_(
        "The refund is requested. The money stays on hold until another operator approves it."
    ),
    "refunded": N_("The refund is approved: the money is refunded to the payer."),
    "refund_rejected": N_("The refund is rejected: the money is held again."),
    "transfer_requested": N_(
        "The transfer is requested. The money stays on hold until another operator approves it."
    ),
    "transferred": N_(
        "The transfer is approved: the money is applied to the other loan as a repayment."
    ),
    "transfer_rejected": N_("The transfer is rejected: the money is held again."),
}
BADGES = {
    SuspenseStatus.HELD: "bad",
    SuspenseStatus.REFUND_REQUESTED: "warn",
    SuspenseStatus.TRANSFER_REQUESTED: "warn",
}
"""The status badge's colour (``ok`` otherwise: the item is resolved)."""
REJECTED = {"refund": N_("A refund"), "transfer": N_("A transfer")}


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _credit(deps: ApiDependencies) -> CreditAccess:
    if deps.credit is None:
        raise ConfigurationError("servicing is not wired in this site")
    return deps.credit


def _writer(deps: ApiDependencies) -> Callable[[], ServicingUnitOfWork]:
    return _credit(deps).servicing_uow


def _reader(deps: ApiDependencies) -> Callable[[], ServicingUnitOfWork]:
    credit = _credit(deps)
    return credit.servicing_reader or credit.servicing_uow


def _status(text: str | None) -> SuspenseStatus | None:
    """The list's filter: on hold unless another status (or ``all``) is asked for."""
    if text == "all":
        return None
    try:
        return SuspenseStatus(text or SuspenseStatus.HELD.value)
    except ValueError:
        return SuspenseStatus.HELD


def _with_lang(request: Request, path: str, **query: str) -> str:
    """``path`` with the query, keeping a language asked for on the form's address."""
    asked = request.query_params.get("lang")
    if asked is not None:
        query["lang"] = asked
    return path + ("?" + urlencode(query) if query else "")


@router.get("/console/suspense")
async def items(
    request: Request, principal: StaffUser, status: str | None = None, offset: str | None = None
) -> HTMLResponse:
    """The items of one status (on hold by default), the latest held first, under the suspense
    account's balance tied out against the items in suspense (an alert if they differ)."""
    deps = _deps(request)
    chosen = _status(status)
    start = page_offset(offset)
    found = await call(
        deps,
        suspense.suspense_items,
        _reader(deps),
        actor=principal,
        status=chosen,
        limit=PAGE,
        offset=start,
    )
    today = await call(deps, suspense.business_day, _reader(deps), actor=principal)
    limit = _credit(deps).suspense_max_days  # the setting suspense_max_days
    tie = await call(deps, suspense.tie_out, _reader(deps), actor=principal, max_days=limit)
    shown = "all" if chosen is None else chosen.value
    return console_page(
        request,
        principal,
        "suspense/list.html",
        {
            "items": found,
            "today": today,
            "tie": tie,
            "status": shown,
            "statuses": STATUS_NAMES,
            "badges": BADGES,
            "previous_offset": max(0, start - PAGE) if start else None,
            "next_offset": start + PAGE if len(found) == PAGE else None,
        },
    )


@router.post("/console/suspense")
async def hold(request: Request, principal: StaffUser) -> Response:
    """Hold a reconciliation's ``not_posted`` order (the form on the reconciliation's page),
    then show the item (303). A refusal goes back to the reconciliation with its reason."""
    form = await session.verified_form(request)
    require(principal, Permission.SUSPENSE_MANAGE)
    deps = _deps(request)
    run_id = form_text(form, "run_id", 40)
    try:
        held = await call(
            deps,
            suspense.hold,
            _writer(deps),
            actor=principal,
            run_id=run_id,
            order_id=form_text(form, "order_id", 128),
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        run = quote(run_id, safe="")
        target = _with_lang(request, f"/console/reconciliation/{run}", refused=exc.code)
        return RedirectResponse(target, status_code=303)
    done = {"done": "held"} if held.created else {}
    return RedirectResponse(
        _with_lang(request, f"/console/suspense/{held.item.item_id}", **done), status_code=303
    )


async def _item_page(
    request: Request,
    principal: Principal,
    item_id: str,
    *,
    problem: PuhuiError | None = None,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    item: SuspenseItem = await call(
        deps, suspense.suspense_item, _reader(deps), actor=principal, item_id=item_id
    )
    requester = item.refund_requested_by or item.transfer_requested_by or ""
    people = (item.held_by, item.resolved_by or "", requester, item.rejected_by or "")
    names = await call(deps, staff_names, deps, people)
    manages = principal.can(Permission.SUSPENSE_MANAGE)
    waiting = item.status.awaits_approval and manages
    today = await call(deps, suspense.business_day, _reader(deps), actor=principal)
    loans = await call(deps, suspense.loans_named, _reader(deps), actor=principal, item=item)
    response = console_page(
        request,
        principal,
        "suspense/item.html",
        {
            "item": item,
            "today": today,
            "loans": loans,
            "can_read_lines": principal.can(Permission.LINE_READ),
            "held_by": names[item.held_by],
            "resolved_by": names.get(item.resolved_by or "", ""),
            "requested_by": names.get(requester, ""),
            "rejected_by": names.get(item.rejected_by or "", ""),
            "rejected": REJECTED.get(item.rejected_request or ""),
            "statuses": STATUS_NAMES,
            "badges": BADGES,
            "can_resolve": item.status is SuspenseStatus.HELD and manages,
            "refund_waits": waiting and item.status is SuspenseStatus.REFUND_REQUESTED,
            "transfer_waits": waiting and item.status is SuspenseStatus.TRANSFER_REQUESTED,
            "own_request": waiting and requester == principal.user_id,
            "notice": NOTICES.get(request.query_params.get("done") or ""),
            "problem": None if problem is None else error_text(request, problem),
            "detail": None if problem is None else problem.message,
            "entered": entered or {},
        },
    )
    if problem is not None:
        response.status_code = refusal_status(problem)
    return response


@router.get("/console/suspense/{item_id}")
async def item(request: Request, principal: StaffUser, item_id: str) -> HTMLResponse:
    """One item: where the money came from, what became of it, and while it is held, the
    forms that apply or refund it."""
    return await _item_page(request, principal, item_id)


@router.post("/console/suspense/{item_id}/apply")
async def apply(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Apply the item to the loan the channel named (one person's act)."""
    return await _step(request, principal, item_id, suspense.apply, "applied", fields=())


async def _step(
    request: Request,
    principal: Principal,
    item_id: str,
    step: Callable[..., object],
    done: str,
    *,
    fields: tuple[str, ...],
) -> Response:
    """One step on an item (apply; a refund's or a transfer's request, approval or rejection)
    with the form's ``fields``, then the item's page (303). A refusal, the requester's own
    approval included, is shown on the item's page with what was entered."""
    form = await session.verified_form(request)
    deps = _deps(request)
    longest = {"reason": suspense.MAX_REASON, "loan_id": 64}
    given = {name: str(form.get(name, ""))[: longest[name] + 1] for name in fields}
    try:
        await call(deps, step, _writer(deps), actor=principal, item_id=item_id, **given)
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _item_page(request, principal, item_id, problem=exc, entered=given)
    return RedirectResponse(
        _with_lang(request, f"/console/suspense/{item_id}", done=done), status_code=303
    )


@router.post("/console/suspense/{item_id}/refund")
async def refund(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Request the refund, with its reason: a second operator approves it."""
    return await _step(
        request, principal, item_id, suspense.request_refund, "refund_requested", fields=REASON
    )


@router.post("/console/suspense/{item_id}/refund/approve")
async def approve_refund(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Approve a refund another operator requested: the money goes back to the payer."""
    return await _step(request, principal, item_id, suspense.approve_refund, "refunded", fields=())


@router.post("/console/suspense/{item_id}/refund/reject")
async def reject_refund(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Reject (or, for its requester, withdraw) a requested refund: the item is held again."""
    return await _step(
        request, principal, item_id, suspense.reject_refund, "refund_rejected", fields=REASON
    )


@router.post("/console/suspense/{item_id}/transfer")
async def transfer(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Request the item's transfer to another loan, with the reason: a second operator
    approves it."""
    return await _step(
        request,
        principal,
        item_id,
        suspense.request_transfer,
        "transfer_requested",
        fields=("loan_id", "reason"),
    )


@router.post("/console/suspense/{item_id}/transfer/approve")
async def approve_transfer(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Approve a transfer another operator requested: the money repays the other loan."""
    return await _step(
        request, principal, item_id, suspense.approve_transfer, "transferred", fields=()
    )


@router.post("/console/suspense/{item_id}/transfer/reject")
async def reject_transfer(request: Request, principal: StaffUser, item_id: str) -> Response:
    """Reject (or, for its requester, withdraw) a requested transfer: the item is held again."""
    return await _step(
        request, principal, item_id, suspense.reject_transfer, "transfer_rejected", fields=REASON
    )
