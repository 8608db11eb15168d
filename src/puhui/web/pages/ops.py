"""Operations in the console: end of day and the trial balance, repayment reconciliation, audit
search, users, API keys.

End of day (``/console/eod``): the runs by date with their steps and rows changed, and the
trial balance (试算平衡) of the general ledger as of a date. Reconciliation
(``/console/reconciliation``): a closed day's repayments against the collecting channel's file
(还款对账), every break with what to do about it. Audit (``/console/audit``): the
trail searched by actor, action, entity and dates, a page at a time; payloads are never shown,
only their digests, so personal data stays out of the page. Users (``/console/users``): staff
users with their role and status, created, disabled, enabled, their tokens revoked; approver and
admin accounts only through a role grant a second admin approves. API keys
(``/console/api-keys``): listed, issued and rotated (the secret shown once), revoked. Every
action is the security or servicing service's, with the signed-in user as actor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from puhui.domain.errors import ConfigurationError, InvalidDate, InvalidInput
from puhui.domain.ledger import Account, AccountType
from puhui.domain.lending.reconciliation import BreakKind, ReconciliationRun
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.ports import AuditQuery
from puhui.services.security import accounts
from puhui.services.security.permissions import (
    PARTNER_SCOPES,
    PRIVILEGED_ROLES,
    Permission,
    Principal,
    Role,
    require,
)
from puhui.services.servicing import operations, suspense
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import ROLE_NAMES, console_page, staff_names
from puhui.web.pages.errors import user_message
from puhui.web.pages.forms import form_text, optional_day, page_offset
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 50
RUNS_PAGE = 20
CHINA_TIME = timezone(timedelta(hours=8), "CST")
"""Dates typed in a search are days in China's time."""

RECONCILED_WINDOW = 30
"""The home counts the closed days of the last 30 end-of-day runs not yet reconciled."""


def days_not_reconciled(deps: ApiDependencies, principal: Principal) -> int:
    """Closed days among the latest end-of-day runs whose repayments no one has reconciled."""
    reader = _reader(deps)
    runs = operations.end_of_day_runs(reader, actor=principal, limit=RECONCILED_WINDOW)
    closed = [r.as_of for r in runs if r.status == "completed"]
    reconciled = operations.latest_reconciliations(reader, actor=principal, days=closed)
    return len(set(closed) - reconciled.keys())


NAV = (
    NavItem(
        "/console/eod",
        N_("End of day"),
        N_("The nightly batch by date, its steps and rows changed, and the trial balance."),
        Permission.LEDGER_READ,
        order=70,
    ),
    NavItem(
        "/console/reconciliation",
        N_("Repayment reconciliation"),
        N_("A closed day's repayments against the collecting channel's file: every break."),
        Permission.LEDGER_READ,
        order=71,
        waiting=days_not_reconciled,
        waiting_label=N_("Closed days not reconciled: %(count)s"),
    ),
    NavItem(
        "/console/audit",
        N_("Audit log"),
        N_("Who did what to which record, and when: search the audit trail."),
        Permission.AUDIT_READ,
        order=80,
    ),
    NavItem(
        "/console/users",
        N_("Users"),
        N_("Staff users and their roles: create, disable, revoke sessions; role grants."),
        Permission.USER_MANAGE,
        order=90,
    ),
    NavItem(
        "/console/api-keys",
        N_("API keys"),
        N_("Partners' API keys: issue, rotate, revoke."),
        Permission.API_KEY_MANAGE,
        order=91,
    ),
)

