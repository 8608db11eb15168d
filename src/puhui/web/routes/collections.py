"""Collections (催收) queues and cases, write-off proposals (核销, four eyes), concentration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.domain.errors import ConfigurationError
from puhui.domain.monitoring.collection import DpdBucket, WriteOffStatus
from puhui.services.collections import access as post_loan
from puhui.services.collections.access import PostLoanAccess
from puhui.services.collections.cases import MAX_PAGE, decode_cursor
from puhui.services.collections.ports import QueueFilter
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.routes.servicing import ERRORS
from puhui.web.schemas.collections import (
    Assignment,
    CaseDetailOut,
    CaseOut,
    ConcentrationOut,
    ContactCreate,
    ContactOut,
    PromiseCreate,
    PromiseOut,
    QueueOut,
    WriteOffCreate,
    WriteOffDecision,
    WriteOffOut,
    case_detail_out,
    case_out,
    concentration_out,
    contact_out,
    promise_out,
    write_off_out,
)

router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]
Identifier = Annotated[str, Path(min_length=1, max_length=64)]


def _access(deps: ApiDependencies) -> PostLoanAccess:
    # The router is mounted only when post-loan access is wired (see ``create_app``).
    if deps.post_loan is None:
        raise ConfigurationError("collections are not wired in this API")
    return deps.post_loan


@router.get("/collections", response_model=QueueOut, tags=["collections"])
async def queue(
    deps: Deps,
    principal: CurrentPrincipal,
    *,
    bucket: DpdBucket,
    mine: bool = False,
    unassigned: bool = False,
    assignee: Annotated[str | None, Query(max_length=128)] = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> QueueOut:
    """A DPD bucket's queue — reminder (1–30), collection (31–90), legal (90+) — oldest then
    largest first; ``next_cursor`` reads on. ``mine`` lists the caller's cases."""
    query = QueueFilter(
        bucket=bucket,
        assignee=principal.audit_name() if mine else assignee,
        unassigned=unassigned,
        customer_id=customer_id,
        after=None if cursor is None else decode_cursor(cursor),
        limit=limit,
    )
    page = await call(deps, post_loan.queue, _access(deps), actor=principal, query=query)
    return QueueOut(cases=[case_out(c) for c in page.cases], next_cursor=page.next_cursor)


@router.get("/collections/{case_id}", response_model=CaseDetailOut, tags=["collections"])
async def case_detail(
    deps: Deps, principal: CurrentPrincipal, case_id: Identifier
) -> CaseDetailOut:
    """A case with its promises to pay, contact log and open write-off proposal."""
    found = await call(deps, post_loan.case_detail, _access(deps), actor=principal, case_id=case_id)
    return case_detail_out(found)


@router.post("/collections/{case_id}/claim", response_model=CaseOut, tags=["collections"])
async def claim(deps: Deps, principal: CurrentPrincipal, case_id: Identifier) -> CaseOut:
    """Take a case nobody holds (claiming one's own case again changes nothing)."""
    found = await call(deps, post_loan.claim, _access(deps), actor=principal, case_id=case_id)
    return case_out(found)


@router.post("/collections/{case_id}/assignment", response_model=CaseOut, tags=["collections"])
async def assign(
    deps: Deps, principal: CurrentPrincipal, case_id: Identifier, body: Assignment
) -> CaseOut:
    """Give a case to a collector (operations, risk officers)."""
    found = await call(
        deps,
        post_loan.assign,
        _access(deps),
        actor=principal,
        case_id=case_id,
        assignee=body.assignee,
    )
    return case_out(found)


@router.post(
    "/collections/{case_id}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    tags=["collections"],
)
async def record_contact(
    deps: Deps,
    principal: CurrentPrincipal,
    case_id: Identifier,
    body: ContactCreate,
    idempotency_key: IdempotencyKey,
) -> ContactOut:
    """Log an attempt to reach the borrower (the note is encrypted at rest)."""
    found = await call(
        deps,
        post_loan.record_contact,
        _access(deps),
        actor=principal,
        case_id=case_id,
        channel=body.channel,
        result=body.result,
        contacted_at=body.contacted_at,
        note=body.note,
        idempotency_key=idempotency_key,
    )
    return contact_out(found)


