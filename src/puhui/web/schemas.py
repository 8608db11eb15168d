"""Request and response bodies of the open API; personal data leaves only masked."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import Strict as PydanticStrict

from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.domain.origination.application import Application
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import CATALOG
from puhui.domain.privacy import mask_id_number, mask_phone
from puhui.services.origination.receipt_access import ReceiptSchedule
from puhui.services.origination.use_cases import ApplicationView
from puhui.services.security.permissions import Permission, Role
from puhui.services.servicing.lines import DrawResult
from puhui.services.servicing.receipts import RepaymentResult
from puhui.services.servicing.records import CreditLineRecord
from puhui.services.servicing.statements import Balances, Statement
from puhui.services.strategies import StrategyVersion

if TYPE_CHECKING:
    # The registry pulls in the modelling stack (seconds to import); only its types here.
    from puhui.risk.registry import RegistryEntry


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: object) -> object:
    """A business date is ``YYYY-MM-DD``: no time, no zone, no week or ordinal forms."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


Fen = Annotated[int, PydanticStrict()]
"""An amount in fen: a JSON integer only (``true``, ``"100"`` and ``100.0`` are refused)."""
Count = Annotated[int, PydanticStrict()]
"""A whole number of days, months or items: a JSON integer only."""
Flag = Annotated[bool, PydanticStrict()]
"""``true`` or ``false`` only (not ``1``, ``"yes"``)."""
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


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


class ApplicationDetailOut(ApplicationOut):
    decision: DecisionOut | None
    offer: OfferOut | None
    consents: list[ConsentOut]
    contract: ContractOut | None


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


def detail_out(view: ApplicationView, *, with_trace: bool) -> ApplicationDetailOut:
    return ApplicationDetailOut(
        **_application_fields(view.application),
        decision=decision_out(view, with_trace=with_trace),
        offer=None if view.offer is None else offer_out(view.offer),
        consents=[consent_out(c) for c in view.consents],
        contract=None if view.contract is None else contract_out(view.contract),
    )


# --- servicing: credit lines, receipts, strategies, models ----------------------------------


class LineChange(Strict):
    reason: str = Field(min_length=1, max_length=200)


class LimitReduction(Strict):
    new_limit_fen: Fen = Field(ge=0, le=10_000_000_000)
    reason: str = Field(min_length=1, max_length=200)


class DrawCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=1_000_000_000)
    maturity_date: IsoDate


class RepaymentCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=10_000_000_000)


class CreditLineOut(BaseModel):
    line_id: str
    enterprise_id: str
    product_id: str
    status: str
    limit_fen: int
    drawn_fen: int
    available_fen: int
    annual_rate: str
    opened_on: date
    expiry_date: date
    version: int


class DrawOut(BaseModel):
    receipt_id: str
    line_id: str
    amount_fen: int
    drawn_on: date
    maturity_date: date
    available_fen: int
    replayed: bool


class RepaymentOut(BaseModel):
    receipt_id: str
    amount_fen: int
    paid_on: date
    penalty_fen: int
    compound_fen: int
    interest_fen: int
    principal_fen: int
    outstanding_principal_fen: int
    owed_after_fen: int
    closed: bool
    replayed: bool


class InstalmentOut(BaseModel):
    period: int
    due_date: date
    period_days: int


class ReceiptScheduleOut(BaseModel):
    receipt_id: str
    line_id: str | None
    status: str
    disbursed_on: date
    maturity_date: date
    principal_fen: int
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_owed_fen: int
    penalty_owed_fen: int
    total_owed_fen: int
    days_past_due: int
    category: str
    instalments: list[InstalmentOut]


class StrategyOut(BaseModel):
    name: str
    version: int
    status: str
    content_hash: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    activated_at: datetime | None
    document: str | None = None


class ModelOut(BaseModel):
    version: str
    name: str
    kind: str
    status: str
    registered_at: str
    data_hash: str
    metrics: dict[str, dict[str, float]]
    approver: str | None
    promoted_at: str | None


