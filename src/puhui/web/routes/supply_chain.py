"""Supply-chain finance (供应链金融): core enterprises and their facilities, payables, payable
vouchers (电子债权凭证) with split, transfer and financing, the financing queue, settlement.

Writes need an ``Idempotency-Key``: the same key and body replay the first result, the same
key with another body is 409 ``idempotency_conflict``. Every refusal is a named 4xx.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.domain.errors import ConfigurationError
from puhui.domain.money import parse_yuan
from puhui.services.supply_chain.ports import VoucherQuery
from puhui.services.supply_chain.use_cases import MAX_PAGE, SupplyChainService
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.supply_chain import (
    CoreOnboard,
    CoreOut,
    EarnIn,
    EarningRunOut,
    EnterpriseUserIn,
    FacilityOut,
    FinancingOut,
    FreezeIn,
    NonpaymentIn,
    PartnerIn,
    PartnerOut,
    PayableIn,
    PayableOut,
    RejectIn,
    SettleIn,
    SettlementRunOut,
    SplitIn,
    SplitOut,
    TransferIn,
    TreeOut,
    VoucherIssue,
    VoucherOut,
    VoucherPage,
    core_out,
    earning_out,
    facility_out,
    financing_out,
    partner_out,
    payable_out,
    run_out,
    split_out,
    tree_out,
    voucher_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
CORES = "core enterprises"
VOUCHERS = "vouchers"
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]
UsccPath = Annotated[str, Path(pattern=r"^[0-9A-Z]{18}$")]
UsccQuery = Annotated[str | None, Query(pattern=r"^[0-9A-Z]{18}$")]
Status = Annotated[
    str | None,
    Query(pattern=r"^(pending|outstanding|split|financed|settled|overdue)$"),
]


def _service(deps: ApiDependencies) -> SupplyChainService:
    if deps.supply_chain is None:
        raise ConfigurationError("supply-chain finance is not wired in this API")
    return deps.supply_chain


# -- core enterprises ---------------------------------------------------------------------------


@router.post(
    "/core-enterprises", response_model=CoreOut, status_code=status.HTTP_201_CREATED, tags=[CORES]
)
async def onboard_core(
    deps: Deps, principal: CurrentPrincipal, body: CoreOnboard, idempotency_key: IdempotencyKey
) -> CoreOut:
    """Onboard a core enterprise (risk officers): it must be a medium or small enterprise of
    the data sources; the supply-chain strategy decides its facility from its own data at
    ``as_of`` (default today). Declined: 422 ``facility_declined`` with the reasons."""
    service = _service(deps)
    core = await call(
        deps,
        service.onboard_core,
        principal,
        uscc=body.uscc,
        requested_fen=parse_yuan(body.requested),
        as_of=body.as_of or service.clock.today(),
        key=idempotency_key,
    )
    return core_out(core, core.effective_status(service.clock.today()))


@router.get("/core-enterprises", response_model=list[CoreOut], tags=[CORES])
async def list_cores(deps: Deps, principal: CurrentPrincipal) -> list[CoreOut]:
    service = _service(deps)
    found = await call(deps, service.list_cores, principal)
    today = service.clock.today()
    return [core_out(c, c.effective_status(today)) for c in found]


@router.get("/core-enterprises/{uscc}", response_model=FacilityOut, tags=[CORES])
async def get_core(deps: Deps, principal: CurrentPrincipal, uscc: UsccPath) -> FacilityOut:
    """The core's facility with its usage: live vouchers by status and by tier."""
    service = _service(deps)
    return facility_out(await call(deps, service.facility_usage, principal, core=uscc))


