"""The console's applications: the queues (referred, in review, all), an application's detail
with its decision evidence, and the four-eyes review form.

Every read and every decision goes through origination's use cases with the signed-in staff
user as actor, so the services' permissions and four-eyes rule apply; a refusal is shown on
the page it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.clock import BANK_ZONE
from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, NotFound, PuhuiError
from puhui.domain.money import parse_yuan
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.reasons import CATALOG
from puhui.domain.privacy import mask_id_number, mask_phone
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import ApplicationFilter, TermBound
from puhui.services.origination.reviewing import review_bounds
from puhui.services.security.permissions import Permission, Principal
from puhui.services.security.users import get_user
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.neighbourhoods import application_graph
from puhui.web.pages import errors, green, session
from puhui.web.pages.common import console_page
from puhui.web.pages.forms import optional_day
from puhui.web.pages.graph_section import graph_section
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext, render
from puhui.web.pages.session import page_locale

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE_SIZE = 50
MAX_PAGES = 100
"""Deeper than 5,000 rows a person narrows the filters (dates) instead: an offset that deep
costs the database a walk over every row before it."""


def referrals_waiting(deps: ApiDependencies, principal: Principal) -> int:
    """Referrals waiting for review, for those who review them (others see none waiting)."""
    if not principal.can(Permission.APPLICATION_REVIEW):
        return 0
    return uc.count_waiting_review(deps.origination, actor=principal)


NAV = (
    NavItem(
        "/console/applications",
        N_("Applications"),
        N_("Referrals awaiting manual review, applications in progress, decisions and offers."),
        permission=Permission.APPLICATION_LIST,
        order=20,
        waiting=referrals_waiting,
        waiting_label=N_("Referrals waiting for review: %(count)s"),
    ),
)
ERRORS = {
    "offer_out_of_bounds": N_(
        "The terms are outside the bounds shown. Keep the limit, the rate and the term within them."
    ),
    "invalid_transition": N_(
        "The application is no longer waiting for this step. Reload the page to see its status."
    ),
    "application_changed": N_(
        "Someone changed the application in the meantime. Reload the page to see the latest."
    ),
}

STATUS_NAMES: dict[ApplicationStatus, str] = {
    ApplicationStatus.CREATED: N_("Created"),
    ApplicationStatus.CONSENTED: N_("Consent given"),
    ApplicationStatus.ASSESSED: N_("Assessed"),
    ApplicationStatus.OFFERED: N_("Offered"),
    ApplicationStatus.DECLINED: N_("Declined"),
    ApplicationStatus.REFERRED: N_("Referred for review"),
    ApplicationStatus.ACCEPTED: N_("Accepted"),
    ApplicationStatus.LINE_OPENED: N_("Line opened"),
    ApplicationStatus.LINE_FAILED: N_("Line failed to open"),
    ApplicationStatus.EXPIRED: N_("Offer expired"),
    ApplicationStatus.CANCELLED: N_("Cancelled"),
}
STATUS_TONE: dict[ApplicationStatus, str] = {
    ApplicationStatus.REFERRED: "warn",
    ApplicationStatus.LINE_FAILED: "bad",
    ApplicationStatus.DECLINED: "bad",
    ApplicationStatus.OFFERED: "ok",
    ApplicationStatus.LINE_OPENED: "ok",
}
OUTCOME_NAMES = {
    "approve": N_("Approve"),
    "decline": N_("Decline"),
    "refer": N_("Refer to an approver"),
}
ARM_NAMES = {"champion": N_("Champion"), "challenger": N_("Challenger")}
SCOPE_NAMES = {
    DataScope.REGISTRATION: N_("Business registration"),
    DataScope.TAX: N_("Tax"),
    DataScope.INVOICE: N_("VAT invoices"),
    DataScope.UTILITY: N_("Utilities"),
    DataScope.COURT: N_("Court records"),
    DataScope.BUREAU: N_("Credit bureau"),
    DataScope.SETTLEMENT: N_("Bank settlement flows"),
}
TABLE_NAMES = {
    "bureau": N_("Credit bureau records"),
    "core_enterprises": N_("Ties to core enterprises"),
    "court_cases": N_("Court cases"),
    "enterprises": N_("Enterprise registration"),
    "invoices": N_("VAT invoice lines"),
    "owners": N_("Owners"),
    "settlement_monthly": N_("Settlement flows by month"),
    "tax_monthly": N_("Tax by month"),
    "utilities_monthly": N_("Utility payments by month"),
}
"""The market source's tables (the rows an assessment pulled); another source's are shown by
their own names."""
FIELD_NAMES = {
    "limit_fen": N_("Limit"),
    "annual_rate": N_("Annual rate"),
    "term_months": N_("Term (months)"),
}


@dataclass(frozen=True, slots=True)
class Queue:
    key: str
    label: str
    statuses: frozenset[ApplicationStatus]


QUEUES = (
    Queue("referred", N_("Referred"), frozenset({ApplicationStatus.REFERRED})),
    Queue(
        "in_review",
        N_("In review"),
        frozenset(
            {ApplicationStatus.CREATED, ApplicationStatus.CONSENTED, ApplicationStatus.ASSESSED}
        ),
    ),
    Queue("all", N_("All"), frozenset()),
)
_QUEUES = {q.key: q for q in QUEUES}


# --- the queues ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The queue's filters as the form sent them (text, shown back) and as a query."""

    queue: Queue
    status: str
    date_from: str
    date_to: str
    min_yuan: str
    max_yuan: str
    number: str
    page: int

    def query(self, **changes: Any) -> str:
        values = {
            "queue": self.queue.key,
            "status": self.status,
            "from": self.date_from,
            "to": self.date_to,
            "min": self.min_yuan,
            "max": self.max_yuan,
            "no": self.number,
            "page": str(self.page),
            **{k: str(v) for k, v in changes.items()},
        }
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == "1")})