STEP_NAMES = {
    "accrue": N_("Accrual, overdue and settlement"),
    "classify": N_("Five-category classification"),
    "post_ledger": N_("General-ledger postings"),
    "report": N_("Portfolio figures for the dashboards"),
}
RUN_STATUS_NAMES = {"completed": N_("Completed"), "running": N_("Running")}
ACCOUNT_TYPE_NAMES = {
    AccountType.ASSET: N_("Asset"),
    AccountType.LIABILITY: N_("Liability"),
    AccountType.INCOME: N_("Income"),
    AccountType.EXPENSE: N_("Expense"),
    AccountType.MEMO: N_("Off balance sheet"),
}
BREAK_NAMES = {
    BreakKind.NOT_POSTED: N_("Collected, not posted"),
    BreakKind.NOT_COLLECTED: N_("Posted, not collected"),
    BreakKind.AMOUNT_DIFFERS: N_("Amounts differ"),
    BreakKind.LOAN_DIFFERS: N_("Loans differ"),
    BreakKind.DUPLICATE_ORDER: N_("Order posted twice"),
}
BREAK_ACTIONS = {
    BreakKind.NOT_POSTED: N_(
        "The channel collected the owner's money on this day: hold it in suspense, then apply "
        "it to the loan or refund it."
    ),
    BreakKind.NOT_COLLECTED: N_(
        "A loan was credited with money the channel does not have: investigate, then correct."
    ),
    BreakKind.AMOUNT_DIFFERS: N_(
        "Check the posting against the channel's record. If the channel collected more, hold "
        "the excess in suspense."
    ),
    BreakKind.LOAN_DIFFERS: N_("The money went to another loan: correct the misapplied one."),
    BreakKind.DUPLICATE_ORDER: N_(
        "Two callers posted this order id: find the one the channel paid, correct the other."
    ),
}
GRANT_STATUS_NAMES = {
    "pending": N_("Awaiting a second admin"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
SCOPE_NAMES = {
    Permission.APPLICATION_CREATE: N_("Create applications"),
    Permission.APPLICATION_READ: N_("Read applications"),
    Permission.APPLICATION_LIST: N_("List applications"),
    Permission.APPLICATION_ASSESS: N_("Assess applications"),
    Permission.LINE_READ: N_("Read credit lines"),
}
NOTICES = {
    "created": N_("The user is created. They can sign in now."),
    "disabled": N_("The user is disabled: they cannot sign in and their sessions ended."),
    "enabled": N_("The user is enabled again; they sign in anew."),
    "revoked": N_("Every session of the user has ended."),
    "requested": N_("The role grant is requested: another administrator approves it."),
    "rejected": N_("The role grant is rejected."),
    "key_revoked": N_("The API key is revoked: it stops working at once."),
}
CREATABLE_ROLES = tuple(
    role for role in Role if role not in PRIVILEGED_ROLES and role is not Role.APPLICANT
)
"""Roles an admin gives directly; approver and admin need a role grant (four eyes)."""


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _credit(deps: ApiDependencies) -> CreditAccess:
    if deps.credit is None:
        raise ConfigurationError("servicing is not wired in this site")
    return deps.credit


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done") or "")


# --- end of day -----------------------------------------------------------------------------


@router.get("/console/eod")
async def end_of_day(
    request: Request, principal: StaffUser, as_of: str | None = None, offset: str | None = None
) -> HTMLResponse:
    """The runs, and the trial balance of the date asked for; without a date the page names
    the last closed date and loads its trial balance after the page (it sums the ledger)."""
    deps = _deps(request)
    reader = _reader(deps)
    start = page_offset(offset)
    runs = await call(
        deps,
        operations.end_of_day_runs,
        reader,
        actor=principal,
        limit=RUNS_PAGE,
        offset=start,
    )
    asked = optional_day(as_of, "as_of")
    day = asked or await call(deps, operations.last_closed_date, reader, actor=principal)
    reconciled = await call(
        deps,
        operations.latest_reconciliations,
        reader,
        actor=principal,
        days=[r.as_of for r in runs],
    )
    context: dict[str, object] = {
        "runs": runs,
        "reconciled": reconciled,
        "day": day,
        "lazy": asked is None,
        "step_names": STEP_NAMES,
        "run_statuses": RUN_STATUS_NAMES,
        "offset": start,
        "previous_offset": max(0, start - RUNS_PAGE) if start else None,
        "next_offset": start + RUNS_PAGE if len(runs) == RUNS_PAGE else None,
    }
    if asked is not None:
        context.update(await _trial_balance(deps, principal, asked))
    return console_page(request, principal, "ops/eod.html", context)


@router.get("/console/eod/trial-balance")
async def trial_balance(request: Request, principal: StaffUser, as_of: str) -> HTMLResponse:
    """The trial balance alone (the EOD page loads it with HTMX)."""
    deps = _deps(request)
    day = optional_day(as_of, "as_of")
    if day is None:
        raise InvalidDate("choose a date", details={"field": "as_of"})
    return render(request, "ops/_trial_balance.html", await _trial_balance(deps, principal, day))


def _reader(deps: ApiDependencies) -> Callable[[], ServicingUnitOfWork]:
    credit = _credit(deps)
    return credit.servicing_reader or credit.servicing_uow


def _writer(deps: ApiDependencies) -> Callable[[], ServicingUnitOfWork]:
    return _credit(deps).servicing_uow


async def _trial_balance(
    deps: ApiDependencies, principal: Principal, day: date
) -> dict[str, object]:
    balance = await call(
        deps, operations.ledger_trial_balance, _reader(deps), actor=principal, as_of=day
    )
    return {
        "balance": balance,
        "rows": [(account, balance.balances_fen.get(account, 0)) for account in Account],
        "account_types": ACCOUNT_TYPE_NAMES,
    }


# --- repayment reconciliation ---------------------------------------------------------------

MAX_CHANNEL_FILE = 1024 * 1024


def _reconciliation_page(
    request: Request,
    principal: Principal,
    *,
    day: date | None,
    runs: list[dict[str, object]] | None = None,
    offset: int = 0,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shown = runs or []
    response = console_page(
        request,
        principal,
        "ops/reconciliation.html",
        {
            "day": day,
            "runs": shown,
            "problem": problem,
            "previous_offset": max(0, offset - RUNS_PAGE) if offset else None,
            "next_offset": offset + RUNS_PAGE if len(shown) == RUNS_PAGE else None,
        },
    )
    response.status_code = status_code
    return response


def _run_rows(deps: ApiDependencies, runs: list[ReconciliationRun]) -> list[dict[str, object]]:
    """Each run with who reconciled it by name (a blocking read: called through ``call``)."""
    names = staff_names(deps, (r.reconciled_by for r in runs))
    return [
        {"run": r, "by": names[r.reconciled_by], "at": r.reconciled_at.astimezone(CHINA_TIME)}
        for r in runs
    ]


async def _recorded_runs(
    request: Request, principal: Principal, offset: int
) -> list[dict[str, object]]:
    deps = _deps(request)
    runs = await call(
        deps,
        operations.reconciliation_runs,
        _reader(deps),
        actor=principal,
        limit=RUNS_PAGE,
        offset=offset,
    )
    return await call(deps, _run_rows, deps, runs)


@router.get("/console/reconciliation")
async def reconciliation(
    request: Request, principal: StaffUser, offset: str | None = None
) -> HTMLResponse:
    """The form (the value date, the last closed one by default, and the channel's file) and
    the reconciliations recorded, the latest first."""
    deps = _deps(request)
    day = await call(deps, operations.last_closed_date, _reader(deps), actor=principal)
    start = page_offset(offset)
    runs = await _recorded_runs(request, principal, start)
    return _reconciliation_page(request, principal, day=day, runs=runs, offset=start)


@router.post("/console/reconciliation", response_model=None)
async def reconcile(request: Request, principal: StaffUser) -> HTMLResponse | RedirectResponse:
    """Reconcile the uploaded file and show the recorded run (303, so that a reload does not
    reconcile again); a refused file or an open day is told on the form, with the service's
    own words for where the file is wrong (the line and the column)."""
    form = await session.verified_form(request)
    require(principal, Permission.LEDGER_READ)  # before the file is read or judged
    deps = _deps(request)
    day: date | None = None
    try:
        day = optional_day(form_text(form, "value_date", 10), "value_date")
        if day is None:
            raise InvalidDate("choose the value date", details={"field": "value_date"})
        text, name = await _channel_file(form)
        found = await call(
            deps,
            operations.reconcile_repayments,
            _writer(deps),
            actor=principal,
            value_date=day,
            channel_file=text,
            file_name=name,
            reader=_reader(deps),
        )
    except (InvalidInput, operations.DayNotClosed) as exc:
        status = 409 if isinstance(exc, operations.DayNotClosed) else 422
        runs = await _recorded_runs(request, principal, 0)
        return _reconciliation_page(
            request, principal, day=day, runs=runs, problem=exc.message, status_code=status
        )
    # A language asked for on the form's address stays with the page it leads to.
    asked = request.query_params.get("lang")
    query = "" if asked is None else "?" + urlencode({"lang": asked})
    return RedirectResponse(f"/console/reconciliation/{found.run_id}{query}", status_code=303)


@router.get("/console/reconciliation/{run_id}")
async def reconciliation_run(request: Request, principal: StaffUser, run_id: str) -> HTMLResponse:
    """A recorded reconciliation: who reconciled which file when, the totals and each break
    with what to do about it."""
    deps = _deps(request)
    found = await call(
        deps, operations.reconciliation_run, _reader(deps), actor=principal, run_id=run_id
    )
    (row,) = await call(deps, _run_rows, deps, [found])
    # Breaks in which the channel collected money no loan was credited with: held in suspense.
    unposted = [b.order_id for b in found.breaks or () if b.uncredited_fen is not None]
    held = (
        await call(
            deps, suspense.items_of_orders, _reader(deps), actor=principal, order_ids=unposted
        )
        if unposted
        else {}
    )
    refused = request.query_params.get("refused")
    return console_page(
        request,
        principal,
        "ops/reconciliation_run.html",
        {
            **row,
            "found": found,
            "break_names": BREAK_NAMES,
            "break_actions": BREAK_ACTIONS,
            "held": held,
            "can_hold": principal.can(Permission.SUSPENSE_MANAGE),
            # A hold refused on the form comes back here, by its code (never its text).
            "refused": None if not refused else user_message(request, refused[:40]),
        },
    )


async def _channel_file(form: FormData) -> tuple[str, str | None]:
    """The uploaded file's text and its name (without any folder the browser sent)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose the channel's file", details={"field": "file"})
    data = await upload.read(MAX_CHANNEL_FILE + 1)
    if len(data) > MAX_CHANNEL_FILE:
        raise InvalidInput("the file is over 1 MiB: reconcile it with `puhui ledger`")
    base = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in base if c.isprintable())[:255] or None
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text (save the CSV as UTF-8)") from None


# --- audit ----------------------------------------------------------------------------------


def _field(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 128:
        raise InvalidInput("a search field has at most 128 characters")
    return text


@router.get("/console/audit")
async def audit_search(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    request: Request,
    principal: StaffUser,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    offset: str | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    first = optional_day(since, "since")
    last = optional_day(until, "until")
    start = page_offset(offset)
    query = AuditQuery(
        actor=_field(actor),
        action_prefix=_field(action),
        entity=_field(entity),
        entity_id=_field(entity_id),
        since=None if first is None else datetime.combine(first, time(), CHINA_TIME),
        until=None
        if last is None
        else datetime.combine(last + timedelta(days=1), time(), CHINA_TIME),
        limit=PAGE,
        offset=start,
    )
    events = await call(
        deps, accounts.search_audit_events, deps.security, actor=principal, query=query
    )
    filters = {
        "actor": query.actor or "",
        "action": query.action_prefix or "",
        "entity": query.entity or "",
        "entity_id": query.entity_id or "",
        "since": first.isoformat() if first else "",
        "until": last.isoformat() if last else "",
    }
    return console_page(
        request,
        principal,
        "ops/audit.html",
        {
            "events": [(e, e.occurred_at.astimezone(CHINA_TIME)) for e in events],
            "filters": filters,
            "offset": start,
            "previous_offset": max(0, start - PAGE) if start else None,
            "next_offset": start + PAGE if len(events) == PAGE else None,
        },
    )


# --- users ----------------------------------------------------------------------------------


def _role(value: str, allowed: tuple[Role, ...]) -> Role:
    for role in allowed:
        if role.value == value:
            return role
    raise InvalidInput("choose a role from the list", details={"field": "role"})


async def _users_page(
    request: Request,
    principal: Principal,
    *,
    role: str | None = None,
    offset: str | None = None,
    approved: accounts.ApprovedGrant | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    chosen = next((r for r in Role if r.value == role and r is not Role.APPLICANT), None)
    start = page_offset(offset)
    users = await call(
        deps,
        accounts.list_users,
        deps.security,
        actor=principal,
        role=chosen,
        limit=PAGE,
        offset=start,
    )
    grants = await call(deps, accounts.pending_role_grants, deps.security, actor=principal)
    decided = await call(deps, accounts.decided_role_grants, deps.security, actor=principal)
    people = await call(
        deps,
        staff_names,
        deps,
        [g.requested_by for g in (*grants, *decided)]
        + [g.decided_by for g in decided if g.decided_by],
    )
    names = {u.user_id: u.username for u in users}
    return console_page(
        request,
        principal,
        "ops/users.html",
        {
            "users": users,
            "grants": grants,
            "decided": decided,
            "people": people,
            "names": names,
            "role": chosen,
            "roles": ROLE_NAMES,
            "filter_roles": [r for r in Role if r is not Role.APPLICANT],
            "creatable": CREATABLE_ROLES,
            "privileged": sorted(PRIVILEGED_ROLES, key=lambda r: r.value),
            "grant_statuses": GRANT_STATUS_NAMES,
            "approved": approved,
            "me": principal.user_id,
            "offset": start,
            "previous_offset": max(0, start - PAGE) if start else None,
            "next_offset": start + PAGE if len(users) == PAGE else None,
            "notice": _notice(request),
        },
    )


@router.get("/console/users")
async def users(
    request: Request, principal: StaffUser, role: str | None = None, offset: str | None = None
) -> HTMLResponse:
    return await _users_page(request, principal, role=role, offset=offset)


@router.post("/console/users")
async def create_user(request: Request, principal: StaffUser) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    role = _role(form_text(form, "role", 32), CREATABLE_ROLES)
    await call(
        deps,
        accounts.create_user,
        deps.security,
        actor=principal,
        username=form_text(form, "username", 64),
        password=_password(form),
        role=role,
        partner_id=form_text(form, "partner_id", 64) or None,
    )
    return RedirectResponse("/console/users?done=created", status_code=303)


MIN_PASSWORD = 12


def _password(form: FormData) -> str:
    password = str(form.get("password", ""))
    if len(password) < MIN_PASSWORD or len(password) > 256:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD} to 256 characters", details={"field": "password"}
        )
    return password


@router.post("/console/users/{user_id}/status")
async def user_status(request: Request, principal: StaffUser, user_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    disable = form_text(form, "disabled", 8) == "1"
    await call(
        deps,
        accounts.set_user_disabled,
        deps.security,
        actor=principal,
        user_id=user_id[:64],
        disabled=disable,
    )
    return RedirectResponse(
        f"/console/users?done={'disabled' if disable else 'enabled'}", status_code=303
    )


@router.post("/console/users/{user_id}/revocation")
async def user_revoke(request: Request, principal: StaffUser, user_id: str) -> RedirectResponse:
    await session.verified_form(request)
    deps = _deps(request)
    await call(
        deps, accounts.revoke_user_tokens, deps.security, actor=principal, user_id=user_id[:64]
    )
    return RedirectResponse("/console/users?done=revoked", status_code=303)


@router.post("/console/role-grants")
async def request_grant(request: Request, principal: StaffUser) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    role = _role(form_text(form, "role", 32), tuple(PRIVILEGED_ROLES))
    username = form_text(form, "username", 64) or None
    user_id = form_text(form, "user_id", 64) or None
    await call(
        deps,
        accounts.request_role_grant,
        deps.security,
        actor=principal,
        role=role,
        username=None if user_id else username,
        user_id=user_id,
    )
    return RedirectResponse("/console/users?done=requested", status_code=303)


@router.post("/console/role-grants/{grant_id}/decision")
async def decide_grant(request: Request, principal: StaffUser, grant_id: str) -> Response:
    form = await session.verified_form(request)
    deps = _deps(request)
    if form_text(form, "decision", 8) == "approve":
        approved = await call(
            deps,
            accounts.approve_role_grant,
            deps.security,
            actor=principal,
            grant_id=grant_id[:64],
        )
        # The new password is shown once, on this answer, never again.
        return await _users_page(request, principal, approved=approved)
    await call(
        deps,
        accounts.reject_role_grant,
        deps.security,
        actor=principal,
        grant_id=grant_id[:64],
        reason=form_text(form, "reason", accounts.MAX_GRANT_REASON) or None,
        reason_required=True,
    )
    return RedirectResponse("/console/users?done=rejected#decided", status_code=303)


# --- API keys -------------------------------------------------------------------------------


async def _keys_page(
    request: Request,
    principal: Principal,
    *,
    offset: str | None = None,
    issued: accounts.IssuedApiKey | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    start = page_offset(offset)
    keys = await call(
        deps, accounts.list_api_keys, deps.security, actor=principal, limit=PAGE, offset=start
    )
    return console_page(
        request,
        principal,
        "ops/api_keys.html",
        {
            "keys": keys,
            "issued": issued,
            "scopes": SCOPE_NAMES,
            "all_scopes": sorted(PARTNER_SCOPES, key=lambda p: p.value),
            "offset": start,
            "previous_offset": max(0, start - PAGE) if start else None,
            "next_offset": start + PAGE if len(keys) == PAGE else None,
            "notice": _notice(request),
        },
    )


@router.get("/console/api-keys")
async def api_keys(
    request: Request, principal: StaffUser, offset: str | None = None
) -> HTMLResponse:
    return await _keys_page(request, principal, offset=offset)


@router.post("/console/api-keys")
async def issue_key(request: Request, principal: StaffUser) -> HTMLResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    wanted = {str(v) for v in form.getlist("scopes")}
    scopes = [p for p in PARTNER_SCOPES if p.value in wanted]
    issued = await call(
        deps,
        accounts.issue_api_key,
        deps.security,
        actor=principal,
        partner_id=form_text(form, "partner_id", 64),
        scopes=scopes,
    )
    return await _keys_page(request, principal, issued=issued)


@router.post("/console/api-keys/{key_id}/rotation")
async def rotate_key(request: Request, principal: StaffUser, key_id: str) -> HTMLResponse:
    await session.verified_form(request)
    deps = _deps(request)
    issued = await call(
        deps, accounts.rotate_api_key, deps.security, actor=principal, key_id=key_id[:32]
    )
    return await _keys_page(request, principal, issued=issued)


@router.post("/console/api-keys/{key_id}/revocation")
async def revoke_key(request: Request, principal: StaffUser, key_id: str) -> RedirectResponse:
    await session.verified_form(request)
    deps = _deps(request)
    await call(deps, accounts.revoke_api_key, deps.security, actor=principal, key_id=key_id[:32])
    return RedirectResponse("/console/api-keys?done=key_revoked", status_code=303)
