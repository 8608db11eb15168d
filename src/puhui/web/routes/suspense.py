"""Repayments held in suspense (挂账): hold a reconciliation's ``not_posted`` order, apply it to
the channel's loan, or apply it to another loan or refund it (one person requests the transfer or
the refund, a second approves it), and read the items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from puhui.domain.errors import ConfigurationError
from puhui.domain.lending.suspense import SuspenseStatus
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.servicing import suspense
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, call
from puhui.web.routes.servicing import ERRORS
from puhui.web.schemas.suspense import (
    SuspenseApplication,
    SuspenseAppliedOut,
    SuspenseHoldCreate,
    SuspenseItemOut,
    SuspenseListOut,
    SuspenseRefund,
    SuspenseRefundRejection,
    SuspenseTieOutOut,
    SuspenseTransfer,
    SuspenseTransferRejection,
    suspense_applied_out,
    suspense_item_out,
    suspense_list_out,
)

TAG = "reconciliation"
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

ItemId = Annotated[str, Path(min_length=1, max_length=64, description="the item (sus_…)")]


def _access(deps: ApiDependencies) -> CreditAccess:
    # The router is mounted only when servicing is wired (see ``create_app``).
    if deps.credit is None:
        raise ConfigurationError("servicing is not wired in this API")
    return deps.credit


@router.get("/repayment-suspense", response_model=SuspenseListOut, tags=[TAG])
async def list_suspense(
    deps: Deps,
    principal: CurrentPrincipal,
    status: Annotated[
        SuspenseStatus | None,
        Query(
            description="only the items of this status: held, refund_requested, "
            "transfer_requested, applied, refunded"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=suspense.MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SuspenseListOut:
    """Items held in suspense, the latest held first, of one status when given. Operations,
    risk officers and auditors (``ledger:read``); others 403. An unknown status, or a page
    outside 1 to 100 items, is 422."""
    credit = _access(deps)
    items = await call(
        deps,
        suspense.suspense_items,
        credit.servicing_reader or credit.servicing_uow,
        actor=principal,
        status=status,
        limit=limit,
        offset=offset,
    )
    return suspense_list_out(items, limit=limit, offset=offset)


@router.get("/repayment-suspense/tie-out", response_model=SuspenseTieOutOut, tags=[TAG])
async def tie_out(deps: Deps, principal: CurrentPrincipal) -> SuspenseTieOutOut:
    """The suspense account (2245) tied out against the items in suspense (held, or with a
    refund or a transfer waiting), read in one snapshot: ``agrees`` false names an entry on the
    account that no item explains, to be found before the books are relied on. ``overdue``
    counts the items held longer than ``max_days`` (the setting ``suspense_max_days``). The
    ledger's readers; others 403."""
    credit = _access(deps)
    found = await call(
        deps,
        suspense.tie_out,
        credit.servicing_reader or credit.servicing_uow,
        actor=principal,
        max_days=credit.suspense_max_days,
    )
    return SuspenseTieOutOut(
        account_fen=found.account_fen,
        items=found.items,
        items_fen=found.items_fen,
        difference_fen=found.difference_fen,
        agrees=found.agrees,
        max_days=found.max_days,
        overdue=found.overdue,
        overdue_fen=found.overdue_fen,
    )


@router.get("/repayment-suspense/{item_id}", response_model=SuspenseItemOut, tags=[TAG])
async def get_suspense_item(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId
) -> SuspenseItemOut:
    """An item as it stands: held, with a refund or a transfer to another loan requested (by
    whom, when, why), or applied or refunded and by whom; with the latest request turned down
    (``rejected_*``: which, why, by whom, when). The ledger's readers, as for the list; others
    403. A malformed id is 422 ``invalid_identifier``; an unknown one 404."""
    credit = _access(deps)
    item = await call(
        deps,
        suspense.suspense_item,
        credit.servicing_reader or credit.servicing_uow,
        actor=principal,
        item_id=item_id,
    )
    return suspense_item_out(item)


