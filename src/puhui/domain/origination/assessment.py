"""The outcome of an automatic assessment or a manual review, with reasons and trace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.decision_record import DecisionEvidence


class Outcome(Enum):
    APPROVE = "approve"
    DECLINE = "decline"
    REFER = "refer"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the decision engine (or an approver) concluded about one application.

    ``limit_fen``, ``annual_rate`` and ``term_months`` are set for an approval and may be set
    for a referral (the proposal a human reviews); a decline carries reasons only.
    """

    outcome: Outcome
    reasons: tuple[str, ...] = ()
    limit_fen: int | None = None
    annual_rate: Decimal | None = None
    term_months: int | None = None
    grade: str | None = None
    pd: Decimal | None = None
    score: int | None = None
    trace: Mapping[str, Any] = field(default_factory=dict)
    evidence: DecisionEvidence | None = None
    """What an automatic decision read and which versions decided (stored for replay);
    ``None`` for a placeholder assessor and in assessments read back from an application."""

    def __post_init__(self) -> None:
        if self.outcome is Outcome.APPROVE and (
            self.limit_fen is None or self.annual_rate is None or self.term_months is None
        ):
            raise InvalidInput("an approval states limit, annual rate and term")
        if self.limit_fen is not None and self.limit_fen <= 0:
            raise InvalidInput("a credit limit is positive", details={"field": "limit_fen"})
        if self.annual_rate is not None and not Decimal(0) < self.annual_rate < Decimal(1):
            raise InvalidInput(
                "an annual rate is a fraction between 0 and 1", details={"field": "annual_rate"}
            )
        if self.term_months is not None and not 1 <= self.term_months <= 120:
            raise InvalidInput("a term is 1 to 120 months", details={"field": "term_months"})
        if self.pd is not None and not Decimal(0) <= self.pd <= Decimal(1):
            raise InvalidInput("a probability of default is between 0 and 1")
