"""Bodies of prospects (主动授信): the queue, a prospect's history, offers, the map."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from puhui.domain.privacy import mask_phone, mask_text
from puhui.domain.prospects import ProspectStatus
from puhui.services.notifications import Channel, OutboxMessage
from puhui.services.prospects.conversion import FastTrackItem
from puhui.services.prospects.map import MarketingMap
from puhui.services.prospects.ports import ProspectRecord
from puhui.services.prospects.queue import ProspectView
from puhui.web.schemas.common import Fen, Strict


class ProspectOut(BaseModel):
    prospect_id: str
    month: str = Field(description="the run's as-of month, YYYY-MM")
    uscc: str
    status: ProspectStatus
    priority: int
    grade: str
    need_probability: float
    need_amount_fen: int
    need_month: str
    need_duration_months: int
    limit_fen: int
    annual_rate: str = Field(description="a decimal fraction, e.g. 0.0485")
    valid_until: date
    region_code: str
    industry_group: str
    park: str | None
    is_customer: bool
    reasons: list[str]
    assigned_to: str | None
    notes: str = Field(description="phones and ID numbers in them masked")
    contact_phone: str | None = Field(description="masked: 138****5678")
    offer_status: str | None
    offered_at: datetime | None
    application_id: str | None
    applied_at: datetime | None
    conversion: str | None
    conversion_limit_fen: int | None
    converted_at: datetime | None


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: str | None


class ProspectDetail(ProspectOut):
    history: list[EventOut]


class ProspectPage(BaseModel):
    items: list[ProspectOut]
    next_offset: int | None = Field(description="pass as `offset` for the next page")


class StatusChange(Strict):
    status: ProspectStatus
    note: str = Field(default="", max_length=2000)


class NoteIn(Strict):
    note: str = Field(min_length=1, max_length=2000)


class OfferIn(Strict):
    phone: str = Field(min_length=11, max_length=20, description="the mobile number to send to")
    channel: Channel = Channel.SMS


class OfferOut(BaseModel):
    message_id: str
    channel: str
    recipient: str = Field(description="masked")
    status: str
    created_at: datetime


class ApplicationLink(Strict):
    application_id: str = Field(min_length=1, max_length=64)


class OptOutIn(Strict):
    uscc: str | None = Field(default=None, min_length=18, max_length=18)
    phone: str | None = Field(default=None, min_length=11, max_length=20)
    reason: str = Field(default="", max_length=200)


class OptOutOut(BaseModel):
    opt_out_id: str


class TerritoryIn(Strict):
    user_ids: list[str] = Field(max_length=100)


class TerritoryOut(BaseModel):
    region_code: str
    user_ids: list[str]


class ConversionsOut(BaseModel):
    recorded: int


class FastTrackOut(BaseModel):
    prospect: ProspectOut
    application_status: str


class MapRowOut(BaseModel):
    key: str
    prospects: int
    need_fen: Fen
    customers: int
    penetration: str | None = Field(
        description="customers / (customers + prospects), a decimal fraction; null when both "
        "are zero"
    )


class MapOut(BaseModel):
    month: str | None
    dimension: str
    rows: list[MapRowOut]


def prospect_out(record: ProspectRecord) -> ProspectOut:
    row = record.row
    return ProspectOut(
        prospect_id=record.prospect_id,
        month=f"{row.month:%Y-%m}",
        uscc=row.uscc,
        status=record.status,
        priority=row.priority,
        grade=row.grade,
        need_probability=row.need_probability,
        need_amount_fen=row.need_amount_fen,
        need_month=f"{row.need_month:%Y-%m}",
        need_duration_months=row.need_duration_months,
        limit_fen=row.limit_fen,
        annual_rate=str(row.annual_rate),
        valid_until=row.valid_until,
        region_code=row.region_code,
        industry_group=row.industry_group,
        park=row.park,
        is_customer=row.is_customer,
        reasons=list(row.reasons),
        assigned_to=record.assigned_to,
        notes=mask_text(record.notes),
        contact_phone=None if record.contact_phone is None else mask_phone(record.contact_phone),
        offer_status=None if record.offer_status is None else record.offer_status.value,
        offered_at=record.offered_at,
        application_id=record.application_id,
        applied_at=record.applied_at,
        conversion=None if record.conversion is None else record.conversion.value,
        conversion_limit_fen=record.conversion_limit_fen,
        converted_at=record.converted_at,
    )


def detail_out(view: ProspectView) -> ProspectDetail:
    return ProspectDetail(
        **prospect_out(view.record).model_dump(),
        history=[
            EventOut(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=None if e.from_status is None else e.from_status.value,
                to_status=None if e.to_status is None else e.to_status.value,
                detail=e.detail,
            )
            for e in view.history
        ],
    )


def offer_out(message: OutboxMessage) -> OfferOut:
    return OfferOut(
        message_id=message.message_id,
        channel=message.channel.value,
        recipient=mask_phone(message.recipient),
        status=message.status.value,
        created_at=message.created_at,
    )


def fast_track_out(item: FastTrackItem) -> FastTrackOut:
    return FastTrackOut(
        prospect=prospect_out(item.record), application_status=item.application_status
    )


def map_out(found: MarketingMap) -> MapOut:
    return MapOut(
        month=None if found.month is None else f"{found.month:%Y-%m}",
        dimension=found.dimension.value,
        rows=[
            MapRowOut(
                key=r.key,
                prospects=r.prospects,
                need_fen=r.need_fen,
                customers=r.customers,
                penetration=None if r.penetration is None else str(r.penetration),
            )
            for r in found.rows
        ],
    )