@router.post(
    "/repayment-suspense",
    response_model=SuspenseItemOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": SuspenseItemOut, "description": "the order was held already: its item"}
    },
    tags=[TAG],
)
async def hold(
    deps: Deps, principal: CurrentPrincipal, body: SuspenseHoldCreate, response: Response
) -> SuspenseItemOut:
    """Hold an order a recorded reconciliation found collected but not posted (operations):
    posted on the open business day (debit settlement, credit suspense), it keeps the
    channel's day, which then reconciles. 201 with the new item; 200 with the item when the
    order was held already. An order not among the run's ``not_posted`` breaks is 422; one
    that stands in the books as a repayment 409 ``order_already_posted``; one held already
    for another collection (another day, loan or amount) 409 ``order_held_already``; an
    unknown run 404; other roles 403."""
    held = await call(
        deps,
        suspense.hold,
        _access(deps).servicing_uow,
        actor=principal,
        run_id=body.run_id,
        order_id=body.order_id,
    )
    if not held.created:
        response.status_code = status.HTTP_200_OK
    return suspense_item_out(held.item)


@router.post("/repayment-suspense/{item_id}/apply", response_model=SuspenseAppliedOut, tags=[TAG])
async def apply(
    deps: Deps,
    principal: CurrentPrincipal,
    item_id: ItemId,
    body: SuspenseApplication | None = None,
) -> SuspenseAppliedOut:
    """Apply a held item to the loan the channel named (operations): a repayment of the whole
    amount, funded from suspense, valued on the open business day and allocated in waterfall
    order. Another ``loan_id`` than the channel's is 409 ``suspense_transfer_needs_approval``:
    applying the money to someone else's debt takes two people (``/transfer``). An item with a
    refund or a transfer requested is 409 ``suspense_refund_pending`` or
    ``suspense_transfer_pending``; one applied or refunded already 409 ``suspense_not_held``; a
    loan closed or written off 409; one that owes less than the amount 422 ``overpayment``
    (the item stays held); a malformed id 422 ``invalid_identifier``; an unknown item 404;
    other roles 403."""
    applied = await call(
        deps,
        suspense.apply,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
        loan_id=None if body is None else body.loan_id,
    )
    return suspense_applied_out(applied)


@router.post("/repayment-suspense/{item_id}/refund", response_model=SuspenseItemOut, tags=[TAG])
async def refund(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId, body: SuspenseRefund
) -> SuspenseItemOut:
    """Request that a held item's money go back to the payer (operations), with the reason:
    nothing is posted, the item is ``refund_requested`` until a second person approves the
    refund (``/refund/approve``) or either rejects it (``/refund/reject``). An item with a
    refund or a transfer requested already is 409 ``suspense_refund_pending`` or
    ``suspense_transfer_pending``; one applied or refunded already 409 ``suspense_not_held``; a
    reason missing, blank or over 200 characters 422, a malformed id 422
    ``invalid_identifier``; an unknown item 404; other roles 403."""
    item = await call(
        deps,
        suspense.request_refund,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
        reason=body.reason,
    )
    return suspense_item_out(item)


@router.post(
    "/repayment-suspense/{item_id}/refund/approve", response_model=SuspenseItemOut, tags=[TAG]
)
async def approve_refund(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId
) -> SuspenseItemOut:
    """Approve a requested refund (operations, someone other than who requested it): the money
    goes back to the payer on the open business day (debit suspense, credit settlement) and
    the item is ``refunded``. The requester is 409 ``four_eyes_violation`` (the request stands,
    for another operator); an item with no refund requested (held, or with a transfer
    requested) 409 ``suspense_no_refund_requested``; one applied or refunded already 409
    ``suspense_not_held``; a malformed id 422 ``invalid_identifier``; an unknown item 404;
    other roles 403."""
    item = await call(
        deps,
        suspense.approve_refund,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
    )
    return suspense_item_out(item)


