"""Bodies of collections, write-offs and concentration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from puhui.domain.monitoring.collection import ContactChannel, ContactResult
from puhui.services.collections.cases import CaseDetail
from puhui.services.collections.ports import (
    CollectionCase,
    StoredContact,
    StoredPromise,
    StoredProposal,
)
from puhui.services.concentration_ports import StoredEvaluation
from puhui.web.schemas.common import Count, Fen, IsoDate, Strict

Note = Annotated[str, Field(max_length=1000)]


class Assignment(Strict):
    assignee: str = Field(min_length=1, max_length=128)


class ContactCreate(Strict):
    channel: ContactChannel
    result: ContactResult
    contacted_at: AwareDatetime
    note: Note = ""


class PromiseCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=10_000_000_000)
    promised_on: IsoDate
    grace_days: Count = Field(default=0, ge=0, le=30)


class WriteOffCreate(Strict):
    receipt_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=400)


class WriteOffDecision(Strict):
    note: str | None = Field(default=None, max_length=400)


class CaseOut(BaseModel):
    case_id: str
    receipt_id: str
    customer_id: str
    line_id: str | None
    status: str
    bucket: str | None
    days_past_due: int
    overdue_fen: int
    outstanding_fen: int
    assignee: str | None
    opened_on: date
    refreshed_on: date


class QueueOut(BaseModel):
    cases: list[CaseOut]
    next_cursor: str | None


class PromiseOut(BaseModel):
    promise_id: str
    case_id: str
    receipt_id: str
    amount_fen: int
    made_on: date
    promised_on: date
    grace_days: int
    status: str
    paid_fen: int
    evaluated_on: date | None
    created_by: str


class ContactOut(BaseModel):
    contact_id: str
    case_id: str
    contacted_at: datetime
    channel: str
    result: str
    made_by: str
    note: str


class WriteOffOut(BaseModel):
    proposal_id: str
    receipt_id: str
    case_id: str | None
    principal_fen: int
    interest_fen: int
    days_past_due: int
    reason: str
    proposed_by: str
    proposed_on: date
    status: str
    decided_by: str | None
    decided_on: date | None
    decision_note: str | None
    entry_key: str | None
    written_off_fen: int | None


class CaseDetailOut(BaseModel):
    case: CaseOut
    promises: list[PromiseOut]
    contacts: list[ContactOut]
    write_off: WriteOffOut | None


class ClusterOut(BaseModel):
    dimension: str
    cluster: str
    exposure_fen: int
    alerted_fen: int
    customers: int
    share: str


class BreachOut(BaseModel):
    dimension: str
    cluster: str
    code: str
    value: str
    threshold: str
    exposure_fen: int
    base_fen: int
    parameter: str
    multiplier: str


class ConcentrationOut(BaseModel):
    evaluation_id: str
    document: str
    as_of: date
    evaluated_at: datetime
    book_fen: int
    customers: int
    clusters: list[ClusterOut]
    breaches: list[BreachOut]
    proposed_strategy: str | None


def case_out(case: CollectionCase) -> CaseOut:
    return CaseOut(
        case_id=case.case_id,
        receipt_id=case.receipt_id,
        customer_id=case.customer_id,
        line_id=case.line_id,
        status=case.status.value,
        bucket=None if case.bucket is None else case.bucket.value,
        days_past_due=case.days_past_due,
        overdue_fen=case.overdue_fen,
        outstanding_fen=case.outstanding_fen,
        assignee=case.assignee,
        opened_on=case.opened_on,
        refreshed_on=case.refreshed_on,
    )


def promise_out(p: StoredPromise) -> PromiseOut:
    return PromiseOut(
        promise_id=p.promise_id,
        case_id=p.case_id,
        receipt_id=p.receipt_id,
        amount_fen=p.amount_fen,
        made_on=p.made_on,
        promised_on=p.promised_on,
        grace_days=p.grace_days,
        status=p.status.value,
        paid_fen=p.paid_fen,
        evaluated_on=p.evaluated_on,
        created_by=p.created_by,
    )


def contact_out(c: StoredContact) -> ContactOut:
    return ContactOut(
        contact_id=c.contact_id,
        case_id=c.case_id,
        contacted_at=c.contacted_at,
        channel=c.channel.value,
        result=c.result.value,
        made_by=c.made_by,
        note=c.note,
    )


def write_off_out(p: StoredProposal) -> WriteOffOut:
    return WriteOffOut(
        proposal_id=p.proposal_id,
        receipt_id=p.receipt_id,
        case_id=p.case_id,
        principal_fen=p.principal_fen,
        interest_fen=p.interest_fen,
        days_past_due=p.days_past_due,
        reason=p.reason,
        proposed_by=p.proposed_by,
        proposed_on=p.proposed_on,
        status=p.status.value,
        decided_by=p.decided_by,
        decided_on=p.decided_on,
        decision_note=p.decision_note,
        entry_key=p.entry_key,
        written_off_fen=p.written_off_fen,
    )


def case_detail_out(detail: CaseDetail) -> CaseDetailOut:
    return CaseDetailOut(
        case=case_out(detail.case),
        promises=[promise_out(p) for p in detail.promises],
        contacts=[contact_out(c) for c in detail.contacts],
        write_off=None if detail.proposal is None else write_off_out(detail.proposal),
    )


def concentration_out(e: StoredEvaluation) -> ConcentrationOut:
    return ConcentrationOut(
        evaluation_id=e.evaluation_id,
        document=e.document,
        as_of=e.as_of,
        evaluated_at=e.evaluated_at,
        book_fen=e.book_fen,
        customers=e.customers,
        clusters=[
            ClusterOut(**{n: getattr(c, n) for n in ClusterOut.model_fields}) for c in e.clusters
        ],
        breaches=[
            BreachOut(**{n: getattr(b, n) for n in BreachOut.model_fields}) for b in e.breaches
        ],
        proposed_strategy=e.proposed_strategy,
    )
