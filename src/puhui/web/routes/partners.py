"""Lending with partners (联合贷款 / 助贷): agreements, loans tied to them, the partner's
decision callback, daily settlement, settlement files, reconciliation and positions.

Writes need an ``Idempotency-Key``: the same key and body return the same result (each write
is also idempotent by its natural key: agreement, loan, application, settlement day); the same
key with another body is 409 ``idempotency_conflict``.
Every refusal is a named 4xx.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response

from puhui.domain.errors import ConfigurationError
from puhui.domain.money import format_yuan, parse_yuan
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)
from puhui.domain.partners.shares import parse_partner_share
from puhui.services.partners.access import PartnerAccess
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody, IsoDate
from puhui.web.schemas.partners import (
    AgreementIn,
    AgreementOut,
    AwaitingOut,
    DecisionIn,
    DecisionOut,
    LinkIn,
    LinkOut,
    PositionOut,
    ReconcileIn,
    ReconciliationOut,
    RouteIn,
    RoutingOut,
    SettleIn,
    SettlementOut,
    agreement_out,
    difference_out,
    position_out,
    routing_out,
    settlement_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
TAG = "partners"
router = APIRouter(prefix="/api/v1/partners", responses=ERRORS, tags=[TAG])  # type: ignore[arg-type]
AgreementId = Annotated[str, Path(min_length=1, max_length=64)]


def _access(deps: ApiDependencies) -> PartnerAccess:
    if deps.partners is None:
        raise ConfigurationError("partner lending is not wired in this API")
    return deps.partners


def _agreement(body: AgreementIn) -> Agreement:
    return Agreement(
        agreement_id=body.agreement_id,
        partner_id=body.partner_id,
        partner_name=body.partner_name,
        kind=AgreementKind.parse(body.kind),
        funding_share=parse_partner_share(body.funding_share),
        approver=Approver.parse(body.approver),
        limits=ConcentrationLimits(
            max_outstanding_fen=parse_yuan(body.max_outstanding),
            max_portfolio_share=Decimal(body.max_portfolio_share),
        ),
        fees=FeeTerms(
            per_loan_fen=parse_yuan(body.fee_per_loan),
            interest_share=Decimal(body.fee_interest_share),
        ),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
    )


@router.post("/agreements", response_model=AgreementOut, status_code=status.HTTP_201_CREATED)
async def create_agreement(
    deps: Deps, principal: CurrentPrincipal, body: AgreementIn, idempotency_key: IdempotencyKey
) -> AgreementOut:
    """Create an agreement as a draft (risk officers). A partner share above 0.7 is 422
    ``bank_share_below_minimum``; inconsistent terms are 422 ``invalid_agreement``."""
    access = _access(deps)
    agreement = _agreement(body)
    created = await call(deps, access.create_agreement, principal, agreement, key=idempotency_key)
    return agreement_out(created)


@router.get("/agreements", response_model=list[AgreementOut])
async def list_agreements(deps: Deps, principal: CurrentPrincipal) -> list[AgreementOut]:
    """Staff see every agreement; a partner's key sees its own."""
    found = await call(deps, _access(deps).agreements, principal)
    return [agreement_out(a) for a in found]


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
async def get_agreement(
    deps: Deps, principal: CurrentPrincipal, agreement_id: AgreementId
) -> AgreementOut:
    return agreement_out(await call(deps, _access(deps).agreement, principal, agreement_id))


@router.post("/agreements/{agreement_id}/activate", response_model=AgreementOut)
async def activate_agreement(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    idempotency_key: IdempotencyKey,
) -> AgreementOut:
    """Activate a draft (risk officers). An agreement that would start over its concentration
    limits (the partner's loans under its other agreements) is 409
    ``concentration_limit_breached``."""
    active = await call(deps, _access(deps).activate, principal, agreement_id, key=idempotency_key)
    return agreement_out(active)


