"""Bodies of applications, consent, decisions, offers, contracts and staff users."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from puhui.domain.origination.application import Application
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import CATALOG
from puhui.domain.privacy import mask_id_number, mask_phone
from puhui.services.origination.use_cases import ApplicationView
from puhui.services.security.permissions import Permission, Role
from puhui.web.schemas.common import Count, Fen, Flag, Strict
from puhui.web.schemas.graph import NeighbourhoodOut

BRANCH_CODE = r"^[A-Za-z0-9][A-Za-z0-9-]{1,15}$"
"""2 to 16 letters, digits or "-" (stored upper-case)."""


class ApplicationCreate(Strict):
    uscc: str = Field(min_length=1, max_length=32, description="统一社会信用代码, 18 characters")
    id_number: str = Field(min_length=1, max_length=32, description="owner's resident ID number")
    phone: str = Field(min_length=1, max_length=20, description="owner's mainland mobile")
    requested_amount_fen: Fen | None = Field(default=None, gt=0, le=1_000_000_000)
    requested_term_months: Count | None = Field(
        default=None, ge=1, le=60, description="the term the owner asks for, in months"
    )
    device_id: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=200)
    channel: Channel | None = Field(
        default=None, description="where the application came from; default by the caller's role"
    )
    branch_code: str | None = Field(
        default=None,
        pattern=BRANCH_CODE,
        description="the branch or village service point (its QR code's), e.g. TZ-JY01",
    )
    partner_score: Count | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="a referring partner's risk score of the applicant (0-1000, higher is better)",
    )


class ConsentCreate(Strict):
    scopes: list[DataScope] = Field(min_length=1)
    purpose: str = Field(min_length=1, max_length=200)
    valid_days: Count = Field(default=90, ge=1, le=366)


class ReviewCreate(Strict):
    approve: Flag
    note: str = Field(min_length=1, max_length=500)
    limit_fen: Fen | None = Field(default=None, gt=0, le=1_000_000_000)
    annual_rate: str | None = Field(
        default=None, pattern=r"^0\.[0-9]{1,8}$", description="decimal fraction, e.g. 0.0435"
    )
    term_months: Count | None = Field(default=None, ge=1, le=120)


class CancellationCreate(Strict):
    """Staff cancel an application whose credit line failed to open, stating the grounds."""

    note: str = Field(min_length=1, max_length=500)


class ReasonOut(BaseModel):
    code: str
    zh: str | None
    en: str | None


class DecisionEvidenceOut(BaseModel):
    """What an automatic decision read and which versions decided it (staff only)."""

    decided_at: datetime
    as_of: date
    strategy: str
    strategy_hash: str
    model_name: str | None
    model_version: str | None
    arm: str
    experiment: str | None
    bucket: int | None
    model_pd: float | None
    model_score: float | None
    inputs: dict[str, Any]
    features: dict[str, Any]
    feature_source: str
    feature_lineage: dict[str, Any]
    data_reference: dict[str, Any]
    fraud_hits: list[str]
    shadow: dict[str, Any]
    automatic_outcome: str
    """The automatic decision (a manual review may have changed the application since)."""


class DecisionOut(BaseModel):
    outcome: str
    reasons: list[ReasonOut]
    limit_fen: int | None
    annual_rate: str | None
    term_months: int | None
    grade: str | None
    pd: str | None
    score: int | None
    trace: dict[str, Any]
    evidence: DecisionEvidenceOut | None = None
    """Staff only; absent for applications decided before decisions were stored."""


class OfferOut(BaseModel):
    offer_id: str
    limit_fen: int
    annual_rate: str
    term_months: int
    grade: str | None
    made_at: datetime
    expires_at: datetime


class ConsentOut(BaseModel):
    consent_id: str
    scopes: list[str]
    purpose: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ContractOut(BaseModel):
    contract_no: str
    sha256: str
    signature_hex: str
    signing_key_id: str
    signed_at: datetime
    accepted_at: datetime
    text: str


class ApplicationOut(BaseModel):
    application_id: str
    application_no: str
    status: str
    uscc: str
    id_number_masked: str
    phone_masked: str
    requested_amount_fen: int | None
    requested_term_months: int | None
    partner_id: str | None
    credit_line_id: str | None
    created_at: datetime
    updated_at: datetime
    channel: str | None
    branch_code: str | None


class ApplicationDetailOut(ApplicationOut):
    decision: DecisionOut | None
    offer: OfferOut | None
    consents: list[ConsentOut]
    contract: ContractOut | None
    neighbourhood: NeighbourhoodOut | None = None
    """Staff reading an application: its enterprise in the relationship graph (the snapshot that
    decided it, else the newest); null otherwise, ``neighbourhood_status`` says why."""
    neighbourhood_status: Literal["shown", "loading", "not_in_graph", "unavailable"] | None = None
    """Staff only: ``shown``; ``loading`` (the snapshot is being read: ask again in a few
    seconds); ``not_in_graph``; ``unavailable`` (no graph configured or readable)."""


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


class OtpRequest(Strict):
    phone: str = Field(min_length=1, max_length=20)


class OtpVerify(Strict):
    phone: str = Field(min_length=1, max_length=20)
    code: str = Field(min_length=4, max_length=8)


class UserCreate(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    role: Role
    partner_id: str | None = Field(default=None, max_length=64)


class UserOut(BaseModel):
    user_id: str
    username: str
    role: str
    partner_id: str | None


class ApiKeyCreate(Strict):
    partner_id: str = Field(min_length=1, max_length=64)
    scopes: list[Permission] = Field(min_length=1)


class ApiKeyOut(BaseModel):
    key_id: str
    partner_id: str
    scopes: list[str]
    api_key: str = Field(description="shown once; only a hash is stored")


class FraudListEntryCreate(Strict):
    uscc: str | None = Field(default=None, max_length=32)
    id_number: str | None = Field(default=None, max_length=32)
    note: str = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    user_id: str
    role: str
    partner_id: str | None
    permissions: list[str]


def reason_out(code: str) -> ReasonOut:
    known = CATALOG.get(code)
    return ReasonOut(code=code, zh=known.zh if known else None, en=known.en if known else None)


def application_out(application: Application) -> ApplicationOut:
    return ApplicationOut(**_application_fields(application))


def _application_fields(application: Application) -> dict[str, Any]:
    return {
        "application_id": application.application_id,
        "application_no": application.application_no,
        "status": application.status.value,
        "uscc": application.applicant.uscc,
        "id_number_masked": mask_id_number(application.applicant.id_number),
        "phone_masked": mask_phone(application.applicant.phone),
        "requested_amount_fen": application.requested_amount_fen,
        "requested_term_months": application.requested_term_months,
        "partner_id": application.partner_id,
        "credit_line_id": application.credit_line_id,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "channel": None if application.channel is None else application.channel.value,
        "branch_code": application.branch_code,
    }


def offer_out(offer: Offer) -> OfferOut:
    return OfferOut(
        offer_id=offer.offer_id,
        limit_fen=offer.limit_fen,
        annual_rate=str(offer.annual_rate),
        term_months=offer.term_months,
        grade=offer.grade,
        made_at=offer.made_at,
        expires_at=offer.expires_at,
    )


def consent_out(consent: Consent) -> ConsentOut:
    return ConsentOut(
        consent_id=consent.consent_id,
        scopes=sorted(s.value for s in consent.scopes),
        purpose=consent.purpose,
        granted_at=consent.granted_at,
        expires_at=consent.expires_at,
        revoked_at=consent.revoked_at,
    )


def contract_out(contract: Contract) -> ContractOut:
    return ContractOut(
        contract_no=contract.contract_no,
        sha256=contract.sha256,
        signature_hex=contract.signature_hex,
        signing_key_id=contract.signing_key_id,
        signed_at=contract.signed_at,
        accepted_at=contract.accepted_at,
        text=contract.text,
    )


def decision_out(view: ApplicationView, *, with_trace: bool) -> DecisionOut | None:
    a = view.application.assessment
    if a is None:
        return None
    return DecisionOut(
        outcome=a.outcome.value,
        reasons=[reason_out(r) for r in a.reasons],
        limit_fen=a.limit_fen,
        annual_rate=None if a.annual_rate is None else str(a.annual_rate),
        term_months=a.term_months,
        grade=a.grade,
        pd=None if a.pd is None else str(a.pd),
        score=a.score,
        trace=dict(a.trace) if with_trace else {},
    )


def evidence_out(record: DecisionRecord) -> DecisionEvidenceOut:
    e = record.evidence
    return DecisionEvidenceOut(
        decided_at=record.decided_at,
        as_of=e.as_of,
        strategy=e.strategy_label,
        strategy_hash=e.strategy_hash,
        model_name=e.model_name,
        model_version=e.model_version,
        arm=e.arm,
        experiment=e.experiment,
        bucket=e.bucket,
        model_pd=e.model_pd,
        model_score=e.model_score,
        inputs=dict(e.inputs),
        features=dict(e.features),
        feature_source=e.feature_source,
        feature_lineage=dict(e.feature_lineage),
        data_reference=dict(e.data_reference),
        fraud_hits=list(record.fraud_hits),
        shadow=dict(e.shadow),
        automatic_outcome=record.outcome,
    )


def detail_out(
    view: ApplicationView,
    *,
    with_trace: bool,
    neighbourhood: NeighbourhoodOut | None = None,
    neighbourhood_status: Literal["shown", "loading", "not_in_graph", "unavailable"] | None = None,
) -> ApplicationDetailOut:
    return ApplicationDetailOut(
        **_application_fields(view.application),
        decision=decision_out(view, with_trace=with_trace),
        offer=None if view.offer is None else offer_out(view.offer),
        consents=[consent_out(c) for c in view.consents],
        contract=None if view.contract is None else contract_out(view.contract),
        neighbourhood=neighbourhood,
        neighbourhood_status=neighbourhood_status,
    )
