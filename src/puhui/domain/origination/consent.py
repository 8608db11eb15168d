"""Consent to pull an enterprise's data: scope, purpose, expiry and revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from puhui.domain.errors import InvalidInput


class DataScope(Enum):
    """The data an owner may authorise the bank to pull (银税互动 and other sources)."""

    REGISTRATION = "registration"
    TAX = "tax"
    INVOICE = "invoice"
    UTILITY = "utility"
    COURT = "court"
    BUREAU = "bureau"
    SETTLEMENT = "settlement"


MAX_CONSENT_DAYS = 366
"""A consent longer than a year is refused: the owner renews it, the bank does not assume it."""


@dataclass(frozen=True, slots=True)
class Consent:
    consent_id: str
    application_id: str
    scopes: frozenset[DataScope]
    purpose: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.scopes:
            raise InvalidInput(
                "a consent names at least one data scope", details={"field": "scopes"}
            )
        if not self.purpose.strip():
            raise InvalidInput("a consent states its purpose", details={"field": "purpose"})
        if self.expires_at <= self.granted_at:
            raise InvalidInput(
                "a consent expires after it is granted", details={"field": "expires_at"}
            )
        if (self.expires_at - self.granted_at).days > MAX_CONSENT_DAYS:
            raise InvalidInput(
                f"a consent lasts at most {MAX_CONSENT_DAYS} days", details={"field": "expires_at"}
            )

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.granted_at <= at < self.expires_at

    def covers(self, scope: DataScope, at: datetime) -> bool:
        return self.is_active(at) and scope in self.scopes
