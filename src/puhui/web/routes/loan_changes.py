"""Loan changes: extension (展期) and restructuring (重组) requested by one user and approved by
another, renewal without principal repayment (无还本续贷), and the 2023 classification.

Writes need an ``Idempotency-Key``: the same key and body replay the first result, the same
key with another body is 409 ``idempotency_conflict``. Every refusal is a named 4xx
(``extension_beyond_policy``, ``too_many_changes``, ``loan_in_arrears``,
``outside_renewal_window``, ``four_eyes_violation``, ``change_not_pending``,
``loan_not_changeable``, ``change_already_pending``) and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.domain.errors import ConfigurationError
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody, IsoDate
from puhui.web.schemas.loan_changes import (
    ApproveIn,
    ChangeOut,
    ClassificationOut,
    ExtensionIn,
    PendingChangeOut,
    RejectIn,
    RenewalIn,
    RenewalOut,
    RestructuringIn,
    change_out,
    classification_out,
    pending_out,
    record_out,
    renewal_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["loan changes"])  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]


def _changes(deps: ApiDependencies) -> LoanChangeAccess:
    if deps.loan_changes is None:
        raise ConfigurationError("loan changes are not wired in this API")
    return deps.loan_changes


@router.post(
    "/loans/{loan_id}/extensions", response_model=ChangeOut, status_code=status.HTTP_201_CREATED
)
async def request_extension(
    deps: Deps,
    principal: CurrentPrincipal,
    loan_id: Identifier,
    body: ExtensionIn,
    idempotency_key: IdempotencyKey,
) -> ChangeOut:
    """Ask for an extension (account manager, risk officer); another user approves it."""
    result = await call(
        deps,
        _changes(deps).request_extension,
        principal,
        loan_id=loan_id,
        extension_months=body.extension_months,
        reason=body.reason,
        in_difficulty=body.in_difficulty,
        idempotency_key=idempotency_key,
        on=body.on,
    )
    return change_out(result)


@router.post(
    "/loans/{loan_id}/restructurings",
    response_model=ChangeOut,
    status_code=status.HTTP_201_CREATED,
)
async def request_restructuring(
    deps: Deps,
    principal: CurrentPrincipal,
    loan_id: Identifier,
    body: RestructuringIn,
    idempotency_key: IdempotencyKey,
) -> ChangeOut:
    """Ask to restructure a loan of a debtor in difficulty over ``new_term_months`` periods."""
    result = await call(
        deps,
        _changes(deps).request_restructuring,
        principal,
        loan_id=loan_id,
        new_term_months=body.new_term_months,
        reason=body.reason,
        idempotency_key=idempotency_key,
        on=body.on,
        new_annual_rate=None if body.new_annual_rate is None else Decimal(body.new_annual_rate),
    )
    return change_out(result)


@router.post("/loan-changes/{change_id}/approve", response_model=ChangeOut)
async def approve_change(
    deps: Deps,
    principal: CurrentPrincipal,
    change_id: Identifier,
    body: ApproveIn,
    idempotency_key: IdempotencyKey,
) -> ChangeOut:
    """Approve and apply a requested change (approver, risk officer; never one's own)."""
    result = await call(
        deps,
        _changes(deps).approve,
        principal,
        change_id,
        idempotency_key=idempotency_key,
        on=body.on,
    )
    return change_out(result)


@router.post("/loan-changes/{change_id}/reject", response_model=ChangeOut)
async def reject_change(
    deps: Deps,
    principal: CurrentPrincipal,
    change_id: Identifier,
    body: RejectIn,
    idempotency_key: IdempotencyKey,
) -> ChangeOut:
    """Reject a requested change (approver, risk officer): nothing is applied."""
    result = await call(
        deps,
        _changes(deps).reject,
        principal,
        change_id,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return change_out(result)


@router.post("/loans/{loan_id}/renewals", response_model=RenewalOut)
async def renew(
    deps: Deps,
    principal: CurrentPrincipal,
    loan_id: Identifier,
    body: RenewalIn,
    idempotency_key: IdempotencyKey,
) -> RenewalOut:
    """Renew a maturing loan without principal repayment: decided by the active strategy's
    renewal mode; a decline is a 200 with ``decision: declined`` and its reasons."""
    result = await call(
        deps,
        _changes(deps).renew,
        principal,
        loan_id=loan_id,
        term_months=body.term_months,
        reason=body.reason,
        idempotency_key=idempotency_key,
        on=body.on,
    )
    return renewal_out(result)


@router.get("/loan-changes", response_model=list[PendingChangeOut])
async def pending(
    deps: Deps,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PendingChangeOut]:
    """Changes awaiting approval, oldest first, each with its loan as it stands now
    (``loan_today``: outstanding principal, what is past due and for how many days, the
    category)."""
    queue = await call(deps, _changes(deps).queue, principal, limit=limit, offset=offset)
    return [pending_out(p) for p in queue]


@router.get("/loans/{loan_id}/changes", response_model=list[ChangeOut])
async def of_loan(deps: Deps, principal: CurrentPrincipal, loan_id: Identifier) -> list[ChangeOut]:
    """Every change of the loan, and the renewal that made it."""
    records = await call(deps, _changes(deps).of_loan, principal, loan_id)
    return [record_out(r) for r in records]


@router.get("/loans/{loan_id}/classification", response_model=ClassificationOut)
async def classification(
    deps: Deps,
    principal: CurrentPrincipal,
    loan_id: Identifier,
    as_of: Annotated[IsoDate | None, Query()] = None,
) -> ClassificationOut:
    """The loan's 2023 category with its reasons and observation period."""
    result = await call(deps, _changes(deps).classify, principal, loan_id, as_of)
    return classification_out(result)
