"""Loan products: repayment method, bounds, day count, rounding, penalties and waterfall."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidInput
from puhui.domain.lending.errors import (
    AmountOutOfRange,
    InvalidProduct,
    RateOutOfRange,
    TermOutOfRange,
)
from puhui.domain.money import Rounding, format_yuan


class RepaymentMethod(Enum):
    EQUAL_INSTALMENT = "equal-instalment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_FIRST = "interest-first"  # 先息后本
    BULLET = "bullet"  # 一次还本付息
    DAILY_REVOLVING = "daily-revolving"  # 随借随还, 按日计息

    @classmethod
    def parse(cls, text: str) -> RepaymentMethod:
        normalised = text.strip().lower().replace("_", "-").replace("installment", "instalment")
        for method in cls:
            if method.value == normalised:
                return method
        choices = ", ".join(m.value for m in cls)
        raise InvalidInput(f"unknown repayment method {text!r}; choose one of {choices}")

    @property
    def has_schedule(self) -> bool:
        return self is not RepaymentMethod.DAILY_REVOLVING


class Component(Enum):
    """What a due amount is for; the waterfall orders these."""

    PENALTY = "penalty"  # 罚息: penalty interest on overdue principal
    COMPOUND = "compound"  # 复利: compound interest on overdue interest
    INTEREST = "interest"
    PRINCIPAL = "principal"


class EarlyRepaymentMode(Enum):
    """After a partial early repayment, keep the term and lower the instalment, or the reverse."""

    REDUCE_INSTALMENT = "reduce-instalment"
    REDUCE_TERM = "reduce-term"


DEFAULT_WATERFALL: tuple[Component, ...] = (
    Component.PENALTY,
    Component.COMPOUND,
    Component.INTEREST,
    Component.PRINCIPAL,
)
"""The Chinese contract default: 罚息 → 复利 → 利息 → 本金."""

DEFAULT_PENALTY_UPLIFT = Decimal("0.5")
"""银发〔2003〕251号: the penalty rate is the contract rate plus 30%-50%."""

MAX_TECHNICAL_GRACE_DAYS = 7
"""The 2023 risk-classification measures allow a technical overdue of at most 7 days."""


def validate_waterfall(waterfall: tuple[Component, ...]) -> tuple[Component, ...]:
    """A waterfall must name every component exactly once, or money would be left unallocated."""
    as_tuple = tuple(waterfall)
    if any(not isinstance(c, Component) for c in as_tuple):
        raise InvalidProduct(f"waterfall must list Component values, got {as_tuple!r}")
    if len(as_tuple) != len(Component) or set(as_tuple) != set(Component):
        names = ", ".join(c.value for c in Component)
        raise InvalidProduct(f"waterfall must name each of {names} exactly once")
    return as_tuple


def _check_rate(what: str, rate: Decimal) -> None:
    if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate <= 1:
        raise InvalidProduct(f"{what} must be a Decimal in [0, 1], got {rate!r}")


def _check_int(what: str, value: int, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProduct(f"{what} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"{low} to {high}" if high is not None else f"at least {low}"
        raise InvalidProduct(f"{what} must be {bounds}, got {value}")


@dataclass(frozen=True, slots=True)
class LoanProduct:
    """A loan product as configured by the bank; every loan or receipt is priced within it."""

    code: str
    name: str
    method: RepaymentMethod
    min_annual_rate: Decimal
    max_annual_rate: Decimal
    min_term_months: int
    max_term_months: int
    min_amount_fen: int
    max_amount_fen: int
    basis: DayCountBasis = DayCountBasis.ACT_360
    rounding: Rounding = Rounding.HALF_UP
    penalty_uplift: Decimal = DEFAULT_PENALTY_UPLIFT
    grace_days: int = 0
    waterfall: tuple[Component, ...] = field(default=DEFAULT_WATERFALL)
    settlement_day: int = 20
    early_repayment: EarlyRepaymentMode = EarlyRepaymentMode.REDUCE_INSTALMENT

    def __post_init__(self) -> None:
        if not self.code.strip() or not self.name.strip():
            raise InvalidProduct("product code and name must not be empty")
        if not isinstance(self.method, RepaymentMethod):
            raise InvalidProduct(f"method must be a RepaymentMethod, got {self.method!r}")
        _check_rate("min annual rate", self.min_annual_rate)
        _check_rate("max annual rate", self.max_annual_rate)
        _check_rate("penalty uplift", self.penalty_uplift)
        _check_int("min term months", self.min_term_months, 1)
        _check_int("max term months", self.max_term_months, 1)
        _check_int("min amount fen", self.min_amount_fen, 1)
        _check_int("max amount fen", self.max_amount_fen, 1)
        _check_int("grace days", self.grace_days, 0, MAX_TECHNICAL_GRACE_DAYS)
        # Days 29-31 do not exist in every month; a settlement day must exist in all of them.
        _check_int("settlement day", self.settlement_day, 1, 28)
        for what, low, high in (
            ("annual rate", self.min_annual_rate, self.max_annual_rate),
            ("term", self.min_term_months, self.max_term_months),
            ("amount", self.min_amount_fen, self.max_amount_fen),
        ):
            if low > high:
                raise InvalidProduct(f"min {what} is above the max {what}")
        if not isinstance(self.early_repayment, EarlyRepaymentMode):
            raise InvalidProduct(f"unknown early-repayment mode {self.early_repayment!r}")
        object.__setattr__(self, "waterfall", validate_waterfall(self.waterfall))

    def validate_terms(self, amount_fen: int, annual_rate: Decimal, term_months: int) -> None:
        """Refuse terms outside the product's bounds, naming the broken bound."""
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
            raise AmountOutOfRange(f"amount must be an integer number of fen, got {amount_fen!r}")
        if not self.min_amount_fen <= amount_fen <= self.max_amount_fen:
            raise AmountOutOfRange(
                f"amount {format_yuan(amount_fen)} is outside {format_yuan(self.min_amount_fen)}"
                f" to {format_yuan(self.max_amount_fen)} for product {self.code}",
                details={
                    "amount_fen": amount_fen,
                    "min_amount_fen": self.min_amount_fen,
                    "max_amount_fen": self.max_amount_fen,
                },
            )
        if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite():
            raise RateOutOfRange(f"annual rate must be a finite Decimal, got {annual_rate!r}")
        if not self.min_annual_rate <= annual_rate <= self.max_annual_rate:
            raise RateOutOfRange(
                f"annual rate {annual_rate} is outside {self.min_annual_rate} to "
                f"{self.max_annual_rate} for product {self.code}",
                details={
                    "annual_rate": str(annual_rate),
                    "min_annual_rate": str(self.min_annual_rate),
                    "max_annual_rate": str(self.max_annual_rate),
                },
            )
        if isinstance(term_months, bool) or not isinstance(term_months, int):
            raise TermOutOfRange(f"term must be an integer number of months, got {term_months!r}")
        if not self.min_term_months <= term_months <= self.max_term_months:
            raise TermOutOfRange(
                f"term {term_months} months is outside {self.min_term_months} to "
                f"{self.max_term_months} for product {self.code}",
                details={
                    "term_months": term_months,
                    "min_term_months": self.min_term_months,
                    "max_term_months": self.max_term_months,
                },
            )