def _fen(text: str, field: str) -> int | None:
    if not text:
        return None
    try:
        value = int(parse_yuan(text))
    except InvalidAmount:
        raise InvalidAmount(
            "enter yuan with at most two decimals", details={"field": field}
        ) from None
    if value < 0:
        raise InvalidAmount("an amount is not negative", details={"field": field})
    return value


def _filters(request: Request) -> Filters:
    q = request.query_params
    queue = _QUEUES.get(q.get("queue", "referred"), _QUEUES["referred"])
    try:
        page = max(1, min(int(q.get("page", "1")), MAX_PAGES))
    except ValueError:
        page = 1
    return Filters(
        queue=queue,
        status=q.get("status", "").strip(),
        date_from=q.get("from", "").strip(),
        date_to=q.get("to", "").strip(),
        min_yuan=q.get("min", "").strip(),
        max_yuan=q.get("max", "").strip(),
        number=q.get("no", "").strip().upper(),
        page=page,
    )


def _where(filters: Filters) -> ApplicationFilter | None:
    """The service's filter, or None when the queue and the status leave nothing to show."""
    statuses = filters.queue.statuses
    if filters.status:
        try:
            chosen = ApplicationStatus(filters.status)
        except ValueError:
            raise InvalidInput("no such status", details={"field": "status"}) from None
        if statuses and chosen not in statuses:
            return None
        statuses = frozenset({chosen})
    first, last = optional_day(filters.date_from, "from"), optional_day(filters.date_to, "to")
    return ApplicationFilter(
        statuses=statuses,
        # Days are the bank's (Beijing) days, as the dashboard and the audit search count them.
        created_from=None if first is None else datetime.combine(first, time(), BANK_ZONE),
        created_before=None
        if last is None
        else datetime.combine(last + timedelta(days=1), time(), BANK_ZONE),
        min_amount_fen=_fen(filters.min_yuan, "min"),
        max_amount_fen=_fen(filters.max_yuan, "max"),
        application_no=filters.number or None,
    )