def credit_line_out(line: CreditLineRecord) -> CreditLineOut:
    return CreditLineOut(
        line_id=line.line_id,
        enterprise_id=line.enterprise_id,
        product_id=line.product_id,
        status=line.status.value,
        limit_fen=line.limit_fen,
        drawn_fen=line.drawn_fen,
        available_fen=line.available_fen,
        annual_rate=str(line.annual_rate),
        opened_on=line.opened_on,
        expiry_date=line.expiry_date,
        version=line.version,
    )


def draw_out(result: DrawResult) -> DrawOut:
    return DrawOut(
        receipt_id=result.receipt_id,
        line_id=result.line_id,
        amount_fen=result.amount_fen,
        drawn_on=date.fromisoformat(result.drawn_on),
        maturity_date=date.fromisoformat(result.maturity_date),
        available_fen=result.available_fen,
        replayed=result.replayed,
    )


def repayment_out(result: RepaymentResult) -> RepaymentOut:
    return RepaymentOut(
        receipt_id=result.receipt_id,
        amount_fen=result.amount_fen,
        paid_on=date.fromisoformat(result.paid_on),
        penalty_fen=result.penalty_fen,
        compound_fen=result.compound_fen,
        interest_fen=result.interest_fen,
        principal_fen=result.principal_fen,
        outstanding_principal_fen=result.outstanding_principal_fen,
        owed_after_fen=result.owed_after_fen,
        closed=result.closed,
        replayed=result.replayed,
    )


def receipt_schedule_out(schedule: ReceiptSchedule) -> ReceiptScheduleOut:
    return ReceiptScheduleOut(
        **_receipt_fields(schedule.receipt),
        instalments=[
            InstalmentOut(period=i.period, due_date=i.due_date, period_days=i.period_days)
            for i in schedule.instalments
        ],
    )


def strategy_out(strategy: StrategyVersion, *, with_document: bool) -> StrategyOut:
    return StrategyOut(
        name=strategy.name,
        version=strategy.version,
        status=strategy.status.value,
        content_hash=strategy.content_hash,
        created_by=strategy.created_by,
        created_at=strategy.created_at,
        approved_by=strategy.approved_by,
        activated_at=strategy.activated_at,
        document=strategy.document if with_document else None,
    )


def model_out(entry: RegistryEntry) -> ModelOut:
    return ModelOut(
        version=entry.version,
        name=entry.name,
        kind=entry.kind,
        status=entry.status.value,
        registered_at=entry.registered_at,
        data_hash=entry.data_hash,
        metrics=entry.metrics,
        approver=entry.approver,
        promoted_at=entry.promoted_at,
    )


# Statements (对账单) and the receipts of a line


class BalancesOut(BaseModel):
    principal_fen: int
    interest_fen: int
    penalty_fen: int = Field(description="penalty plus compound interest (罚息复利)")
    total_fen: int


class MovementOut(BaseModel):
    on: date = Field(description="the day of the event; for an accrual, its last day")
    from_date: date | None = Field(description="first day of an accrual, else null")
    kind: str
    label_zh: str
    label_en: str
    receipt_id: str
    amount_fen: int
    change: BalancesOut = Field(description="what the movement did to the balances (signed)")


class StatementTotalsOut(BaseModel):
    drawn_fen: int
    repaid_fen: int
    repaid: BalancesOut
    accrued: BalancesOut
    written_off: BalancesOut
    recovered_fen: int
    net_change: BalancesOut


class AmountDueOut(BaseModel):
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    total_fen: int
    due_date: date | None


class StatementReceiptOut(BaseModel):
    receipt_id: str
    disbursed_on: date
    maturity_date: date
    opening: BalancesOut
    closing: BalancesOut


class StatementOut(BaseModel):
    line_id: str
    enterprise_id: str
    period: str = Field(description="YYYY-MM: the interest cycle ending on its settlement day")
    period_start: date
    period_end: date
    final: bool = Field(description="false while the end of day has not closed the period")
    closed_through: date | None
    opening: BalancesOut
    movements: list[MovementOut]
    closing: BalancesOut
    totals: StatementTotalsOut
    due: AmountDueOut
    receipts: list[StatementReceiptOut]


