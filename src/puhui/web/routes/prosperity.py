"""Prosperity indices (景气指数): the platform's built industry and regional indices as JSON,
for charts and partners' dashboards (reporting permission, as the other reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from puhui.domain.errors import ConfigurationError
from puhui.services.reporting.prosperity import ProsperityIndices, prosperity_view
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.prosperity import ProsperityOut, prosperity_out

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1/prosperity", responses=ERRORS, tags=["reports"])  # type: ignore[arg-type]


def _indices(deps: ApiDependencies) -> ProsperityIndices:
    # The router is mounted only when the indices are wired (see ``create_app``).
    if deps.prosperity is None:
        raise ConfigurationError("prosperity indices are not wired in this API")
    return deps.prosperity


@router.get("", response_model=ProsperityOut)
async def prosperity(
    deps: Deps,
    principal: CurrentPrincipal,
    dimension: Annotated[str, Query(pattern="^(overall|industry|region)$")] = "industry",
    cell: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> ProsperityOut:
    """The composite index by month of every cell of ``dimension`` (or of the ``cell``s
    named); a suppressed cell-month (fewer enterprises than ``min_cell``) has ``index``
    null. 404 ``prosperity_not_built`` before the first build, ``prosperity_cell_not_found``
    for an unknown cell."""
    view = await call(
        deps,
        prosperity_view,
        _indices(deps),
        actor=principal,
        dimension=dimension,
        cells=tuple(cell or ()),
    )
    return prosperity_out(view)
