"""Dealer lines (经销商贷): staff open a line for a core enterprise's dealer, sized by the
supply-chain strategy from its purchases, and draw on it to pay the core (受托支付)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Path, status

from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.domain.errors import ConfigurationError
from puhui.services.dealers import CoreBacking, DealerAccess, draw_to_core, open_dealer_line
from puhui.services.security.permissions import Principal
from puhui.services.supply_chain.use_cases import SupplyChainService
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.dealers import (
    DealerDrawCreate,
    DealerDrawOut,
    DealerLineCreate,
    DealerLineOut,
    dealer_draw_out,
    dealer_line_out,
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


@cache
def _policy() -> SupplyChainPolicy:
    return SupplyChainPolicy.load()


def _registry(service: SupplyChainService) -> Callable[[Principal, str, str], CoreBacking]:
    """The platform's core registry behind dealer lines: the core must be onboarded and
    have named the dealer; the line takes the grade of the core's usable facility."""

    def backing(actor: Principal, core: str, dealer: str) -> CoreBacking:
        standing = service.dealer_standing(actor, core=core, dealer=dealer)
        return CoreBacking(named=standing.named, grade=standing.grade)

    return backing


def _access(deps: ApiDependencies) -> DealerAccess:
    # Mounted only with servicing (see ``create_app``), as is the supply-chain registry.
    if deps.credit is None or deps.supply_chain is None:
        raise ConfigurationError("servicing is not wired in this API")
    return DealerAccess.from_credit(
        deps.credit,
        deps.origination.data_source,
        policy=_policy(),
        registry=_registry(deps.supply_chain),
    )


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
        _access(deps),
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
    """Draw on the dealer's instruction, paid to the core enterprise (its payee); the same
    key and body replay the first result."""
    paid = await call(
        deps,
        draw_to_core,
        _access(deps),
        actor=principal,
        line_id=line_id,
        amount_fen=body.amount_fen,
        maturity_date=body.maturity_date,
        idempotency_key=idempotency_key,
    )
    return dealer_draw_out(paid)
