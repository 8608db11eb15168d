"""The owner's business-health report (智能财务顾问): JSON and the Chinese PDF.

The owner reads the report of an enterprise they applied for; staff read any, read only;
without the owner's active consent to the data it needs the answer is 409 naming what is
missing (docs/advisor.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from puhui.domain.errors import ConfigurationError
from puhui.services.advisor.access import Advisor, health_report, report_pdf
from puhui.services.advisor.report import to_document
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps
from puhui.web.schemas.common import ErrorBody

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1/enterprises", responses=ERRORS, tags=["advisor"])  # type: ignore[arg-type]

AsOf = Annotated[
    str, Query(pattern=r"^\d{4}-\d{2}$", description="the last complete month covered, YYYY-MM")
]


def _advisor(deps: ApiDependencies) -> Advisor:
    if deps.advisor is None:
        raise ConfigurationError("the health report is not wired in this API")
    return deps.advisor


@router.get("/{uscc}/health-report")
async def get_health_report(
    deps: Deps, principal: CurrentPrincipal, uscc: str, as_of: AsOf
) -> dict[str, Any]:
    """Sales and cash-flow trends, peers, seasonality, the 3-month cash-flow forecast with its
    interval, reminders and what would raise the limit (money in integer fen)."""
    # Pulling and computing take tens of milliseconds: off the event loop, even on SQLite.
    report = await run_in_threadpool(
        health_report, _advisor(deps), actor=principal, uscc=uscc, as_of=as_of
    )
    return to_document(report)


@router.get(
    "/{uscc}/health-report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the report as PDF"}},
)
async def get_health_report_pdf(
    deps: Deps, principal: CurrentPrincipal, uscc: str, as_of: AsOf
) -> Response:
    """The same report as a PDF in Chinese (the project's embedded CJK font)."""
    pdf = await run_in_threadpool(
        report_pdf, _advisor(deps), actor=principal, uscc=uscc, as_of=as_of
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="health-{uscc}-{as_of}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
