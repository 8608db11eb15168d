"""Prospects in the console: the account manager's queue and the marketing map (营销地图).

The queue (``/console/prospects``) lists a month's pre-approved enterprises in the run's
priority order, filtered by month, status and region, the user's own by default for an account
manager; a prospect's page moves it along the queue, sends the offer to a phone (through the
outbox; opt-outs and lapsed pre-approvals are refused with the reason), links the application
it made, and shows its history. The map (``/console/prospects/map``) shows, by region code,
industry or park, the prospects, their estimated need, the existing customers and the
penetration, as ECharts charts and as tables. Every action is the service's, with the
signed-in user as actor.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from puhui.domain.errors import ConfigurationError, InvalidInput
from puhui.domain.privacy import mask_phone, mask_text
from puhui.domain.prospects import ProspectStatus
from puhui.services.notifications import Channel
from puhui.services.prospects import conversion, offers, queue
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.map import MapDimension, MarketingMap, marketing_map
from puhui.services.prospects.ports import Conversion, OfferState, ProspectQuery
from puhui.services.prospects.queue import parse_month
from puhui.services.security.permissions import Permission, Principal, Role
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.forms import form_text
from puhui.web.pages.industries import industry_name
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 50
CHART_KEYS = 20
"""Keys drawn in a chart (the most prospects first); the table lists them all."""

NAV = (
    NavItem(
        "/console/prospects",
        N_("Prospects"),
        N_("Pre-approved enterprises to visit: contact them, send the offer, record the outcome."),
        Permission.PROSPECT_READ,
        order=20,
    ),
    NavItem(
        "/console/prospects/fast-track",
        N_("Fast-track"),
        N_("Applications from pre-approved prospects, to review first, with their terms."),
        Permission.APPLICATION_REVIEW,
        order=22,
    ),
    NavItem(
        "/console/prospects/map",
        N_("Marketing map"),
        N_("Prospects, estimated need, customers and penetration by region, industry and park."),
        Permission.PROSPECT_READ,
        order=21,
    ),
)
ERRORS = {
    "marketing_opted_out": N_(
        "The enterprise or this phone asked for no marketing: the offer was not sent."
    ),
    "prospect_expired": N_("The pre-approval has lapsed: it can no longer be offered or worked."),
    "pre_consent_violation": N_(
        "This pre-approval used data that needs the enterprise's consent: it cannot be offered."
    ),
    "invalid_prospect_transition": N_(
        "The prospect cannot move to that status from where it is. Reload the page."
    ),
}
STATUS_NAMES = {
    ProspectStatus.NEW: N_("New"),
    ProspectStatus.CONTACTED: N_("Contacted"),
    ProspectStatus.INTERESTED: N_("Interested"),
    ProspectStatus.APPLIED: N_("Applied"),
    ProspectStatus.NOT_INTERESTED: N_("Not interested"),
    ProspectStatus.EXPIRED: N_("Expired"),
}
DIMENSION_NAMES = {
    MapDimension.REGION: N_("Region code"),
    MapDimension.INDUSTRY: N_("Industry"),
    MapDimension.PARK: N_("Industrial park"),
}
OFFER_NAMES = {
    OfferState.QUEUED: N_("Queued"),
    OfferState.SENT: N_("Sent"),
    OfferState.FAILED: N_("Not delivered"),
    OfferState.CANCELLED: N_("Cancelled"),
}
CONVERSION_NAMES = {Conversion.APPROVED: N_("Approved"), Conversion.DECLINED: N_("Declined")}
ACTION_NAMES = {
    "loaded": N_("Loaded by the run"),
    "relisted": N_("Listed again by a run"),
    "dropped_by_run": N_("Dropped by a later run"),
    "assigned": N_("Assigned"),
    "status_changed": N_("Status changed"),
    "noted": N_("Note added"),
    "offer_queued": N_("Offer queued"),
    "offer_sent": N_("Offer sent"),
    "offer_failed": N_("Offer not delivered"),
    "offer_cancelled": N_("Offer cancelled"),
    "offer_requeued": N_("Offer queued again"),
    "applied": N_("Application linked"),
    "converted": N_("Conversion recorded"),
}
CHANNEL_NAMES = {Channel.SMS: N_("Text message"), Channel.WECHAT: N_("WeChat")}
NOTICES = {
    "moved": N_("The prospect's status is changed."),
    "offered": N_("The offer is queued for sending."),
    "linked": N_("The application is linked: it is fast-tracked."),
    "noted": N_("The note is added."),
}


def _access(request: Request) -> tuple[ApiDependencies, ProspectAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.prospects is None:
        raise ConfigurationError("prospects are not wired in this site")
    return deps, deps.prospects


def _status(value: str | None) -> ProspectStatus | None:
    try:
        return ProspectStatus(value) if value else None
    except ValueError:
        return None


def _month_text(value: str | None) -> str | None:
    """A month filter from the form: ``YYYY-MM`` kept, anything else dropped."""
    if not value:
        return None
    try:
        parse_month(value)
    except InvalidInput:
        return None
    return value


@router.get("/console/prospects")
async def prospect_list(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    request: Request,
    principal: StaffUser,
    month: str | None = None,
    status: str | None = None,
    region: str | None = None,
    mine: str | None = None,
    offset: int = 0,
) -> HTMLResponse:
    deps, access = _access(request)
    chosen_month = _month_text(month)
    chosen_status = _status(status)
    chosen_region = region if region and region.isdigit() and len(region) <= 12 else None
    # An account manager sees their own list unless they ask for everyone's.
    only_mine = mine == "1" if mine is not None else principal.role is Role.ACCOUNT_MANAGER
    query = ProspectQuery(
        month=parse_month(chosen_month),
        status=chosen_status,
        region_code=chosen_region,
        assigned_to=principal.user_id if only_mine else None,
        limit=PAGE,
        offset=max(0, min(offset, 1_000_000)),
    )
    found = await call(deps, queue.list_prospects, access, actor=principal, query=query)
    return console_page(
        request,
        principal,
        "prospects/queue.html",
        {
            "prospects": found,
            "industry_name": partial(industry_name, request),
            "month": chosen_month or "",
            "status": chosen_status,
            "region": chosen_region or "",
            "mine": only_mine,
            "statuses": STATUS_NAMES,
            "offset": query.offset,
            "next_offset": query.offset + PAGE if len(found) == PAGE else None,
            "page": PAGE,
        },
    )


@router.get("/console/prospects/map")
async def prospect_map(
    request: Request,
    principal: StaffUser,
    dimension: str | None = None,
    month: str | None = None,
) -> HTMLResponse:
    deps, access = _access(request)
    try:
        chosen = MapDimension(dimension or MapDimension.REGION.value)
    except ValueError:
        chosen = MapDimension.REGION
    found = await call(
        deps,
        marketing_map,
        access,
        actor=principal,
        dimension=chosen,
        month=parse_month(_month_text(month)),
    )
    return console_page(
        request,
        principal,
        "prospects/map.html",
        {
            "found": found,
            "dimension": chosen,
            "dimensions": DIMENSION_NAMES,
            "month": "" if found.month is None else f"{found.month:%Y-%m}",
            "charts": MapCharts(request).of(found),
            "totals": _totals(found),
            "labels": {r.key: _key_label(request, chosen, r.key) for r in found.rows},
        },
    )


def _key_label(request: Request, dimension: MapDimension, key: str) -> str:
    """A row's key as the page shows it: an industry group by its name, others as they are."""
    return industry_name(request, key) if dimension is MapDimension.INDUSTRY else key


