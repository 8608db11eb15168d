"""Guarantee agencies (银担合作): agencies and batch agreements, covered loans, fees, claims at
the trigger, shared recoveries, the exposure report.

Creating an agreement and sharing a recovery need an ``Idempotency-Key`` (same key and body:
the first result; another body: 409 ``idempotency_conflict``). Covers, fees, claims and
payments are idempotent by their loan (and period or date). Every refusal is a named 4xx.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.domain.errors import ConfigurationError
from puhui.domain.guarantees.agreements import FeeMode
from puhui.domain.money import parse_yuan
from puhui.services.guarantees.access import GuaranteeAccess
from puhui.services.guarantees.use_cases import AgreementTerms
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.guarantees import (
    AgencyIn,
    AgencyOut,
    AgreementIn,
    AgreementOut,
    ClaimIn,
    ClaimOut,
    CoverIn,
    CoverOut,
    ExposureOut,
    FeeIn,
    FeeOut,
    OnIn,
    RecoveryIn,
    RecoveryOut,
    RemittanceIn,
    RemittanceOut,
    RunIn,
    RunOut,
    agency_out,
    agreement_out,
    claim_out,
    cover_out,
    exposure_out,
    fee_out,
    recovery_out,
    remittance_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
TAG = "guarantees"
router = APIRouter(prefix="/api/v1/guarantees", responses=ERRORS, tags=[TAG])  # type: ignore[arg-type]

LoanPath = Annotated[str, Path(min_length=1, max_length=64)]


def _access(deps: ApiDependencies) -> GuaranteeAccess:
    if deps.guarantees is None:
        raise ConfigurationError("guarantees are not wired in this API")
    return deps.guarantees


def _today(access: GuaranteeAccess, on: dt.date | None) -> dt.date:
    return on or access.service.clock.today()


@router.post("/agencies", response_model=AgencyOut, status_code=status.HTTP_201_CREATED)
async def create_agency(deps: Deps, principal: CurrentPrincipal, body: AgencyIn) -> AgencyOut:
    """Record a guarantee agency (risk officers); the same USCC returns the agency recorded."""
    access = _access(deps)
    return agency_out(
        await call(deps, access.create_agency, principal, name=body.name, uscc=body.uscc)
    )


@router.get("/agencies", response_model=list[AgencyOut])
async def list_agencies(deps: Deps, principal: CurrentPrincipal) -> list[AgencyOut]:
    access = _access(deps)
    return [agency_out(a) for a in await call(deps, access.agencies, principal)]


@router.post(
    "/agencies/{agency_id}/remittances",
    response_model=RemittanceOut,
    status_code=status.HTTP_201_CREATED,
)
async def remit(
    deps: Deps,
    principal: CurrentPrincipal,
    agency_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: RemittanceIn,
    idempotency_key: IdempotencyKey,
) -> RemittanceOut:
    """Pay on to the agency the fees collected for it and its recovery shares (operations)."""
    access = _access(deps)
    done = await call(
        deps,
        access.remit,
        principal,
        agency_id=agency_id,
        on=_today(access, body.on),
        key=idempotency_key,
    )
    return remittance_out(done)


@router.post("/agreements", response_model=AgreementOut, status_code=status.HTTP_201_CREATED)
async def create_agreement(
    deps: Deps, principal: CurrentPrincipal, body: AgreementIn, idempotency_key: IdempotencyKey
) -> AgreementOut:
    """Record a batch guarantee agreement (risk officers). Terms out of bounds: 422
    ``invalid_agreement``; an unknown agency: 404 ``agency_not_found``."""
    access = _access(deps)
    terms = AgreementTerms(
        agency_id=body.agency_id,
        coverage_share=Decimal(body.coverage_share),
        fee_rate=Decimal(body.fee_rate),
        fee_mode=FeeMode(body.fee_mode),
        borrower_cap_fen=parse_yuan(body.borrower_cap),
        portfolio_cap_fen=parse_yuan(body.portfolio_cap),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        claim_trigger_days=body.claim_trigger_days,
        counter_guarantee_waived=body.counter_guarantee_waived,
        product_id=body.product_id,
        channel=body.channel,
    )
    made = await call(deps, access.create_agreement, principal, terms, key=idempotency_key)
    return agreement_out(made)


@router.get("/agreements", response_model=list[AgreementOut])
async def list_agreements(
    deps: Deps,
    principal: CurrentPrincipal,
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AgreementOut]:
    access = _access(deps)
    return [agreement_out(a) for a in await call(deps, access.agreements, principal, agency_id)]


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
async def get_agreement(
    deps: Deps,
    principal: CurrentPrincipal,
    agreement_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> AgreementOut:
    access = _access(deps)
    return agreement_out(await call(deps, access.agreement, principal, agreement_id))


@router.post("/covers", response_model=CoverOut, status_code=status.HTTP_201_CREATED)
async def cover_loan(deps: Deps, principal: CurrentPrincipal, body: CoverIn) -> CoverOut:
    """Cover a drawn loan under an agreement (operations); an at-draw fee is collected. Above
    a cap: 409 ``borrower_cap_exceeded`` / ``portfolio_cap_exceeded``, nothing changed."""
    access = _access(deps)
    done = await call(
        deps,
        access.cover_loan,
        principal,
        loan_id=body.loan_id,
        agreement_id=body.agreement_id,
        on=_today(access, body.on),
    )
    return cover_out(done.cover, done.fee)


@router.post("/covers/{loan_id}/fees", response_model=FeeOut, status_code=status.HTTP_201_CREATED)
async def collect_fee(
    deps: Deps, principal: CurrentPrincipal, loan_id: LoanPath, body: FeeIn
) -> FeeOut:
    """Collect one period's fee of a periodic agreement (409 ``fee_mode_mismatch`` else)."""
    access = _access(deps)
    fee = await call(
        deps,
        access.collect_periodic_fee,
        principal,
        loan_id=loan_id,
        period_from=body.period_from,
        period_to=body.period_to,
    )
    return fee_out(fee)


