"""Prospects (主动授信): the queue, a prospect's history and moves, offers, fast-track, the
marketing map, territories and opt-outs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query

from puhui.domain.errors import ConfigurationError, InvalidInput
from puhui.domain.prospects import ProspectStatus
from puhui.services.prospects import conversion, offers, queue
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.map import MapDimension, marketing_map
from puhui.services.prospects.ports import ProspectQuery
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, call
from puhui.web.schemas.common import ErrorBody
from puhui.web.schemas.prospects import (
    ApplicationLink,
    ConversionsOut,
    FastTrackOut,
    MapOut,
    NoteIn,
    OfferIn,
    OfferOut,
    OptOutIn,
    OptOutOut,
    ProspectDetail,
    ProspectOut,
    ProspectPage,
    StatusChange,
    TerritoryIn,
    TerritoryOut,
    detail_out,
    fast_track_out,
    map_out,
    offer_out,
    prospect_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
TAG = "prospects"
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]
Month = Annotated[
    str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$", description="the run's month, YYYY-MM")
]
RegionCode = Annotated[str, Path(pattern=r"^[0-9]{2,12}$")]
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def _access(deps: ApiDependencies) -> ProspectAccess:
    if deps.prospects is None:
        raise ConfigurationError("prospects are not wired in this API")
    return deps.prospects


def parse_month(value: str | None) -> dt.date | None:
    """``YYYY-MM`` as the first day of that month (None stays None)."""
    if value is None:
        return None
    match = _MONTH.fullmatch(value)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput("a month is written YYYY-MM", details={"field": "month"})
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


@router.get("/prospects", response_model=ProspectPage, tags=[TAG])
async def list_prospects(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    deps: Deps,
    principal: CurrentPrincipal,
    month: Month = None,
    status: ProspectStatus | None = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    mine: Annotated[bool, Query(description="only prospects assigned to me")] = False,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=queue.MAX_PAGE)] = 50,
) -> ProspectPage:
    """Pre-approved prospects, latest month first, in the run's priority order. ``region``
    takes a code or its prefix (a city's 4 digits cover its districts)."""
    query = ProspectQuery(
        month=parse_month(month),
        status=status,
        region_code=region,
        assigned_to=principal.user_id if mine else None,
        limit=limit,
        offset=offset,
    )
    found = await call(deps, queue.list_prospects, _access(deps), actor=principal, query=query)
    return ProspectPage(
        items=[prospect_out(r) for r in found],
        next_offset=offset + limit if len(found) == limit else None,
    )


@router.get("/prospects/map", response_model=MapOut, tags=[TAG])
async def prospect_map(
    deps: Deps,
    principal: CurrentPrincipal,
    dimension: MapDimension = MapDimension.REGION,
    month: Month = None,
) -> MapOut:
    """The marketing map (营销地图) of a month (default: the latest loaded) by region code,
    industry group or park: prospects, their estimated need, existing customers and
    penetration = customers / (customers + prospects)."""
    found = await call(
        deps,
        marketing_map,
        _access(deps),
        actor=principal,
        dimension=dimension,
        month=parse_month(month),
    )
    return map_out(found)


@router.get("/prospects/fast-track", response_model=list[FastTrackOut], tags=[TAG])
async def fast_track(
    deps: Deps,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=conversion.MAX_PAGE)] = 50,
) -> list[FastTrackOut]:
    """Open applications from prospects, in the run's priority order, with the pre-approved
    terms: the queue reviewers take before walk-in applications."""
    found = await call(
        deps, conversion.fast_track_queue, _access(deps), actor=principal, limit=limit
    )
    return [fast_track_out(i) for i in found]


@router.post("/prospects/conversions", response_model=ConversionsOut, tags=[TAG])
async def record_conversions(deps: Deps, principal: CurrentPrincipal) -> ConversionsOut:
    """Record how decided applications from prospects ended (approved with a limit, or
    declined); idempotent."""
    recorded = await call(deps, conversion.record_conversions, _access(deps), actor=principal)
    return ConversionsOut(recorded=recorded)