class ReceiptOut(BaseModel):
    receipt_id: str
    line_id: str | None
    status: str
    disbursed_on: date
    maturity_date: date
    principal_fen: int
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_owed_fen: int
    penalty_owed_fen: int
    total_owed_fen: int
    days_past_due: int
    category: str
    closed_on: date | None


def balances_out(balances: Balances) -> BalancesOut:
    return BalancesOut(
        principal_fen=balances.principal_fen,
        interest_fen=balances.interest_fen,
        penalty_fen=balances.penalty_fen,
        total_fen=balances.total_fen,
    )


def statement_out(statement: Statement) -> StatementOut:
    totals = statement.totals
    return StatementOut(
        line_id=statement.line_id,
        enterprise_id=statement.enterprise_id,
        period=statement.period.label,
        period_start=statement.period.start,
        period_end=statement.period.end,
        final=statement.final,
        closed_through=statement.closed_through,
        opening=balances_out(statement.opening),
        movements=[
            MovementOut(
                on=m.on,
                from_date=m.from_date,
                kind=m.kind.value,
                label_zh=m.kind.label_zh,
                label_en=m.kind.label_en,
                receipt_id=m.receipt_id,
                amount_fen=m.amount_fen,
                change=balances_out(m.change),
            )
            for m in statement.movements
        ],
        closing=balances_out(statement.closing),
        totals=StatementTotalsOut(
            drawn_fen=totals.drawn_fen,
            repaid_fen=totals.repaid_fen,
            repaid=balances_out(totals.repaid),
            accrued=balances_out(totals.accrued),
            written_off=balances_out(totals.written_off),
            recovered_fen=totals.recovered_fen,
            net_change=balances_out(totals.net_change),
        ),
        due=AmountDueOut(
            principal_fen=statement.due.principal_fen,
            interest_fen=statement.due.interest_fen,
            penalty_fen=statement.due.penalty_fen,
            total_fen=statement.due.total_fen,
            due_date=statement.due.due_date,
        ),
        receipts=[
            StatementReceiptOut(
                receipt_id=r.receipt_id,
                disbursed_on=r.disbursed_on,
                maturity_date=r.maturity_date,
                opening=balances_out(r.opening),
                closing=balances_out(r.closing),
            )
            for r in statement.receipts
        ],
    )


def _receipt_fields(receipt: LoanRecord) -> dict[str, Any]:
    """What every view of a receipt (借据) shows."""
    return {
        "receipt_id": receipt.loan_id,
        "line_id": receipt.line_id,
        "status": receipt.status.value,
        "disbursed_on": receipt.disbursed_on,
        "maturity_date": receipt.maturity_date,
        "principal_fen": receipt.principal_fen,
        "outstanding_principal_fen": receipt.outstanding_principal_fen,
        "overdue_principal_fen": receipt.overdue_principal_fen,
        "interest_owed_fen": receipt.interest_owed_fen,
        "penalty_owed_fen": receipt.penalty_owed_fen,
        "total_owed_fen": receipt.total_owed_fen,
        "days_past_due": receipt.days_past_due,
        "category": receipt.category.value,
    }


def receipt_out(receipt: LoanRecord) -> ReceiptOut:
    return ReceiptOut(**_receipt_fields(receipt), closed_on=receipt.closed_on)


# Security administration: users' status, role grants (four eyes), API keys, audit search.


class UserStatusOut(BaseModel):
    user_id: str
    username: str
    role: str
    disabled: bool


class RoleGrantCreate(Strict):
    """Either a new account (``username``) or an existing staff user to elevate (``user_id``)."""

    role: Role
    username: str | None = Field(default=None, min_length=1, max_length=64)
    user_id: str | None = Field(default=None, min_length=1, max_length=64)


class RoleGrantOut(BaseModel):
    grant_id: str
    role: str
    username: str
    user_id: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class ApprovedGrantOut(BaseModel):
    grant: RoleGrantOut
    user: UserStatusOut
    password: str = Field(description="the account's new password, shown once: hand it to the user")


class ApiKeyStatusOut(BaseModel):
    key_id: str
    partner_id: str
    scopes: list[str]
    revoked_at: datetime | None


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    payload_digest: str = Field(description="the trail keeps a digest of the payload only")