@router.get("/claims", response_model=list[ClaimOut])
async def list_claims(
    deps: Deps,
    principal: CurrentPrincipal,
    claim_status: Annotated[
        str | None, Query(alias="status", pattern=r"^(raised|paid|withdrawn|returned)$")
    ] = None,
) -> list[ClaimOut]:
    access = _access(deps)
    return [claim_out(c) for c in await call(deps, access.claims, principal, claim_status)]


@router.post("/claims", response_model=ClaimOut, status_code=status.HTTP_201_CREATED)
async def raise_claim(deps: Deps, principal: CurrentPrincipal, body: ClaimIn) -> ClaimOut:
    """Raise the claim on a covered loan at its trigger; before it: 409
    ``claim_not_triggered``, nothing changed."""
    access = _access(deps)
    claim = await call(
        deps, access.raise_claim, principal, loan_id=body.loan_id, on=_today(access, body.on)
    )
    return claim_out(claim)


@router.post("/claims/run", response_model=RunOut)
async def run_claims(deps: Deps, principal: CurrentPrincipal, body: RunIn) -> RunOut:
    """The daily job: claims raised at the trigger, compensation released at write-off."""
    access = _access(deps)
    run = await call(deps, access.run_claims, principal, as_of=body.as_of)
    return RunOut(
        as_of=run.as_of,
        raised=[claim_out(c) for c in run.raised],
        released=[claim_out(c) for c in run.released],
        withdrawn=[claim_out(c) for c in run.withdrawn],
        returned=[claim_out(c) for c in run.returned],
    )


@router.post("/fees/run", response_model=list[FeeOut])
async def run_fees(deps: Deps, principal: CurrentPrincipal, body: RunIn) -> list[FeeOut]:
    """The fee schedule of periodic agreements: every monthly period started by ``as_of`` and
    not yet collected (a late run catches up; a repeat collects nothing)."""
    access = _access(deps)
    fees = await call(deps, access.collect_due_fees, principal, as_of=body.as_of)
    return [fee_out(f) for f in fees]


@router.post("/claims/{loan_id}/pay", response_model=ClaimOut)
async def pay_claim(
    deps: Deps, principal: CurrentPrincipal, loan_id: LoanPath, body: OnIn
) -> ClaimOut:
    """Record the agency's payment of the claim (posted Dr settlement / Cr claim receivable)."""
    access = _access(deps)
    claim = await call(
        deps, access.pay_claim, principal, loan_id=loan_id, on=_today(access, body.on)
    )
    return claim_out(claim)


@router.post(
    "/claims/{loan_id}/recoveries",
    response_model=RecoveryOut,
    status_code=status.HTTP_201_CREATED,
)
async def share_recovery(
    deps: Deps,
    principal: CurrentPrincipal,
    loan_id: LoanPath,
    body: RecoveryIn,
    idempotency_key: IdempotencyKey,
) -> RecoveryOut:
    """Share a recovery on a paid claim: the agency's coverage share, the bank the rest
    (409 ``claim_not_paid`` before the claim is paid)."""
    access = _access(deps)
    shared = await call(
        deps,
        access.share_recovery,
        principal,
        loan_id=loan_id,
        amount_fen=parse_yuan(body.amount),
        on=_today(access, body.on),
        key=idempotency_key,
    )
    return recovery_out(shared)


@router.get("/exposure", response_model=list[ExposureOut])
async def exposure(deps: Deps, principal: CurrentPrincipal) -> list[ExposureOut]:
    """Exposure and claims by agency and agreement."""
    access = _access(deps)
    return [exposure_out(row) for row in await call(deps, access.exposure, principal)]
