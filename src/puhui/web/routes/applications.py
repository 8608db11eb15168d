"""Applications: create, consent, decision, manual review, offer acceptance."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from puhui.domain.errors import ConfigurationError, NotFound
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.errors import Forbidden
from puhui.services.documents.contract_pdf import contract_pdf
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import CurrentPrincipal, Deps, call, client_address
from puhui.web.neighbourhoods import application_graph, may_see_graph
from puhui.web.pages.graph_svg import neighbourhood_svg
from puhui.web.pages.i18n import parse_locale
from puhui.web.schemas import (
    ApplicationCreate,
    ApplicationDetailOut,
    ApplicationOut,
    CancellationCreate,
    ConsentCreate,
    ConsentOut,
    ContractOut,
    DecisionOut,
    ErrorBody,
    FraudListEntryCreate,
    ReviewCreate,
    application_out,
    consent_out,
    contract_out,
    decision_out,
    detail_out,
    evidence_out,
)
from puhui.web.schemas.applications import BRANCH_CODE
from puhui.web.schemas.graph import neighbourhood_out

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1", tags=["applications"], responses=ERRORS)  # type: ignore[arg-type]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="retrying with the same key and body returns the first result",
    ),
]


def _detail(view: uc.ApplicationView, principal: Principal) -> ApplicationDetailOut:
    # Model internals (scores, rule trace) are for staff; applicants and partners see reasons.
    return detail_out(view, with_trace=principal.is_staff)


@router.post("/applications", response_model=ApplicationOut, status_code=status.HTTP_201_CREATED)
async def create_application(
    deps: Deps,
    principal: CurrentPrincipal,
    request: Request,
    body: ApplicationCreate,
    idempotency_key: IdempotencyKey = None,
) -> ApplicationOut:
    """Step 1 of 3: the enterprise's USCC, the owner's ID number and phone."""
    application = await call(
        deps,
        uc.create_application,
        deps.origination,
        actor=principal,
        request=uc.NewApplication(
            uscc=body.uscc,
            id_number=body.id_number,
            phone=body.phone,
            requested_amount_fen=body.requested_amount_fen,
            requested_term_months=body.requested_term_months,
            device_id=body.device_id,
            ip_address=client_address(request),
            address=body.address,
            channel=None if body.channel is None else body.channel.value,
            branch_code=body.branch_code,
            partner_score=body.partner_score,
        ),
        idempotency_key=idempotency_key,
    )
    return application_out(application)


@router.get("/applications", response_model=list[ApplicationOut])
async def list_applications(
    deps: Deps,
    principal: CurrentPrincipal,
    *,
    status_filter: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    channel: Channel | None = None,
    branch_code: Annotated[str | None, Query(pattern=BRANCH_CODE)] = None,
) -> list[ApplicationOut]:
    apps = await call(
        deps,
        uc.list_applications,
        deps.origination,
        actor=principal,
        status=status_filter,
        limit=limit,
        offset=offset,
        channel=None if channel is None else channel.value,
        branch_code=branch_code,
    )
    return [application_out(a) for a in apps]


@router.get("/applications/{application_id}", response_model=ApplicationDetailOut)
async def get_application(
    deps: Deps, principal: CurrentPrincipal, request: Request, application_id: str
) -> ApplicationDetailOut:
    """The application; staff also get its enterprise's neighbourhood in the relationship graph."""
    view = await call(
        deps, uc.get_application, deps.origination, actor=principal, application_id=application_id
    )
    graph = await application_graph(request.app, principal, view)
    hood = None if graph is None else graph.neighbourhood
    return detail_out(
        view,
        with_trace=principal.is_staff,
        neighbourhood=None if hood is None else neighbourhood_out(hood),
        neighbourhood_status=None if graph is None else graph.status,
    )


@router.get(
    "/applications/{application_id}/neighbourhood.svg",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {}},
            "description": "the enterprise's neighbourhood in the relationship graph (staff)",
        }
    },
)
async def get_neighbourhood_svg(
    deps: Deps,
    principal: CurrentPrincipal,
    request: Request,
    application_id: str,
    *,
    depth: Annotated[int, Query(ge=1, le=2, description="ties out from the enterprise")] = 2,
    lang: Annotated[
        str | None, Query(max_length=16, description="zh-CN or en; else Accept-Language")
    ] = None,
) -> Response:
    """The neighbourhood as a picture with its legend: nodes masked as in the JSON."""
    view = await call(
        deps, uc.get_application, deps.origination, actor=principal, application_id=application_id
    )
    if not may_see_graph(principal):
        raise Forbidden("the relationship graph is shown to staff only")
    graph = await application_graph(request.app, principal, view, depth=depth)
    if graph is not None and graph.status == "loading":
        raise ConfigurationError(
            "the relationship graph is loading; ask again in a few seconds",
            details={"graph": "loading", "retry_after_seconds": 5},
        )
    hood = None if graph is None else graph.neighbourhood
    if hood is None:
        raise NotFound("no relationship graph holds this application's enterprise")
    locale = parse_locale(lang or request.headers.get("accept-language"))
    return Response(
        content=neighbourhood_svg(hood, locale),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "private, no-store",
            # A picture only: opened on its own it may run nothing and load nothing.
            "Content-Security-Policy": "default-src 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post(
    "/applications/{application_id}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
)
async def give_consent(
    deps: Deps, principal: CurrentPrincipal, application_id: str, body: ConsentCreate
) -> ConsentOut:
    """Step 2 of 3: the owner authorises data pulls (scope, purpose, expiry)."""
    consent = await call(
        deps,
        uc.give_consent,
        deps.origination,
        actor=principal,
        application_id=application_id,
        scopes=body.scopes,
        purpose=body.purpose,
        valid_days=body.valid_days,
    )
    return consent_out(consent)