@router.post(
    "/core-enterprises/{uscc}/partners",
    response_model=PartnerOut,
    status_code=status.HTTP_201_CREATED,
    tags=[CORES],
)
async def name_partner(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: PartnerIn,
    idempotency_key: IdempotencyKey,
) -> PartnerOut:
    """Record a supplier or dealer the core names."""
    service = _service(deps)
    named = await call(
        deps,
        service.name_partner,
        principal,
        core=uscc,
        partner_uscc=body.partner,
        relation=body.relation,
        key=idempotency_key,
    )
    return partner_out(named)


@router.get("/core-enterprises/{uscc}/partners", response_model=list[PartnerOut], tags=[CORES])
async def list_partners(
    deps: Deps, principal: CurrentPrincipal, uscc: UsccPath
) -> list[PartnerOut]:
    service = _service(deps)
    return [partner_out(p) for p in await call(deps, service.partners, principal, core=uscc)]


@router.post("/core-enterprises/{uscc}/freeze", response_model=CoreOut, tags=[CORES])
async def freeze(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: FreezeIn,
    idempotency_key: IdempotencyKey,
) -> CoreOut:
    """Freeze the facility: no voucher is issued nor financed on it until unfrozen."""
    service = _service(deps)
    core = await call(
        deps, service.freeze_facility, principal, core=uscc, reason=body.reason, key=idempotency_key
    )
    return core_out(core)


@router.post("/core-enterprises/{uscc}/unfreeze", response_model=CoreOut, tags=[CORES])
async def unfreeze(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: FreezeIn,
    idempotency_key: IdempotencyKey,
) -> CoreOut:
    """Unfreeze the facility (409 ``core_defaulting`` while the core has not paid)."""
    service = _service(deps)
    core = await call(
        deps,
        service.unfreeze_facility,
        principal,
        core=uscc,
        reason=body.reason,
        key=idempotency_key,
    )
    return core_out(core)


@router.post("/core-enterprises/{uscc}/nonpayment", response_model=CoreOut, tags=[CORES])
async def nonpayment(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: NonpaymentIn,
    idempotency_key: IdempotencyKey,
) -> CoreOut:
    """The core did not fund its maturing vouchers: the settlement run marks them overdue,
    freezes the facility and raises a monitoring alert."""
    service = _service(deps)
    core = await call(
        deps, service.record_core_nonpayment, principal, core=uscc, on=body.on, key=idempotency_key
    )
    return core_out(core)


@router.post("/core-enterprises/{uscc}/payment", response_model=CoreOut, tags=[CORES])
async def core_paid(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: NonpaymentIn,
    idempotency_key: IdempotencyKey,
) -> CoreOut:
    """The core funded its overdue vouchers: the next settlement run pays them (with
    penalty interest on financed ones)."""
    service = _service(deps)
    core = await call(
        deps, service.record_core_payment, principal, core=uscc, on=body.on, key=idempotency_key
    )
    return core_out(core)


@router.post(
    "/core-enterprises/{uscc}/payables",
    response_model=PayableOut,
    status_code=status.HTTP_201_CREATED,
    tags=[CORES],
)
async def confirm_payable(
    deps: Deps,
    principal: CurrentPrincipal,
    uscc: UsccPath,
    body: PayableIn,
    idempotency_key: IdempotencyKey,
) -> PayableOut:
    """The core's user confirms a payable to a named supplier: the month's invoices from the
    supplier to the core must total exactly this amount (422 ``invoice_mismatch``), and an
    invoice month backs one payable (409 ``invoice_already_used``)."""
    service = _service(deps)
    year, month = (int(x) for x in body.invoice_month.split("-"))
    payable = await call(
        deps,
        service.confirm_payable,
        principal,
        core=uscc,
        supplier=body.supplier,
        invoice_month=dt.date(year, month, 1),
        amount_fen=parse_yuan(body.amount),
        key=idempotency_key,
    )
    return payable_out(payable)


@router.get("/core-enterprises/{uscc}/payables", response_model=list[PayableOut], tags=[CORES])
async def list_payables(
    deps: Deps, principal: CurrentPrincipal, uscc: UsccPath
) -> list[PayableOut]:
    service = _service(deps)
    return [payable_out(p) for p in await call(deps, service.payables, principal, core=uscc)]