@router.post(
    "/collections/{case_id}/promises",
    response_model=PromiseOut,
    status_code=status.HTTP_201_CREATED,
    tags=["collections"],
)
async def promise(
    deps: Deps,
    principal: CurrentPrincipal,
    case_id: Identifier,
    body: PromiseCreate,
    idempotency_key: IdempotencyKey,
) -> PromiseOut:
    """Record a promise to pay; the daily refresh judges it against the repayments posted."""
    found = await call(
        deps,
        post_loan.promise,
        _access(deps),
        actor=principal,
        case_id=case_id,
        amount_fen=body.amount_fen,
        promised_on=body.promised_on,
        grace_days=body.grace_days,
        idempotency_key=idempotency_key,
    )
    return promise_out(found)


@router.get("/write-offs", response_model=list[WriteOffOut], tags=["write-offs"])
async def list_write_offs(
    deps: Deps,
    principal: CurrentPrincipal,
    status_filter: Annotated[WriteOffStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[WriteOffOut]:
    """Write-off proposals, newest first (``status=proposed`` awaits a decision)."""
    found = await call(
        deps,
        post_loan.list_write_offs,
        _access(deps),
        actor=principal,
        status=status_filter,
        limit=limit,
    )
    return [write_off_out(p) for p in found]


@router.get("/write-offs/{proposal_id}", response_model=WriteOffOut, tags=["write-offs"])
async def get_write_off(
    deps: Deps, principal: CurrentPrincipal, proposal_id: Identifier
) -> WriteOffOut:
    found = await call(
        deps, post_loan.get_write_off, _access(deps), actor=principal, proposal_id=proposal_id
    )
    return write_off_out(found)


@router.post(
    "/write-offs",
    response_model=WriteOffOut,
    status_code=status.HTTP_201_CREATED,
    tags=["write-offs"],
)
async def propose_write_off(
    deps: Deps, principal: CurrentPrincipal, body: WriteOffCreate, idempotency_key: IdempotencyKey
) -> WriteOffOut:
    """Propose writing off a receipt more than 90 days past due (a second person decides)."""
    found = await call(
        deps,
        post_loan.propose_write_off,
        _access(deps),
        actor=principal,
        receipt_id=body.receipt_id,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return write_off_out(found)


@router.post("/write-offs/{proposal_id}/approval", response_model=WriteOffOut, tags=["write-offs"])
async def approve_write_off(
    deps: Deps,
    principal: CurrentPrincipal,
    proposal_id: Identifier,
    body: WriteOffDecision,
    idempotency_key: IdempotencyKey,
) -> WriteOffOut:
    """Approve (risk officer, never the proposer): the write-off is posted to the ledger."""
    found = await call(
        deps,
        post_loan.decide_write_off,
        _access(deps),
        actor=principal,
        proposal_id=proposal_id,
        approve=True,
        note=body.note,
        idempotency_key=idempotency_key,
    )
    return write_off_out(found)


@router.post("/write-offs/{proposal_id}/rejection", response_model=WriteOffOut, tags=["write-offs"])
async def reject_write_off(
    deps: Deps,
    principal: CurrentPrincipal,
    proposal_id: Identifier,
    body: WriteOffDecision,
    idempotency_key: IdempotencyKey,
) -> WriteOffOut:
    """Reject (risk officer, never the proposer): the receipt stays in its queue."""
    found = await call(
        deps,
        post_loan.decide_write_off,
        _access(deps),
        actor=principal,
        proposal_id=proposal_id,
        approve=False,
        note=body.note,
        idempotency_key=idempotency_key,
    )
    return write_off_out(found)


@router.get("/concentration", response_model=ConcentrationOut, tags=["concentration"])
async def latest_concentration(deps: Deps, principal: CurrentPrincipal) -> ConcentrationOut:
    """The latest evaluation: exposure and share by cluster, breaches, the proposed tightening."""
    found = await call(deps, post_loan.latest_concentration, _access(deps), actor=principal)
    return concentration_out(found)
