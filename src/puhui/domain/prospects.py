"""Pre-approved prospects (主动授信): what the monthly pre-approval run hands to the platform.

The batch run (``pipelines.preapproval``) scores every enterprise it may look at and writes one
``ProspectRow`` per pre-approved enterprise; the platform (``services.prospects``) loads a run's
rows in one transaction, assigns them to account managers and works them as a queue. This module
is the contract between the two: plain values, checked on construction, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from puhui.domain.errors import InvalidInput

PROSPECT_FILE_COLUMNS = (
    "uscc",
    "need_probability",
    "need_amount_fen",
    "need_month",
    "need_duration_months",
    "limit_fen",
    "annual_rate",
    "valid_until",
)
"""The columns of ``puhui prospect run --out FILE``, in this order (a public contract)."""
NO_PARK = "-"
"""The marketing map's label for enterprises outside any industrial park (CLI and console)."""


class ProspectStatus(StrEnum):
    """Where an account manager is with a prospect (the queue's states)."""

    NEW = "new"
    CONTACTED = "contacted"
    INTERESTED = "interested"
    APPLIED = "applied"
    NOT_INTERESTED = "not_interested"
    EXPIRED = "expired"
    """The offer's validity passed, or a later run of the same month no longer lists it."""


@dataclass(frozen=True, slots=True)
class ProspectRow:
    """One pre-approved enterprise of one run, as the run computed it.

    ``month`` is the as-of month (its first day): the data the run used ends with that month.
    ``need_month`` is the first day of the month the need is expected in (within the next 3).
    ``limit_fen`` never exceeds ``need_amount_fen``; ``priority`` orders the list (1 = first).
    ``reasons`` are the strategy's reason codes behind the pre-approval (and its cautions).
    """

    uscc: str
    month: date
    need_probability: float
    need_amount_fen: int
    need_month: date
    need_duration_months: int
    limit_fen: int
    annual_rate: Decimal
    valid_until: date
    grade: str
    priority: int
    region_code: str
    industry_group: str
    park: str | None
    is_customer: bool
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.uscc or len(self.uscc) != 18 or not self.uscc.isalnum():
            raise InvalidInput(f"prospect uscc must be 18 letters or digits: {self.uscc!r}")
        if self.month.day != 1 or self.need_month.day != 1:
            raise InvalidInput("prospect month and need_month must be first days of months")
        if not 0.0 <= self.need_probability <= 1.0:
            raise InvalidInput(f"need_probability must be in [0, 1]: {self.need_probability}")
        if self.need_amount_fen <= 0 or self.limit_fen <= 0:
            raise InvalidInput("need_amount_fen and limit_fen must be positive fen amounts")
        if self.limit_fen > self.need_amount_fen:
            raise InvalidInput(
                f"limit {self.limit_fen} fen is above the estimated need {self.need_amount_fen} fen"
            )
        if self.need_duration_months < 1:
            raise InvalidInput("need_duration_months must be at least 1")
        if not Decimal(0) < self.annual_rate < Decimal(1):
            raise InvalidInput(f"annual_rate must be a fraction in (0, 1): {self.annual_rate}")
        if self.valid_until <= self.month:
            raise InvalidInput("valid_until must be after the run's month")
        if self.priority < 1:
            raise InvalidInput("priority starts at 1")


def penetration(customers: int, prospects: int) -> Decimal | None:
    """The marketing map's penetration of a place: customers / (customers + prospects).

    The share of the enterprises the bank serves or may serve now (its customers and this
    run's pre-approved prospects) that it already serves; four decimals, half up; ``None``
    when the place has neither. The console's map and ``puhui prospect report`` both use it.
    """
    if customers < 0 or prospects < 0:
        raise InvalidInput("customer and prospect counts cannot be negative")
    total = customers + prospects
    if total == 0:
        return None
    return (Decimal(customers) / Decimal(total)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