@router.get("/console/applications")
async def application_list(request: Request, principal: StaffUser) -> HTMLResponse:
    filters = _filters(request)
    deps = request.app.state.deps
    problem: str | None = None
    rows: list[Any] = []
    try:
        where = _where(filters)
        if where is not None:
            rows = await call(
                deps,
                uc.list_applications,
                deps.origination,
                actor=principal,
                where=where,
                limit=PAGE_SIZE + 1,
                offset=(filters.page - 1) * PAGE_SIZE,
            )
    except (InvalidInput, InvalidDate) as exc:
        problem = errors.user_message(request, exc.code, ("invalid_input",))
    context = {
        "filters": filters,
        "queues": QUEUES,
        "statuses": [(s.value, STATUS_NAMES[s]) for s in ApplicationStatus],
        "status_names": {s.value: STATUS_NAMES[s] for s in ApplicationStatus},
        "status_tone": {s.value: tone for s, tone in STATUS_TONE.items()},
        "rows": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE and filters.page < MAX_PAGES,
        "more_than_shown": len(rows) > PAGE_SIZE and filters.page >= MAX_PAGES,
        "problem": problem,
        "mask_id_number": mask_id_number,
        "mask_phone": mask_phone,
    }
    status = 422 if problem else 200
    if request.headers.get("hx-request"):
        # HTMX swaps only successful answers: the problem is shown inside the results.
        return render(request, "applications/_results.html", context)
    response = console_page(request, principal, "applications/list.html", context)
    response.status_code = status
    return response


# --- one application -------------------------------------------------------------------------


def _reason_words(request: Request, codes: tuple[str, ...], trace: dict[str, Any]) -> list[Any]:
    """Each reason code with its text in the page's language: the decision's own texts (the
    strategy's and the model's), else origination's catalogue, else the code alone."""
    english = page_locale(request) == "en"
    texts: dict[str, Any] = trace.get("reason_texts") or {}
    words = []
    for code in codes:
        pair = texts.get(code)
        known = CATALOG.get(code)
        if isinstance(pair, list | tuple) and len(pair) == 2:
            text = str(pair[1] if english else pair[0])
        elif known is not None:
            text = known.en if english else known.zh
        else:
            text = code
        words.append({"code": code, "text": text})
    return words