@router.post("/prospects/opt-outs", response_model=OptOutOut, status_code=201, tags=[TAG])
async def opt_out(deps: Deps, principal: CurrentPrincipal, body: OptOutIn) -> OptOutOut:
    """An enterprise or a phone asked for no marketing: later offers to it are refused."""
    opt_out_id = await call(
        deps,
        queue.record_opt_out,
        _access(deps),
        actor=principal,
        uscc=body.uscc,
        phone=body.phone,
        reason=body.reason,
    )
    return OptOutOut(opt_out_id=opt_out_id)


@router.put("/prospect-territories/{region_code}", response_model=TerritoryOut, tags=[TAG])
async def set_territory(
    deps: Deps, principal: CurrentPrincipal, region_code: RegionCode, body: TerritoryIn
) -> TerritoryOut:
    """The account managers who cover a region code (replacing those before); new prospects
    of the region are dealt to them in turn."""
    kept = await call(
        deps,
        queue.set_territory,
        _access(deps),
        actor=principal,
        region_code=region_code,
        user_ids=body.user_ids,
    )
    return TerritoryOut(region_code=region_code, user_ids=kept)


@router.get("/prospects/{prospect_id}", response_model=ProspectDetail, tags=[TAG])
async def get_prospect(
    deps: Deps, principal: CurrentPrincipal, prospect_id: Identifier
) -> ProspectDetail:
    """A prospect with its history (loaded, assigned, moves, offers, application)."""
    found = await call(
        deps, queue.get_prospect, _access(deps), actor=principal, prospect_id=prospect_id
    )
    return detail_out(found)


@router.post("/prospects/{prospect_id}/status", response_model=ProspectOut, tags=[TAG])
async def change_status(
    deps: Deps, principal: CurrentPrincipal, prospect_id: Identifier, body: StatusChange
) -> ProspectOut:
    """Move a prospect along the queue (new → contacted → interested, or not_interested);
    ``applied`` comes from linking an application, ``expired`` from the runs."""
    found = await call(
        deps,
        queue.move_prospect,
        _access(deps),
        actor=principal,
        prospect_id=prospect_id,
        status=body.status,
        note=body.note,
    )
    return prospect_out(found)


@router.post("/prospects/{prospect_id}/notes", response_model=ProspectOut, tags=[TAG])
async def add_note(
    deps: Deps, principal: CurrentPrincipal, prospect_id: Identifier, body: NoteIn
) -> ProspectOut:
    found = await call(
        deps,
        queue.add_note,
        _access(deps),
        actor=principal,
        prospect_id=prospect_id,
        note=body.note,
    )
    return prospect_out(found)


@router.post("/prospects/{prospect_id}/offer", response_model=OfferOut, status_code=202, tags=[TAG])
async def send_offer(
    deps: Deps, principal: CurrentPrincipal, prospect_id: Identifier, body: OfferIn
) -> OfferOut:
    """Queue the pre-approved offer to a phone (the outbox delivers it). Refused with 409
    ``marketing_opted_out``, ``prospect_expired`` or ``pre_consent_violation``."""
    message = await call(
        deps,
        offers.send_offer,
        _access(deps),
        actor=principal,
        prospect_id=prospect_id,
        phone=body.phone,
        channel=body.channel,
    )
    return offer_out(message)


@router.post("/prospects/{prospect_id}/application", response_model=ProspectOut, tags=[TAG])
async def link_application(
    deps: Deps, principal: CurrentPrincipal, prospect_id: Identifier, body: ApplicationLink
) -> ProspectOut:
    """The prospect applied: link its application (same enterprise). The prospect becomes
    ``applied``, the application joins the fast-track queue, and its outcome is recorded as
    the prospect's conversion."""
    found = await call(
        deps,
        conversion.link_application,
        _access(deps),
        actor=principal,
        prospect_id=prospect_id,
        application_id=body.application_id,
    )
    return prospect_out(found)