def _totals(found: MarketingMap) -> dict[str, Any]:
    prospects = sum(r.prospects for r in found.rows)
    customers = sum(r.customers for r in found.rows)
    total = prospects + customers
    return {
        "prospects": prospects,
        "customers": customers,
        "need_fen": sum(r.need_fen for r in found.rows),
        "penetration": None if total == 0 else Decimal(customers) / Decimal(total),
    }


def _wan(fen: int) -> str:
    """Fen as 10,000 yuan with two decimals (the charts' unit), exact."""
    return str((Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.01"), ROUND_HALF_UP))


class MapCharts:
    """The ECharts options of a map, labelled in the request's language."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def t(self, message: str) -> str:
        return gettext(self._request, message)

    def of(self, found: MarketingMap) -> dict[str, Any]:
        rows = found.rows[:CHART_KEYS]
        keys = [_key_label(self._request, found.dimension, r.key) for r in rows]
        base: dict[str, Any] = {
            "animation": False,
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 48, "right": 48, "top": 72, "bottom": 40, "containLabel": True},
            "xAxis": {"type": "category", "data": keys, "axisLabel": {"rotate": 30}},
        }
        counts = {
            **base,
            "legend": {
                "top": 0,
                "data": [
                    self.t(N_("Prospects")),
                    self.t(N_("Customers")),
                    self.t(N_("Penetration")),
                ],
            },
            "yAxis": [
                {"type": "value", "name": self.t(N_("Enterprises"))},
                {"type": "value", "name": "%", "max": 100, "axisLabel": {"formatter": "{value}%"}},
            ],
            "series": [
                {
                    "name": self.t(N_("Prospects")),
                    "type": "bar",
                    "data": [r.prospects for r in rows],
                },
                {
                    "name": self.t(N_("Customers")),
                    "type": "bar",
                    "data": [r.customers for r in rows],
                },
                {
                    "name": self.t(N_("Penetration")),
                    "type": "line",
                    "yAxisIndex": 1,
                    "data": [
                        None
                        if r.penetration is None
                        else str((r.penetration * 100).quantize(Decimal("0.1")))
                        for r in rows
                    ],
                },
            ],
        }
        need = {
            **base,
            "legend": {"top": 0, "data": [self.t(N_("Estimated need"))]},
            "yAxis": {"type": "value", "name": self.t(N_("10,000 yuan"))},
            "series": [
                {
                    "name": self.t(N_("Estimated need")),
                    "type": "bar",
                    "data": [_wan(r.need_fen) for r in rows],
                }
            ],
        }
        return {"chart-map-counts": counts, "chart-map-need": need}


@router.get("/console/prospects/fast-track")
async def prospect_fast_track(request: Request, principal: StaffUser) -> HTMLResponse:
    deps, access = _access(request)
    found = await call(
        deps, conversion.fast_track_queue, access, actor=principal, limit=conversion.MAX_PAGE
    )
    return console_page(request, principal, "prospects/fast_track.html", {"items": found})


@router.get("/console/prospects/{prospect_id}")
async def prospect_detail(request: Request, principal: StaffUser, prospect_id: str) -> HTMLResponse:
    deps, access = _access(request)
    found = await call(
        deps, queue.get_prospect, access, actor=principal, prospect_id=prospect_id[:64]
    )
    record = found.record
    live = queue.is_live(record, access.clock.today())
    return console_page(
        request,
        principal,
        "prospects/prospect.html",
        {
            "record": record,
            "row": record.row,
            "industry_name": partial(industry_name, request),
            "history": found.history,
            "notes": mask_text(record.notes),
            "contact": None if record.contact_phone is None else mask_phone(record.contact_phone),
            "statuses": STATUS_NAMES,
            "moves": sorted(queue.QUEUE_MOVES[record.status]) if live else [],
            "live": live,
            "may_work": principal.can(Permission.PROSPECT_WORK),
            "may_offer": live and record.status not in offers.NOT_OFFERED,
            "channels": CHANNEL_NAMES,
            "offer_names": OFFER_NAMES,
            "conversion_names": CONVERSION_NAMES,
            "action_names": ACTION_NAMES,
            "notice": NOTICES.get(request.query_params.get("done") or ""),
        },
    )


def _back(prospect_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/prospects/{prospect_id}?done={done}", status_code=303)


@router.post("/console/prospects/{prospect_id}/status")
async def prospect_move(
    request: Request, principal: StaffUser, prospect_id: str
) -> RedirectResponse:
    form = await session.verified_form(request)
    deps, access = _access(request)
    status = _status(str(form.get("status", "")))
    if status is None:
        raise InvalidInput("choose a status", details={"field": "status"})
    found = await call(
        deps,
        queue.move_prospect,
        access,
        actor=principal,
        prospect_id=prospect_id[:64],
        status=status,
        note=form_text(form, "note", 2000),
    )
    return _back(found.prospect_id, "moved")


@router.post("/console/prospects/{prospect_id}/offer")
async def prospect_offer(
    request: Request, principal: StaffUser, prospect_id: str
) -> RedirectResponse:
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        channel = Channel(str(form.get("channel", Channel.SMS.value)))
    except ValueError:
        raise InvalidInput("choose a channel", details={"field": "channel"}) from None
    await call(
        deps,
        offers.send_offer,
        access,
        actor=principal,
        prospect_id=prospect_id[:64],
        phone=form_text(form, "phone", 20),
        channel=channel,
    )
    return _back(prospect_id[:64], "offered")


@router.post("/console/prospects/{prospect_id}/application")
async def prospect_application(
    request: Request, principal: StaffUser, prospect_id: str
) -> RedirectResponse:
    form = await session.verified_form(request)
    deps, access = _access(request)
    found = await call(
        deps,
        conversion.link_application,
        access,
        actor=principal,
        prospect_id=prospect_id[:64],
        application_id=form_text(form, "application_id", 64),
    )
    return _back(found.prospect_id, "linked")
