"""Bodies of guarantee agencies (银担合作): agencies, agreements, covers, fees, claims, exposure.

Money is yuan strings with at most two places in and exactly two out; shares and rates are
decimal strings ("0.8", "0.01").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from puhui.domain.guarantees.agreements import Agency, Agreement
from puhui.domain.money import format_yuan
from puhui.services.guarantees.ports import (
    Claim,
    Cover,
    ExposureRow,
    FeeRecord,
    RecoveryRecord,
    Remittance,
)
from puhui.web.schemas.common import IsoDate, Strict

Yuan = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,13}(\.[0-9]{1,2})?$",
        max_length=16,
        description="yuan, a decimal string with at most two places",
        examples=["1234.56"],
    ),
]
Share = Annotated[
    str, Field(pattern=r"^[0-9](\.[0-9]{1,8})?$", max_length=10, examples=["0.8", "0.01"])
]
Uscc = Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$", description="unified social credit code")]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class AgencyIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    uscc: Uscc


class AgencyOut(Strict):
    agency_id: str
    name: str
    uscc: str


class AgreementIn(Strict):
    agency_id: Identifier
    coverage_share: Share
    fee_rate: Share
    fee_mode: Literal["at_draw", "periodic"]
    borrower_cap: Yuan
    portfolio_cap: Yuan
    valid_from: IsoDate
    valid_to: IsoDate
    claim_trigger_days: Annotated[int, Field(ge=1, le=360)] = 90
    counter_guarantee_waived: bool = False
    product_id: Identifier | None = None
    channel: str | None = Field(default=None, max_length=16)


class AgreementOut(Strict):
    agreement_id: str
    agency_id: str
    product_id: str | None
    channel: str | None
    coverage_share: str
    fee_rate: str
    fee_mode: str
    borrower_cap: str
    portfolio_cap: str
    claim_trigger_days: int
    valid_from: IsoDate
    valid_to: IsoDate
    counter_guarantee_waived: bool


class CoverIn(Strict):
    loan_id: Identifier
    agreement_id: Identifier
    on: IsoDate | None = None


class FeeOut(Strict):
    loan_id: str
    period_from: IsoDate
    period_to: IsoDate
    principal: str
    amount: str
    entry_key: str


class CoverOut(Strict):
    loan_id: str
    agreement_id: str
    principal: str
    covered: str
    covered_on: IsoDate
    fee: FeeOut | None


class FeeIn(Strict):
    period_from: IsoDate
    period_to: IsoDate


class ClaimIn(Strict):
    loan_id: Identifier
    on: IsoDate | None = None


class OnIn(Strict):
    on: IsoDate | None = None


class ClaimOut(Strict):
    claim_id: str
    loan_id: str
    agreement_id: str
    status: str
    raised_on: IsoDate
    days_past_due: int
    principal: str
    interest: str
    claim: str
    paid_on: IsoDate | None
    released_on: IsoDate | None
    returned_on: IsoDate | None
    """The loan cured after payment: the compensation went back to the agency that day."""
    agency_recovered: str
    bank_recovered: str


class RecoveryIn(Strict):
    amount: Yuan
    on: IsoDate | None = None


class RecoveryOut(Strict):
    claim_id: str
    recovered_on: IsoDate
    recovery: str
    agency: str
    bank: str


class RemittanceIn(Strict):
    on: IsoDate | None = None


class RemittanceOut(Strict):
    agency_id: str
    remitted_on: IsoDate
    fees: str
    recoveries: str


def remittance_out(r: Remittance) -> RemittanceOut:
    return RemittanceOut(
        agency_id=r.agency_id,
        remitted_on=r.remitted_on,
        fees=format_yuan(r.fees_fen),
        recoveries=format_yuan(r.recoveries_fen),
    )


class RunIn(Strict):
    as_of: IsoDate


class RunOut(Strict):
    as_of: IsoDate
    raised: list[ClaimOut]
    released: list[ClaimOut]
    withdrawn: list[ClaimOut]
    """Raised claims of loans that cured before the agency paid."""
    returned: list[ClaimOut]
    """Paid claims of loans that cured before any write-off: the compensation went back."""


class ExposureOut(Strict):
    agency_id: str
    agency_name: str
    agreement_id: str
    coverage_share: str
    loans_covered: int
    covered: str
    portfolio_cap: str
    outstanding_principal: str
    fees: str
    claims_raised: int
    claims: str
    claims_paid: str
    agency_recovered: str


def agency_out(agency: Agency) -> AgencyOut:
    return AgencyOut(agency_id=agency.agency_id, name=agency.name, uscc=agency.uscc)


def agreement_out(a: Agreement) -> AgreementOut:
    return AgreementOut(
        agreement_id=a.agreement_id,
        agency_id=a.agency_id,
        product_id=a.product_id,
        channel=a.channel,
        coverage_share=format(a.coverage_share, "f"),
        fee_rate=format(a.fee_rate, "f"),
        fee_mode=a.fee_mode.value,
        borrower_cap=format_yuan(a.borrower_cap_fen),
        portfolio_cap=format_yuan(a.portfolio_cap_fen),
        claim_trigger_days=a.claim_trigger_days,
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        counter_guarantee_waived=a.counter_guarantee_waived,
    )


def fee_out(fee: FeeRecord) -> FeeOut:
    return FeeOut(
        loan_id=fee.loan_id,
        period_from=fee.period_from,
        period_to=fee.period_to,
        principal=format_yuan(fee.principal_fen),
        amount=format_yuan(fee.amount_fen),
        entry_key=fee.entry_key,
    )


def cover_out(cover: Cover, fee: FeeRecord | None) -> CoverOut:
    return CoverOut(
        loan_id=cover.loan_id,
        agreement_id=cover.agreement_id,
        principal=format_yuan(cover.principal_fen),
        covered=format_yuan(cover.covered_fen),
        covered_on=cover.covered_on,
        fee=None if fee is None else fee_out(fee),
    )


def claim_out(c: Claim) -> ClaimOut:
    return ClaimOut(
        claim_id=c.claim_id,
        loan_id=c.loan_id,
        agreement_id=c.agreement_id,
        status=c.status,
        raised_on=c.raised_on,
        days_past_due=c.days_past_due,
        principal=format_yuan(c.principal_fen),
        interest=format_yuan(c.interest_fen),
        claim=format_yuan(c.claim_fen),
        paid_on=c.paid_on,
        released_on=c.released_on,
        returned_on=c.returned_on,
        agency_recovered=format_yuan(c.agency_recovered_fen),
        bank_recovered=format_yuan(c.bank_recovered_fen),
    )


def recovery_out(r: RecoveryRecord) -> RecoveryOut:
    return RecoveryOut(
        claim_id=r.claim_id,
        recovered_on=r.recovered_on,
        recovery=format_yuan(r.recovery_fen),
        agency=format_yuan(r.agency_fen),
        bank=format_yuan(r.bank_fen),
    )


def exposure_out(row: ExposureRow) -> ExposureOut:
    return ExposureOut(
        agency_id=row.agency_id,
        agency_name=row.agency_name,
        agreement_id=row.agreement_id,
        coverage_share=row.coverage_share,
        loans_covered=row.loans_covered,
        covered=format_yuan(row.covered_fen),
        portfolio_cap=format_yuan(row.portfolio_cap_fen),
        outstanding_principal=format_yuan(row.outstanding_principal_fen),
        fees=format_yuan(row.fees_fen),
        claims_raised=row.claims_raised,
        claims=format_yuan(row.claims_fen),
        claims_paid=format_yuan(row.claims_paid_fen),
        agency_recovered=format_yuan(row.agency_recovered_fen),
    )