@router.post(
    "/agreements/{agreement_id}/loans",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
)
async def link_loan(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    body: LinkIn,
    idempotency_key: IdempotencyKey,
) -> LinkOut:
    """Tie a loan (or draw) to the agreement (operations). Over a concentration limit: 409
    ``concentration_limit_breached``; agreement not active that day: 409
    ``agreement_not_active``; unknown loan: 404 ``loan_not_found``."""
    link = await call(
        deps,
        _access(deps).link_loan,
        principal,
        agreement_id,
        body.loan_id,
        channel=body.channel,
        on=body.on,
        key=idempotency_key,
    )
    return LinkOut(
        loan_id=link.loan_id,
        agreement_id=link.agreement_id,
        channel=link.channel,
        principal=format_yuan(link.principal_fen),
        linked_on=link.linked_on,
    )


@router.post("/agreements/{agreement_id}/decisions", response_model=DecisionOut)
async def partner_decision(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    body: DecisionIn,
    idempotency_key: IdempotencyKey,
) -> DecisionOut:
    """The partner's callback: its approve or decline of an application under the agreement.
    Only the agreement's own partner key may post; another decision on the same application
    is 409 ``decision_already_recorded``."""
    made = await call(
        deps,
        _access(deps).record_decision,
        principal,
        agreement_id,
        body.application_id,
        decision=body.decision,
        reason=body.reason,
        key=idempotency_key,
    )
    return DecisionOut(
        agreement_id=made.agreement_id,
        application_id=made.application_id,
        decision=made.decision,
    )


@router.get("/agreements/{agreement_id}/awaiting-decisions", response_model=list[AwaitingOut])
async def awaiting_decisions(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    on: Annotated[IsoDate, Query(description="loans disbursed through this day")],
) -> list[AwaitingOut]:
    """The partner's queue under a joint-lending agreement it approves too: its customers'
    loans disbursed through ``on`` that routing holds until it posts its decision. Empty when
    the bank approves alone. The partner's own key or staff."""
    waiting = await call(deps, _access(deps).awaiting_decisions, principal, agreement_id, on)
    return [
        AwaitingOut(loan_id=w.loan_id, application_id=w.application_id, disbursed_on=w.disbursed_on)
        for w in waiting
    ]


@router.post("/settlements", response_model=list[SettlementOut])
async def settle(
    deps: Deps, principal: CurrentPrincipal, body: SettleIn, idempotency_key: IdempotencyKey
) -> list[SettlementOut]:
    """Run the daily settlement (operations): posts each partner's shares of the day."""
    reports = await call(
        deps, _access(deps).settle, principal, body.on, body.agreement_id, key=idempotency_key
    )
    return [settlement_out(r) for r in reports]


@router.post("/routing", response_model=list[RoutingOut])
async def route(
    deps: Deps, principal: CurrentPrincipal, body: RouteIn, idempotency_key: IdempotencyKey
) -> list[RoutingOut]:
    """Put partners' customers' loans under their agreements (operations; before settling the
    day): joint lending needs the partner's approval of the application when it approves too."""
    reports = await call(deps, _access(deps).route, principal, body.on, key=idempotency_key)
    return [routing_out(r) for r in reports]


@router.get(
    "/agreements/{agreement_id}/settlement-file",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the settlement file (CSV)"}},
)
async def settlement_file(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    on: Annotated[IsoDate, Query(description="settlement date")],
) -> Response:
    """The day's settlement file (CSV, one row per loan and component)."""
    text = await call(deps, _access(deps).settlement_file, principal, agreement_id, on)
    return Response(content=text, media_type="text/csv")


@router.post("/agreements/{agreement_id}/reconciliations", response_model=ReconciliationOut)
async def reconcile(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    on: Annotated[IsoDate, Query(description="settlement date")],
    body: ReconcileIn,
) -> ReconciliationOut:
    """Upload the partner's file for a day; every difference is named (loan, component,
    ours, theirs). A malformed file is 422 ``invalid_input``."""
    differences = await call(deps, _access(deps).reconcile, principal, agreement_id, on, body.file)
    return ReconciliationOut(
        agreement_id=agreement_id,
        settled_on=on,
        agrees=not differences,
        differences=[difference_out(d) for d in differences],
    )


@router.get("/agreements/{agreement_id}/position", response_model=PositionOut)
async def position(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: AgreementId,
    through: Annotated[IsoDate | None, Query()] = None,
) -> PositionOut:
    """The partner's sub-ledger: principal funded, repaid, outstanding; interest, losses,
    recoveries, fees."""
    found = await call(deps, _access(deps).position, principal, agreement_id, through)
    return position_out(agreement_id, found)
