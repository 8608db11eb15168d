"""Dealer lines (经销商贷): staff open a line for a core enterprise's dealer, sized by the
supply-chain strategy from its purchases, and draw on it to pay the core (受托支付)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.services.dealers import (
    dealer_line,
    draw_to_core,
    list_dealer_lines,
    open_dealer_line,
)
from puhui.web.dealer_wiring import dealer_access
from puhui.web.dependencies import CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.dealers import (
    DealerDrawCreate,
    DealerDrawOut,
    DealerLineCreate,
    DealerLineOut,
    DealerLineViewOut,
    dealer_draw_out,
    dealer_line_out,
    dealer_line_view_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
TAG = "dealer-lines"
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]
CoreFilter = Annotated[str | None, Query(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]


@router.post(
    "/dealer-lines",
    response_model=DealerLineOut,
    status_code=status.HTTP_201_CREATED,
    tags=[TAG],
)
async def open_line(
    deps: Deps, principal: CurrentPrincipal, body: DealerLineCreate, idempotency_key: IdempotencyKey
) -> DealerLineOut:
    """Size and open a dealer's line (risk officer, operations): a multiple of its peak
    months' purchases from the core, by the core's commitment, within a share of the year's
    purchases; declined with the strategy's reasons (422 ``dealer_line_declined``)."""
    line, _ = await call(
        deps,
        open_dealer_line,
        dealer_access(deps),
        actor=principal,
        core_uscc=body.core_uscc,
        dealer_uscc=body.dealer_uscc,
        commitment=body.commitment,
        requested_fen=body.requested_amount_fen,
        idempotency_key=idempotency_key,
    )
    return dealer_line_out(line)


@router.post(
    "/dealer-lines/{line_id}/draws",
    response_model=DealerDrawOut,
    status_code=status.HTTP_201_CREATED,
    tags=[TAG],
)
async def draw(
    deps: Deps,
    principal: CurrentPrincipal,
    line_id: Identifier,
    body: DealerDrawCreate,
    idempotency_key: IdempotencyKey,
) -> DealerDrawOut:
    """Draw on the dealer line, paid to the core enterprise (its payee), by staff on the
    dealer's instruction or by the dealer's own enterprise user (its bound enterprises' lines
    only; another's is 404); the same key and body replay the first result."""
    paid = await call(
        deps,
        draw_to_core,
        dealer_access(deps),
        actor=principal,
        line_id=line_id,
        amount_fen=body.amount_fen,
        maturity_date=body.maturity_date,
        idempotency_key=idempotency_key,
    )
    return dealer_draw_out(paid)


@router.get("/dealer-lines", response_model=list[DealerLineViewOut], tags=[TAG])
async def list_lines(
    deps: Deps, principal: CurrentPrincipal, core: CoreFilter = None
) -> list[DealerLineViewOut]:
    """Dealer lines, newest first: staff see every dealer's (of one core with ``core``); an
    enterprise user sees those of the enterprises it is bound to."""
    found = await call(
        deps, list_dealer_lines, dealer_access(deps), actor=principal, core_uscc=core
    )
    return [dealer_line_view_out(v) for v in found]


@router.get("/dealer-lines/{line_id}", response_model=DealerLineViewOut, tags=[TAG])
async def show_line(
    deps: Deps, principal: CurrentPrincipal, line_id: Identifier
) -> DealerLineViewOut:
    """A dealer line with its receipts; another enterprise's line is 404 to an enterprise
    user."""
    view = await call(deps, dealer_line, dealer_access(deps), actor=principal, line_id=line_id)
    return dealer_line_view_out(view)
