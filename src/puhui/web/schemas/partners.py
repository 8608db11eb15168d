"""Bodies of lending with partners: agreements, loans tied to them, decisions, settlement.

Money is yuan strings with at most two places in and exactly two out; shares are decimal
strings ("0.3"), never floats.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from puhui.domain.money import format_yuan
from puhui.domain.partners.agreements import Agreement
from puhui.domain.partners.settlement import Difference, Position
from puhui.services.partners.use_cases import RoutingReport, SettlementReport
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
Fraction = Annotated[
    str,
    Field(pattern=r"^[0-9](\.[0-9]{1,8})?$", max_length=10, examples=["0.3"]),
]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class AgreementIn(Strict):
    agreement_id: Identifier
    partner_id: Identifier
    partner_name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Annotated[str, Field(pattern=r"^(joint-lending|facilitation)$")]
    funding_share: Fraction = "0"
    approver: Annotated[str, Field(pattern=r"^(bank|both)$")] = "bank"
    max_outstanding: Yuan = "0"
    max_portfolio_share: Fraction = "0"
    fee_per_loan: Yuan = "0"
    fee_interest_share: Fraction = "0"
    valid_from: IsoDate
    valid_to: IsoDate


class AgreementOut(BaseModel):
    agreement_id: str
    partner_id: str
    partner_name: str
    kind: str
    funding_share: str
    approver: str
    max_outstanding: str
    max_portfolio_share: str
    fee_per_loan: str
    fee_interest_share: str
    valid_from: date
    valid_to: date
    status: str


def agreement_out(a: Agreement) -> AgreementOut:
    return AgreementOut(
        agreement_id=a.agreement_id,
        partner_id=a.partner_id,
        partner_name=a.partner_name,
        kind=a.kind.value,
        funding_share=str(a.funding_share),
        approver=a.approver.value,
        max_outstanding=format_yuan(a.limits.max_outstanding_fen),
        max_portfolio_share=str(a.limits.max_portfolio_share),
        fee_per_loan=format_yuan(a.fees.per_loan_fen),
        fee_interest_share=str(a.fees.interest_share),
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        status=a.status.value,
    )


class LinkIn(Strict):
    loan_id: Identifier
    channel: Annotated[str, Field(min_length=1, max_length=64)] = "partner"
    on: IsoDate


class LinkOut(BaseModel):
    loan_id: str
    agreement_id: str
    channel: str
    principal: str
    linked_on: date


class DecisionIn(Strict):
    application_id: Identifier
    decision: Annotated[str, Field(pattern=r"^(approve|decline)$")]
    reason: Annotated[str, Field(max_length=200)] = ""


class DecisionOut(BaseModel):
    agreement_id: str
    application_id: str
    decision: str


class AwaitingOut(BaseModel):
    """A loan of the partner's customer waiting for the partner's decision on its application."""

    loan_id: str
    application_id: str
    disbursed_on: date


class SettleIn(Strict):
    on: IsoDate
    agreement_id: Identifier | None = None


class SettlementOut(BaseModel):
    agreement_id: str
    settled_on: date
    rows: int
    entries_posted: int
    partner_total: str
    replayed: bool


def settlement_out(r: SettlementReport) -> SettlementOut:
    return SettlementOut(
        agreement_id=r.agreement_id,
        settled_on=r.settled_on,
        rows=len(r.rows),
        entries_posted=r.entries_posted,
        partner_total=format_yuan(sum(row.partner_fen for row in r.rows)),
        replayed=r.replayed,
    )


class PositionOut(BaseModel):
    agreement_id: str
    principal_funded: str
    principal_repaid: str
    principal_outstanding: str
    interest: str
    losses: str
    recoveries: str
    fees: str


def position_out(agreement_id: str, p: Position) -> PositionOut:
    return PositionOut(
        agreement_id=agreement_id,
        principal_funded=format_yuan(p.principal_funded_fen),
        principal_repaid=format_yuan(p.principal_repaid_fen),
        principal_outstanding=format_yuan(p.principal_outstanding_fen),
        interest=format_yuan(p.interest_fen),
        losses=format_yuan(p.losses_fen),
        recoveries=format_yuan(p.recoveries_fen),
        fees=format_yuan(p.fees_fen),
    )


class DifferenceOut(BaseModel):
    loan_id: str
    component: str
    ours: str | None
    theirs: str | None


def difference_out(d: Difference) -> DifferenceOut:
    return DifferenceOut(
        loan_id=d.loan_id,
        component=d.component,
        ours=None if d.ours_fen is None else format_yuan(d.ours_fen),
        theirs=None if d.theirs_fen is None else format_yuan(d.theirs_fen),
    )


class ReconcileIn(Strict):
    file: Annotated[str, Field(max_length=5_000_000, description="the partner's CSV file")]


class ReconciliationOut(BaseModel):
    agreement_id: str
    settled_on: date
    agrees: bool
    differences: list[DifferenceOut]


class RouteIn(Strict):
    on: IsoDate


class RoutingOut(BaseModel):
    agreement_id: str
    on: date
    linked: list[str]
    """Loans put under the agreement by this run."""
    not_linked: dict[str, str]
    """Loan id -> why not: awaiting_partner_decision, partner_declined, before_agreement,
    settled_before_routing, concentration_limit_breached."""


def routing_out(r: RoutingReport) -> RoutingOut:
    return RoutingOut(
        agreement_id=r.agreement_id,
        on=r.on,
        linked=[link.loan_id for link in r.linked],
        not_linked=dict(r.not_linked),
    )