def _user_name(request: Request, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    try:
        return get_user(request.app.state.deps.security, user_id).username
    except NotFound:
        return user_id


def _bound_rows(bounds: tuple[TermBound, ...]) -> list[dict[str, Any]]:
    return [
        {
            "field": b.field,
            "label": FIELD_NAMES.get(b.field, b.field),
            "bound": b.bound,
            "minimum": b.minimum,
            "maximum": b.maximum,
        }
        for b in bounds
    ]


async def _detail_context(
    request: Request, principal: Principal, application_id: str
) -> dict[str, Any]:
    deps = request.app.state.deps
    view = await call(
        deps, uc.get_application, deps.origination, actor=principal, application_id=application_id
    )
    record: DecisionRecord | None = None
    if principal.can(Permission.DECISION_EVIDENCE_READ) and view.application.assessment:
        record = await call(
            deps,
            uc.get_decision_record,
            deps.origination,
            actor=principal,
            application_id=application_id,
        )
    application = view.application
    assessment = application.assessment
    trace = dict(assessment.trace) if assessment is not None else {}
    can_review = (
        principal.can(Permission.APPLICATION_REVIEW)
        and application.status is ApplicationStatus.REFERRED
    )
    bounds: tuple[TermBound, ...] = ()
    if can_review:
        bounds = await call(deps, review_bounds, deps.origination, actor=principal)
    graph = await application_graph(request.app, principal, view)
    return {
        "graph": graph_section(graph, page_locale(request)),
        "view": view,
        "app": application,
        "green_label_name": green.label_name(request, application.green_label),
        "green_category_name": green.category_name(request, application.green_category),
        "assessment": assessment,
        "trace": trace,
        "steps": trace.get("steps") or [],
        "manual_review": trace.get("manual_review"),
        "reasons": _reason_words(request, assessment.reasons, trace) if assessment else [],
        "record": record,
        "evidence": None if record is None else record.evidence,
        "status_name": STATUS_NAMES[application.status],
        "status_tone": STATUS_TONE.get(application.status, ""),
        "outcome_names": OUTCOME_NAMES,
        "arm_names": ARM_NAMES,
        "id_number_masked": mask_id_number(application.applicant.id_number),
        "phone_masked": mask_phone(application.applicant.phone),
        "account_manager": _user_name(request, application.account_manager_id),
        "reviewer": _user_name(request, application.reviewed_by),
        "is_referred": application.status is ApplicationStatus.REFERRED,
        "can_review": can_review,
        "bounds": _bound_rows(bounds),
        "scope_names": {scope.value: name for scope, name in SCOPE_NAMES.items()},
        "table_names": TABLE_NAMES,
        "proposed_rate_percent": _percent_text(assessment.annual_rate if assessment else None),
        "form": {},
        "problem": None,
        "problem_details": [],
        "done": request.query_params.get("done"),
    }


@router.get("/console/applications/{application_id}")
async def application_detail(
    request: Request, principal: StaffUser, application_id: str
) -> HTMLResponse:
    context = await _detail_context(request, principal, application_id)
    return console_page(request, principal, "applications/detail.html", context)


def _percent_text(rate: Decimal | None) -> str:
    """A fraction as the percent the form takes: ``0.046`` -> ``4.6``."""
    if rate is None:
        return ""
    return format((rate * 100).normalize(), "f")


def _rate(text: str) -> Decimal | None:
    """An annual rate entered in percent (``8.35``) as a fraction (``0.0835``), exactly."""
    if not text:
        return None
    try:
        value = Decimal(text.replace("%", "").strip())
    except InvalidOperation:
        raise InvalidInput(
            "an annual rate is a number of percent", details={"field": "annual_rate"}
        ) from None
    if not value.is_finite():
        raise InvalidInput(
            "an annual rate is a number of percent", details={"field": "annual_rate"}
        )
    return value / 100


def _months(text: str) -> int | None:
    if not text:
        return None
    if not text.isdecimal():
        raise InvalidInput("a term is a whole number of months", details={"field": "term_months"})
    return int(text)


def _violations(error: PuhuiError) -> list[dict[str, Any]]:
    found = error.details.get("violations") if isinstance(error.details, dict) else None
    if not isinstance(found, list):
        return []
    return [
        {**v, "label": FIELD_NAMES.get(str(v.get("field")), str(v.get("field")))}
        for v in found
        if isinstance(v, dict)
    ]


@router.post("/console/applications/{application_id}/review")
async def review(request: Request, principal: StaffUser, application_id: str) -> Response:
    form = await session.verified_form(request)
    decision = str(form.get("decision", ""))
    note = str(form.get("note", "")).strip()
    fields = {
        "limit": str(form.get("limit_yuan", "")).strip(),
        "rate": str(form.get("annual_rate_percent", "")).strip(),
        "term": str(form.get("term_months", "")).strip(),
        "note": note,
        "decision": decision,
    }
    deps = request.app.state.deps
    try:
        if decision not in ("approve", "decline"):
            raise InvalidInput("choose approve or decline", details={"field": "decision"})
        approve = decision == "approve"
        await call(
            deps,
            uc.review_application,
            deps.origination,
            actor=principal,
            application_id=application_id,
            approve=approve,
            note=note,
            limit_fen=_fen(fields["limit"], "limit_fen") if approve else None,
            annual_rate=_rate(fields["rate"]) if approve else None,
            term_months=_months(fields["term"]) if approve else None,
        )
    except NotFound:
        raise
    except PuhuiError as refused:
        context = await _detail_context(request, principal, application_id)
        context.update(
            form=fields,
            problem=_review_problem(request, refused),
            problem_details=_violations(refused),
        )
        status = 403 if refused.code in ("forbidden", "four_eyes_violation") else 422
        if refused.code in ("invalid_transition", "application_changed", "conflict"):
            status = 409
        response = console_page(request, principal, "applications/detail.html", context)
        response.status_code = status
        return response
    return RedirectResponse(
        f"/console/applications/{application_id}?done={decision}", status_code=303
    )


def _review_problem(request: Request, refused: PuhuiError) -> str:
    field = refused.details.get("field") if isinstance(refused.details, dict) else None
    if refused.code == "invalid_input" and field == "note":
        return gettext(request, N_("State the grounds of the decision in the note."))
    if refused.code == "invalid_input" and refused.details.get("missing"):
        return gettext(request, N_("An approval names the limit, the annual rate and the term."))
    if refused.code == "four_eyes_violation":
        return gettext(
            request,
            N_(
                "You took this application as its account manager, so you may not decide it."
                " Another approver must review it."
            ),
        )
    kinds = tuple(
        str(getattr(kind, "code", ""))
        for kind in type(refused).__mro__[1:]
        if isinstance(getattr(kind, "code", None), str)
    )
    return errors.user_message(request, refused.code, kinds)
