"""Agreements used across the partner tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)


def joint(share: str = "0.3", **limits: object) -> Agreement:
    return Agreement(
        agreement_id="AG-JL-1",
        partner_id="P-WEBANK",
        partner_name="Partner Bank",
        kind=AgreementKind.JOINT_LENDING,
        funding_share=Decimal(share),
        approver=Approver.BOTH,
        limits=ConcentrationLimits(**limits),  # type: ignore[arg-type]
        fees=FeeTerms(),
        valid_from=date(2025, 1, 1),
        valid_to=date(2027, 12, 31),
    )


def facilitation(*, per_loan_fen: int = 0, interest_share: str = "0") -> Agreement:
    return Agreement(
        agreement_id="AG-FC-1",
        partner_id="P-CHANNEL",
        partner_name="Channel Co",
        kind=AgreementKind.FACILITATION,
        funding_share=Decimal(0),
        approver=Approver.BANK,
        limits=ConcentrationLimits(),
        fees=FeeTerms(per_loan_fen=per_loan_fen, interest_share=Decimal(interest_share)),
        valid_from=date(2025, 1, 1),
        valid_to=date(2027, 12, 31),
    )