@router.post("/enterprise-users", status_code=status.HTTP_204_NO_CONTENT, tags=[CORES])
async def bind_user(deps: Deps, principal: CurrentPrincipal, body: EnterpriseUserIn) -> None:
    """Bind an enterprise user (an applicant login) to an enterprise it acts for."""
    service = _service(deps)
    await call(deps, service.bind_user, principal, user_id=body.user_id, uscc=body.uscc)


# -- vouchers ---------------------------------------------------------------------------------


@router.post(
    "/vouchers", response_model=VoucherOut, status_code=status.HTTP_201_CREATED, tags=[VOUCHERS]
)
async def issue(
    deps: Deps, principal: CurrentPrincipal, body: VoucherIssue, idempotency_key: IdempotencyKey
) -> VoucherOut:
    """The core's user issues a voucher for a confirmed payable to its supplier (pending its
    acceptance), within the facility (409 ``facility_exceeded``/``_frozen``/``_expired``)."""
    service = _service(deps)
    found = await call(
        deps,
        service.issue_voucher,
        principal,
        core=body.core,
        payable_id=body.payable_id,
        maturity=body.maturity,
        key=idempotency_key,
    )
    return voucher_out(found)


@router.get("/vouchers", response_model=VoucherPage, tags=[VOUCHERS])
async def list_vouchers(  # noqa: PLR0917 - one parameter per filter
    deps: Deps,
    principal: CurrentPrincipal,
    core: UsccQuery = None,
    holder: UsccQuery = None,
    status: Status = None,
    after: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> VoucherPage:
    """Vouchers in id order; an enterprise user sees those of its enterprises only."""
    service = _service(deps)
    query = VoucherQuery(core=core, holder=holder, status=status, after=after, limit=limit)
    found = await call(deps, service.list_vouchers, principal, query)
    return VoucherPage(
        items=[voucher_out(v) for v in found],
        next_after=found[-1].voucher_id if len(found) == limit else None,
    )


@router.post("/vouchers/settle", response_model=SettlementRunOut, tags=[VOUCHERS])
async def settle(
    deps: Deps, principal: CurrentPrincipal, body: SettleIn, idempotency_key: IdempotencyKey
) -> SettlementRunOut:
    """Settle every live voucher maturing on or before ``on`` (operations): the core pays the
    holder, or the bank for financed vouchers; a defaulting core's become overdue."""
    service = _service(deps)
    return run_out(await call(deps, service.settle_due, principal, on=body.on, key=idempotency_key))


@router.post("/vouchers/earn", response_model=EarningRunOut, tags=[VOUCHERS])
async def earn(
    deps: Deps, principal: CurrentPrincipal, body: EarnIn, idempotency_key: IdempotencyKey
) -> EarningRunOut:
    """Recognise the discount interest financed vouchers earned by the end of ``through``
    (operations; today at the latest): moved from unearned discount to interest income."""
    service = _service(deps)
    return earning_out(
        await call(
            deps,
            service.earn_discount_interest,
            principal,
            through=body.through,
            key=idempotency_key,
        )
    )


@router.get("/vouchers/{voucher_id}", response_model=TreeOut, tags=[VOUCHERS])
async def get_voucher(deps: Deps, principal: CurrentPrincipal, voucher_id: Identifier) -> TreeOut:
    """The voucher with its whole tree: parts, transfers, financings, settlements."""
    service = _service(deps)
    tree = await call(deps, service.voucher_tree, principal, voucher_id=voucher_id)
    return tree_out(voucher_id, tree)


@router.post("/vouchers/{voucher_id}/accept", response_model=VoucherOut, tags=[VOUCHERS])
async def accept(
    deps: Deps, principal: CurrentPrincipal, voucher_id: Identifier, idempotency_key: IdempotencyKey
) -> VoucherOut:
    service = _service(deps)
    found = await call(
        deps, service.accept_voucher, principal, voucher_id=voucher_id, key=idempotency_key
    )
    return voucher_out(found)


@router.post("/vouchers/{voucher_id}/split", response_model=SplitOut, tags=[VOUCHERS])
async def split(
    deps: Deps,
    principal: CurrentPrincipal,
    voucher_id: Identifier,
    body: SplitIn,
    idempotency_key: IdempotencyKey,
) -> SplitOut:
    """Split into parts summing exactly to the voucher (422 ``split_does_not_sum``,
    ``invalid_split_part``); the parts get new ids."""
    service = _service(deps)
    found = await call(
        deps,
        service.split_voucher,
        principal,
        voucher_id=voucher_id,
        parts=[parse_yuan(p) for p in body.parts],
        key=idempotency_key,
    )
    return split_out(found)


@router.post("/vouchers/{voucher_id}/transfer", response_model=VoucherOut, tags=[VOUCHERS])
async def transfer(
    deps: Deps,
    principal: CurrentPrincipal,
    voucher_id: Identifier,
    body: TransferIn,
    idempotency_key: IdempotencyKey,
) -> VoucherOut:
    """Pass the whole voucher to the holder's own supplier: a known enterprise that invoiced
    the holder in the last 12 months (422 ``not_a_supplier``, 404 ``unknown_enterprise``)."""
    service = _service(deps)
    found = await call(
        deps,
        service.transfer_voucher,
        principal,
        voucher_id=voucher_id,
        to=body.to,
        key=idempotency_key,
    )
    return voucher_out(found)


@router.post(
    "/vouchers/{voucher_id}/finance",
    response_model=FinancingOut,
    status_code=status.HTTP_201_CREATED,
    tags=[VOUCHERS],
)
async def finance(
    deps: Deps, principal: CurrentPrincipal, voucher_id: Identifier, idempotency_key: IdempotencyKey
) -> FinancingOut:
    """The holder asks the bank to discount the voucher (a quote at today's price); until
    the bank decides, the voucher can be neither split nor transferred."""
    service = _service(deps)
    found = await call(
        deps, service.request_financing, principal, voucher_id=voucher_id, key=idempotency_key
    )
    return financing_out(found)


# -- financings -------------------------------------------------------------------------------


@router.get("/voucher-financings", response_model=list[FinancingOut], tags=[VOUCHERS])
async def financing_queue(
    deps: Deps,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(pattern=r"^(requested|approved|rejected)$")] = "requested",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[FinancingOut]:
    """The bank's queue: financing requests, oldest first."""
    service = _service(deps)
    found = await call(deps, service.financing_queue, principal, status=status, limit=limit)
    return [financing_out(f) for f in found]


@router.post(
    "/voucher-financings/{financing_id}/approve", response_model=FinancingOut, tags=[VOUCHERS]
)
async def approve(
    deps: Deps,
    principal: CurrentPrincipal,
    financing_id: Identifier,
    idempotency_key: IdempotencyKey,
) -> FinancingOut:
    """Discount today at the core grade's price: the ledger pays the proceeds."""
    service = _service(deps)
    found = await call(
        deps, service.approve_financing, principal, financing_id=financing_id, key=idempotency_key
    )
    return financing_out(found)


@router.post(
    "/voucher-financings/{financing_id}/reject", response_model=FinancingOut, tags=[VOUCHERS]
)
async def reject(
    deps: Deps,
    principal: CurrentPrincipal,
    financing_id: Identifier,
    body: RejectIn,
    idempotency_key: IdempotencyKey,
) -> FinancingOut:
    service = _service(deps)
    found = await call(
        deps,
        service.reject_financing,
        principal,
        financing_id=financing_id,
        reason=body.reason,
        key=idempotency_key,
    )
    return financing_out(found)