@router.post(
    "/repayment-suspense/{item_id}/refund/reject", response_model=SuspenseItemOut, tags=[TAG]
)
async def reject_refund(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId, body: SuspenseRefundRejection
) -> SuspenseItemOut:
    """Reject a requested refund, saying why (operations; the requester withdraws it so):
    nothing is posted, the item is ``held`` again, to be applied or refunded, and the request
    is cleared; the item keeps the rejection (``rejected_*``). An item with no refund requested
    (held, or with a transfer requested) is 409 ``suspense_no_refund_requested``; one applied
    or refunded already 409 ``suspense_not_held``; a reason missing, blank or over 200
    characters 422, a malformed id 422 ``invalid_identifier``; an unknown item 404; other roles
    403."""
    item = await call(
        deps,
        suspense.reject_refund,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
        reason=body.reason,
    )
    return suspense_item_out(item)


@router.post("/repayment-suspense/{item_id}/transfer", response_model=SuspenseItemOut, tags=[TAG])
async def transfer(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId, body: SuspenseTransfer
) -> SuspenseItemOut:
    """Request that a held item be applied to another loan than the one the channel named
    (operations), with the reason: the payer's money credited to someone else's debt takes two
    people. Nothing is posted: the item is ``transfer_requested`` until a second person
    approves the transfer (``/transfer/approve``) or either rejects it (``/transfer/reject``).
    The loan must be active now; what it owes is checked on approval. The channel's own loan is
    422 ``invalid_input`` (apply the item: ``/apply``); a loan closed or written off 409; an
    item with a refund or a transfer requested already 409 ``suspense_refund_pending`` or
    ``suspense_transfer_pending``; one applied or refunded already 409 ``suspense_not_held``; a
    loan or a reason missing, blank or too long 422, a malformed id 422
    ``invalid_identifier``; an unknown item or loan 404; other roles 403."""
    item = await call(
        deps,
        suspense.request_transfer,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
        loan_id=body.loan_id,
        reason=body.reason,
    )
    return suspense_item_out(item)


@router.post(
    "/repayment-suspense/{item_id}/transfer/approve",
    response_model=SuspenseAppliedOut,
    tags=[TAG],
)
async def approve_transfer(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId
) -> SuspenseAppliedOut:
    """Approve a requested transfer (operations, someone other than who requested it): the item
    is applied to the loan asked for, as ``/apply`` applies it to the channel's (a repayment of
    the whole amount, funded from suspense, valued on the open business day), and is
    ``applied``. The requester is 409 ``four_eyes_violation`` (the request stands, for another
    operator); a loan closed or written off since 409, one that owes less than the amount 422
    ``overpayment`` (the request still waits: reject it); an item with no transfer requested
    (held, or with a refund requested) 409 ``suspense_no_transfer_requested``; one applied or
    refunded already 409 ``suspense_not_held``; a malformed id 422 ``invalid_identifier``; an
    unknown item 404; other roles 403."""
    applied = await call(
        deps,
        suspense.approve_transfer,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
    )
    return suspense_applied_out(applied)


@router.post(
    "/repayment-suspense/{item_id}/transfer/reject", response_model=SuspenseItemOut, tags=[TAG]
)
async def reject_transfer(
    deps: Deps, principal: CurrentPrincipal, item_id: ItemId, body: SuspenseTransferRejection
) -> SuspenseItemOut:
    """Reject a requested transfer, saying why (operations; the requester withdraws it so):
    nothing is posted, the item is ``held`` again, to be applied or refunded, the request is
    cleared and the item keeps the rejection (``rejected_*``). An item with no transfer
    requested (held, or with a refund requested) is 409 ``suspense_no_transfer_requested``;
    one applied or refunded already 409 ``suspense_not_held``; a reason missing, blank or over
    200 characters 422, a malformed id 422 ``invalid_identifier``; an unknown item 404; other
    roles 403."""
    item = await call(
        deps,
        suspense.reject_transfer,
        _access(deps).servicing_uow,
        actor=principal,
        item_id=item_id,
        reason=body.reason,
    )
    return suspense_item_out(item)
