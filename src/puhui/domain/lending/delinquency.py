"""Delinquency: days past due, penalty and compound interest, five-category classification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidInput, InvalidRate
from puhui.domain.lending.interest import interest_for_days_fen, multiply
from puhui.domain.lending.product import MAX_TECHNICAL_GRACE_DAYS
from puhui.domain.money import Rounding, round_fen

NON_ACCRUAL_DAYS_PAST_DUE = 90
"""Beyond 90 days past due, accrued interest leaves the income statement (a memo item)."""

SUBSTANDARD_AFTER_DAYS = 90
DOUBTFUL_AFTER_DAYS = 270
LOSS_AFTER_DAYS = 360
"""DPD floors of the 2023 Financial Asset Risk Classification Measures (CBIRC/PBOC Order No. 1):
more than 90 days at least 次级, more than 270 at least 可疑, more than 360 损失."""


class FiveCategory(Enum):
    """The regulatory five categories, ordered from best to worst."""

    PASS = "pass"  # noqa: S105 (a category, not a secret) 正常
    SPECIAL_MENTION = "special-mention"  # 关注
    SUBSTANDARD = "substandard"  # 次级
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 损失

    @property
    def rank(self) -> int:
        return list(FiveCategory).index(self)

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]

    @property
    def label_en(self) -> str:
        return self.value.replace("-", " ")

    @property
    def is_non_performing(self) -> bool:
        """次级, 可疑 and 损失 are non-performing loans (不良贷款)."""
        return self.rank >= FiveCategory.SUBSTANDARD.rank

    def worse_of(self, other: FiveCategory) -> FiveCategory:
        return self if self.rank >= other.rank else other


_LABELS_ZH = {
    FiveCategory.PASS: "正常",
    FiveCategory.SPECIAL_MENTION: "关注",
    FiveCategory.SUBSTANDARD: "次级",
    FiveCategory.DOUBTFUL: "可疑",
    FiveCategory.LOSS: "损失",
}


def days_past_due(oldest_unpaid_due_date: date | None, as_of: date) -> int:
    """Days since the oldest unpaid due date: 0 on the due date, 1 the day after, 0 if none."""
    if oldest_unpaid_due_date is None or as_of <= oldest_unpaid_due_date:
        return 0
    return (as_of - oldest_unpaid_due_date).days


def is_technical_overdue(days_past_due: int, grace_days: int) -> bool:
    """Overdue, but within the technical grace: still 正常, though penalty interest runs."""
    return 0 < days_past_due <= grace_days


def classify(
    days_past_due: int,
    *,
    grace_days: int = 0,
    at_least: FiveCategory = FiveCategory.PASS,
) -> FiveCategory:
    """The category the DPD floors require, or ``at_least`` when another trigger is worse.

    A technical or operational overdue of up to ``grace_days`` (at most 7) stays 正常.
    """
    if isinstance(days_past_due, bool) or not isinstance(days_past_due, int) or days_past_due < 0:
        raise InvalidInput(f"days past due must be a non-negative integer, got {days_past_due!r}")
    if isinstance(grace_days, bool) or not isinstance(grace_days, int):
        raise InvalidInput(f"grace days must be an integer, got {grace_days!r}")
    if not 0 <= grace_days <= MAX_TECHNICAL_GRACE_DAYS:
        raise InvalidInput(f"grace days must be 0 to {MAX_TECHNICAL_GRACE_DAYS}, got {grace_days}")
    if days_past_due > LOSS_AFTER_DAYS:
        floor = FiveCategory.LOSS
    elif days_past_due > DOUBTFUL_AFTER_DAYS:
        floor = FiveCategory.DOUBTFUL
    elif days_past_due > SUBSTANDARD_AFTER_DAYS:
        floor = FiveCategory.SUBSTANDARD
    elif days_past_due > grace_days:
        floor = FiveCategory.SPECIAL_MENTION
    else:
        floor = FiveCategory.PASS
    return floor.worse_of(at_least)


def is_non_accrual(days_past_due: int, threshold_days: int = NON_ACCRUAL_DAYS_PAST_DUE) -> bool:
    return days_past_due > threshold_days


def penalty_rate(annual_rate: Decimal, uplift: Decimal) -> Decimal:
    """罚息 rate: the contract rate × (1 + uplift); 0.0435 with uplift 0.5 gives 0.06525."""
    if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite() or annual_rate < 0:
        raise InvalidRate(f"annual rate must be a non-negative Decimal, got {annual_rate!r}")
    if not isinstance(uplift, Decimal) or not uplift.is_finite() or uplift < 0:
        raise InvalidRate(f"penalty uplift must be a non-negative Decimal, got {uplift!r}")
    return multiply(annual_rate, 1 + uplift)


def _check(amount_fen: int, days: int, what: str) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise InvalidAmount(f"{what} must be a non-negative fen integer, got {amount_fen!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput(f"days must be a non-negative integer, got {days!r}")


def penalty_interest_exact(
    overdue_principal_fen: int,
    annual_rate: Decimal,
    days: int,
    *,
    uplift: Decimal,
    basis: DayCountBasis = DayCountBasis.ACT_360,
) -> Decimal:
    """Unrounded 罚息 in fen: overdue principal at the penalty rate for ``days`` days."""
    _check(overdue_principal_fen, days, "overdue principal")
    rate = penalty_rate(annual_rate, uplift)
    return interest_for_days_fen(overdue_principal_fen, rate, days, basis.days_in_year)


def compound_interest_exact(
    overdue_interest_fen: int,
    annual_rate: Decimal,
    days: int,
    *,
    uplift: Decimal,
    basis: DayCountBasis = DayCountBasis.ACT_360,
) -> Decimal:
    """Unrounded 复利 in fen: unpaid interest at the penalty rate (银发〔2003〕251号)."""
    _check(overdue_interest_fen, days, "overdue interest")
    rate = penalty_rate(annual_rate, uplift)
    return interest_for_days_fen(overdue_interest_fen, rate, days, basis.days_in_year)


@dataclass(frozen=True, slots=True)
class OverdueCharges:
    penalty_fen: int
    compound_fen: int

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.compound_fen


def overdue_charges(
    overdue_principal_fen: int,
    overdue_interest_fen: int,
    annual_rate: Decimal,
    days: int,
    *,
    uplift: Decimal,
    basis: DayCountBasis = DayCountBasis.ACT_360,
    rounding: Rounding = Rounding.HALF_UP,
) -> OverdueCharges:
    """罚息 and 复利 for ``days`` days, each rounded once to the fen."""
    penalty = penalty_interest_exact(
        overdue_principal_fen, annual_rate, days, uplift=uplift, basis=basis
    )
    compound = compound_interest_exact(
        overdue_interest_fen, annual_rate, days, uplift=uplift, basis=basis
    )
    return OverdueCharges(round_fen(penalty, rounding), round_fen(compound, rounding))
