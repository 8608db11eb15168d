"""Contracts as PDF on both faces: the owner's own contract on the H5 pages, any contract the
staff member may read in the console. The same service and checks as the API's
``GET /api/v1/applications/{id}/contract.pdf``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from puhui.domain.errors import ConfigurationError
from puhui.services.documents.contract_pdf import contract_pdf
from puhui.services.security.permissions import Principal
from puhui.web.dependencies import ApiDependencies
from puhui.web.pages import session

router = APIRouter(include_in_schema=False)


async def _pdf(request: Request, principal: Principal, application_id: str) -> Response:
    deps: ApiDependencies = request.app.state.deps
    if deps.contracts is None:
        raise ConfigurationError("contract PDFs are not configured")
    # Drawing takes tens of milliseconds of Python: off the event loop.
    pdf = await run_in_threadpool(
        contract_pdf,
        deps.origination,
        deps.contracts,
        actor=principal,
        application_id=application_id,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="contract-{application_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/h5/apply/{application_id}/contract.pdf")
async def owner_contract_pdf(
    request: Request,
    owner: Annotated[Principal, Depends(session.applicant)],
    application_id: str,
) -> Response:
    return await _pdf(request, owner, application_id)


@router.get("/console/applications/{application_id}/contract.pdf")
async def staff_contract_pdf(
    request: Request,
    staff: Annotated[Principal, Depends(session.staff)],
    application_id: str,
) -> Response:
    return await _pdf(request, staff, application_id)
