"""What the owner asks before it scores an enterprise for the bank, and how often it will.

Online scoring tells the owner which enterprise the bank is assessing and tells the bank
whether the owner holds it, so the owner answers only with the applicant's authorisation
(授权书) named per enterprise, keeps a query record (查询记录) of every id it scored, and
caps how many ids a minute it scores. Scoring a model's own held-out PSI intersection
(validation after training) is covered by the training agreement instead.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from puhui.risk.federated.errors import (
    FederatedConsentExpired,
    FederatedConsentMissing,
    FederatedRateLimited,
    InvalidFederatedData,
)

_REFERENCE = re.compile(r"^[A-Za-z0-9_.:/-]{4,64}$")


class ScoringPurpose(StrEnum):
    ASSESSMENT = "assessment"  # an applicant, under its authorisation
    VALIDATION = "validation"  # the model's own held-out intersection, after training


@dataclass(frozen=True, slots=True)
class ScoringConsent:
    """One enterprise to score and the authorisation that allows it."""

    enterprise_id: str
    reference: str
    """The bank's reference of the signed authorisation (its consent record's id)."""
    expires_on: date
    """The last day the authorisation covers."""

    def __post_init__(self) -> None:
        if not self.enterprise_id:
            raise InvalidFederatedData("a consent names no enterprise")
        if not _REFERENCE.fullmatch(self.reference):
            raise InvalidFederatedData(
                "a consent reference is 4 to 64 letters, digits or _ . : / -",
                details={"field": "consent_ref"},
            )


def check_consents(consents: list[ScoringConsent], *, today: date) -> None:
    """Refuse the whole request if any authorisation is missing, repeated or expired."""
    if not consents:
        raise FederatedConsentMissing("online scoring needs one authorisation per enterprise")
    seen: set[str] = set()
    for consent in consents:
        if consent.enterprise_id in seen:
            raise InvalidFederatedData(
                "an enterprise is named twice in one scoring request",
                details={"field": "consents"},
            )
        seen.add(consent.enterprise_id)
        if consent.expires_on < today:
            raise FederatedConsentExpired(
                "an authorisation has expired; the owner scores nothing in this request",
                details={"consent_ref": consent.reference, "expired_on": str(consent.expires_on)},
            )


class ScoringQuota:
    """A token bucket of ids per minute: bursts up to the limit, refilled evenly.

    ``take`` either takes all the ids of a request or refuses it whole, with the seconds
    after which the same request would pass. Thread-safe (the owner scores in a pool).
    """

    def __init__(self, per_minute: int, *, ticker: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise InvalidFederatedData("the scoring limit is at least 1 id a minute")
        self.per_minute = per_minute
        self._ticker = ticker
        self._tokens = float(per_minute)
        self._at = ticker()
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        if count > self.per_minute:
            raise InvalidFederatedData(
                f"one request may score at most {self.per_minute} ids (the owner's limit a minute)",
                details={"limit_per_minute": self.per_minute, "asked": count},
            )
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._ticker()
            self._tokens = min(float(self.per_minute), self._tokens + (now - self._at) * rate)
            self._at = max(self._at, now)
            if self._tokens + 1e-9 < count:
                wait = (count - self._tokens) / rate
                raise FederatedRateLimited(
                    "the owner's online scoring limit is reached; try again later",
                    details={
                        "retry_after_seconds": max(1, math.ceil(wait)),
                        "limit_per_minute": self.per_minute,
                    },
                )
            self._tokens -= count