@router.delete("/applications/{application_id}/consents/{consent_id}", response_model=ConsentOut)
async def revoke_consent(
    deps: Deps, principal: CurrentPrincipal, application_id: str, consent_id: str
) -> ConsentOut:
    consent = await call(
        deps,
        uc.revoke_consent,
        deps.origination,
        actor=principal,
        application_id=application_id,
        consent_id=consent_id,
    )
    return consent_out(consent)


@router.post("/applications/{application_id}/decision", response_model=ApplicationDetailOut)
async def decide(
    deps: Deps, principal: CurrentPrincipal, application_id: str
) -> ApplicationDetailOut:
    """Step 3 of 3: automatic assessment → offer, decline with reasons, or referral."""
    view = await call(
        deps,
        uc.assess_application,
        deps.origination,
        actor=principal,
        application_id=application_id,
    )
    return _detail(view, principal)


@router.get("/applications/{application_id}/decision", response_model=DecisionOut)
async def get_decision(deps: Deps, principal: CurrentPrincipal, application_id: str) -> DecisionOut:
    view = await call(
        deps, uc.get_application, deps.origination, actor=principal, application_id=application_id
    )
    out = decision_out(view, with_trace=principal.is_staff)
    if out is None:
        raise NotFound("the application has not been decided yet")
    if principal.can(Permission.DECISION_EVIDENCE_READ):
        record = await call(
            deps,
            uc.get_decision_record,
            deps.origination,
            actor=principal,
            application_id=application_id,
        )
        if record is not None:
            out.evidence = evidence_out(record)
    return out


@router.post("/applications/{application_id}/review", response_model=ApplicationDetailOut)
async def review(
    deps: Deps, principal: CurrentPrincipal, application_id: str, body: ReviewCreate
) -> ApplicationDetailOut:
    """Manual review of a referral by an approver (four eyes)."""
    view = await call(
        deps,
        uc.review_application,
        deps.origination,
        actor=principal,
        application_id=application_id,
        approve=body.approve,
        note=body.note,
        limit_fen=body.limit_fen,
        annual_rate=None if body.annual_rate is None else Decimal(body.annual_rate),
        term_months=body.term_months,
    )
    return _detail(view, principal)


@router.post("/applications/{application_id}/acceptance", response_model=ApplicationDetailOut)
async def accept(
    deps: Deps, principal: CurrentPrincipal, application_id: str
) -> ApplicationDetailOut:
    """The owner accepts the offer; the signed contract is returned and the line opens."""
    view = await call(
        deps, uc.accept_offer, deps.origination, actor=principal, application_id=application_id
    )
    return _detail(view, principal)


@router.post("/applications/{application_id}/line-opening", response_model=ApplicationDetailOut)
async def retry_line_opening(
    deps: Deps, principal: CurrentPrincipal, application_id: str
) -> ApplicationDetailOut:
    """Staff retry opening the credit line of an application whose line failed to open."""
    view = await call(
        deps,
        uc.retry_line_opening,
        deps.origination,
        actor=principal,
        application_id=application_id,
    )
    return _detail(view, principal)


@router.post("/applications/{application_id}/cancellation", response_model=ApplicationDetailOut)
async def cancel(
    deps: Deps, principal: CurrentPrincipal, application_id: str, body: CancellationCreate
) -> ApplicationDetailOut:
    """Staff cancel an application whose line failed to open; the enterprise may apply again."""
    view = await call(
        deps,
        uc.cancel_application,
        deps.origination,
        actor=principal,
        application_id=application_id,
        note=body.note,
    )
    return _detail(view, principal)


@router.get("/applications/{application_id}/contract", response_model=ContractOut)
async def get_contract(deps: Deps, principal: CurrentPrincipal, application_id: str) -> ContractOut:
    view = await call(
        deps, uc.get_application, deps.origination, actor=principal, application_id=application_id
    )
    if view.contract is None:
        raise NotFound("the application has no contract yet")
    return contract_out(view.contract)


@router.get(
    "/applications/{application_id}/contract.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the contract as PDF"}},
)
async def get_contract_pdf(
    deps: Deps, principal: CurrentPrincipal, application_id: str
) -> Response:
    """The signed contract as PDF (Chinese with English; the owner's ID number masked)."""
    if deps.contracts is None:
        raise ConfigurationError("contract PDFs are not configured")
    # Drawing takes tens of milliseconds of Python: always off the event loop, even on SQLite.
    pdf = await run_in_threadpool(
        contract_pdf,
        deps.origination,
        deps.contracts,
        actor=principal,
        application_id=application_id,
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="contract-{application_id}.pdf"',
            # Personal data: never kept by a shared cache.
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/fraud-lists/{list_name}/entries",
    status_code=status.HTTP_201_CREATED,
    tags=["anti-fraud"],
)
async def add_fraud_list_entry(
    deps: Deps,
    principal: CurrentPrincipal,
    list_name: Literal["blacklist", "executed_person"],
    body: FraudListEntryCreate,
) -> dict[str, str]:
    await call(
        deps,
        uc.add_to_fraud_list,
        deps.origination,
        actor=principal,
        list_name=list_name,
        uscc=body.uscc,
        id_number=body.id_number,
        note=body.note,
    )
    return {"status": "added"}
