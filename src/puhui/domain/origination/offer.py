"""An offer made to an applicant: limit, price, term and the instant it lapses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from puhui.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str
    application_id: str
    limit_fen: int
    annual_rate: Decimal
    term_months: int
    grade: str | None
    made_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        if self.limit_fen <= 0:
            raise InvalidInput("an offer's limit is positive", details={"field": "limit_fen"})
        if self.expires_at <= self.made_at:
            raise InvalidInput("an offer expires after it is made")

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at
