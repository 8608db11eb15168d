"""What servicing stores: products, credit lines and receipts as immutable records."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from puhui.domain.errors import InvalidRate
from puhui.domain.ids import CreditLineId, LoanId, ProductId, ReceiptId
from puhui.domain.lending.delinquency import NON_ACCRUAL_DAYS_PAST_DUE, FiveCategory
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.money import Rounding

LoanAccountId = ReceiptId | LoanId
"""A receipt (借据) or a term loan: both are loan accounts in the sub-ledger."""

RATE_SCALE = 10**8
"""Rates are stored as integers of 1e-8 so that the end of day prices 积数 exactly in SQL."""

MAX_RATE_PLACES = 6
MAX_UPLIFT_PLACES = 2
MAX_LOAN_PRINCIPAL_FEN = 10**9
"""10 million yuan per receipt or loan: the inclusive-finance ceiling per borrower
(单户授信1000万元以下). It also bounds accumulator × rate below 2**63, so SQLite's 64-bit
integers price it exactly."""


class LineStatus(Enum):
    ACTIVE = "active"
    FROZEN = "frozen"


class LoanKind(Enum):
    RECEIPT = "receipt"
    """A draw on a credit line (借据): balance-days interest, settled on the 20th."""
    TERM = "term"
    """A term loan with a schedule: interest accrues pro rata and is billed per instalment."""


class LoanStatus(Enum):
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


def rate_e8(rate: Decimal, *, what: str = "annual rate") -> int:
    """A rate as an exact integer of 1e-8, refusing anything that would need rounding."""
    scaled = rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidRate(f"{what} {rate} has more than 8 decimal places")
    return int(scaled)


def penalty_rate_e8(annual_rate: Decimal, uplift: Decimal) -> int:
    """Penalty rate = contract rate × (1 + uplift) (银发〔2003〕251号), exact in 1e-8."""
    return rate_e8(annual_rate * (1 + uplift), what="penalty rate")


def check_rate_places(annual_rate: Decimal) -> None:
    exponent = annual_rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_RATE_PLACES:
        raise InvalidRate(
            f"annual rate {annual_rate} has more than {MAX_RATE_PLACES} decimal places"
            " (quote it to 0.0001%)"
        )


def price_accumulator_fen(
    accumulator_fen_days: int, rate_e8_value: int, year_days: int, *, half_even: bool
) -> int:
    """Interest on a balance-days accumulator, rounded once: the same integer rule as the SQL."""
    divisor = year_days * RATE_SCALE
    quotient, remainder = divmod(accumulator_fen_days * rate_e8_value, divisor)
    if 2 * remainder > divisor or (
        2 * remainder == divisor and (not half_even or quotient % 2 == 1)
    ):
        quotient += 1
    return quotient


@dataclass(frozen=True, slots=True)
class ProductRecord:
    product_id: ProductId
    product: LoanProduct


@dataclass(frozen=True, slots=True)
class CreditLineRecord:
    line_id: CreditLineId
    enterprise_id: str
    product_id: ProductId
    annual_rate: Decimal
    limit_fen: int
    drawn_fen: int
    opened_on: date
    expiry_date: date
    status: LineStatus
    version: int

    @property
    def available_fen(self) -> int:
        return max(0, self.limit_fen - self.drawn_fen)


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """A receipt (借据) or a term loan, and its sub-ledger balances.

    ``*_accum_fen_days`` are exact balance-days accumulators (积数) since the last
    settlement and ``*_accrued_fen`` their rounded price; ``*_billed_fen`` are settled and
    unpaid. ``memo_*_fen`` are the parts of interest and of penalty plus compound owed that are
    off-balance (non-accrual, 表外).
    """

    loan_id: LoanAccountId
    line_id: CreditLineId | None
    product_id: ProductId
    enterprise_id: str
    annual_rate: Decimal
    rate_e8: int
    penalty_rate_e8: int
    year_days: int
    half_even: bool
    grace_days: int
    settlement_day: int
    non_accrual_days: int
    disbursed_on: date
    maturity_date: date
    principal_fen: int
    kind: LoanKind
    method: RepaymentMethod
    current_period: int
    """The running instalment period of a term loan (0 for a receipt)."""
    next_due_date: date | None
    period_interest_fen: int
    period_principal_fen: int
    period_days: int
    period_days_elapsed: int
    billed_principal_fen: int
    """Principal of instalments billed and not yet paid (term loans; 0 for receipts)."""
    status: LoanStatus
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_accum_fen_days: int
    interest_accrued_fen: int
    penalty_accum_fen_days: int
    penalty_accrued_fen: int
    compound_accum_fen_days: int
    compound_accrued_fen: int
    interest_billed_fen: int
    penalty_billed_fen: int
    compound_billed_fen: int
    billed_due_on: date | None
    overdue_interest_fen: int
    memo_interest_fen: int
    memo_penalty_fen: int
    overdue_since: date | None
    days_past_due: int
    category: FiveCategory
    non_accrual: bool
    accrued_through: date | None
    written_off_fen: int
    recovered_fen: int
    closed_on: date | None
    version: int

    @classmethod
    def new(
        cls,
        *,
        loan_id: LoanAccountId,
        line_id: CreditLineId | None,
        product: LoanProduct,
        product_id: ProductId,
        enterprise_id: str,
        annual_rate: Decimal,
        kind: LoanKind,
        method: RepaymentMethod,
        principal_fen: int,
        disbursed_on: date,
        maturity_date: date,
        current_period: int = 0,
        next_due_date: date | None = None,
        period_interest_fen: int = 0,
        period_principal_fen: int = 0,
        period_days: int = 1,
    ) -> LoanRecord:
        """A just-disbursed loan: terms from the product, every balance but principal at zero."""
        return cls(
            loan_id=loan_id,
            line_id=line_id,
            product_id=product_id,
            enterprise_id=enterprise_id,
            annual_rate=annual_rate,
            rate_e8=rate_e8(annual_rate),
            penalty_rate_e8=penalty_rate_e8(annual_rate, product.penalty_uplift),
            year_days=product.basis.days_in_year,
            half_even=product.rounding is Rounding.HALF_EVEN,
            grace_days=product.grace_days,
            settlement_day=product.settlement_day,
            non_accrual_days=NON_ACCRUAL_DAYS_PAST_DUE,
            disbursed_on=disbursed_on,
            maturity_date=maturity_date,
            principal_fen=principal_fen,
            kind=kind,
            method=method,
            current_period=current_period,
            next_due_date=next_due_date,
            period_interest_fen=period_interest_fen,
            period_principal_fen=period_principal_fen,
            period_days=period_days,
            period_days_elapsed=0,
            billed_principal_fen=0,
            status=LoanStatus.ACTIVE,
            outstanding_principal_fen=principal_fen,
            overdue_principal_fen=0,
            interest_accum_fen_days=0,
            interest_accrued_fen=0,
            penalty_accum_fen_days=0,
            penalty_accrued_fen=0,
            compound_accum_fen_days=0,
            compound_accrued_fen=0,
            interest_billed_fen=0,
            penalty_billed_fen=0,
            compound_billed_fen=0,
            billed_due_on=None,
            overdue_interest_fen=0,
            memo_interest_fen=0,
            memo_penalty_fen=0,
            overdue_since=None,
            days_past_due=0,
            category=FiveCategory.PASS,
            non_accrual=False,
            accrued_through=None,
            written_off_fen=0,
            recovered_fen=0,
            closed_on=None,
            version=1,
        )

    @property
    def income_owed_fen(self) -> int:
        """Interest, penalty and compound owed, accrued or billed (on- and off-balance)."""
        return (
            self.interest_accrued_fen
            + self.penalty_accrued_fen
            + self.compound_accrued_fen
            + self.interest_billed_fen
            + self.penalty_billed_fen
            + self.compound_billed_fen
        )

    @property
    def interest_owed_fen(self) -> int:
        return self.interest_accrued_fen + self.interest_billed_fen

    @property
    def penalty_owed_fen(self) -> int:
        """Penalty and compound interest owed: one receivable account holds both."""
        return (
            self.penalty_accrued_fen
            + self.compound_accrued_fen
            + self.penalty_billed_fen
            + self.compound_billed_fen
        )

    @property
    def unbilled_principal_fen(self) -> int:
        """Principal not yet due: a receipt's before maturity, a term loan's future instalments."""
        return self.outstanding_principal_fen - max(
            self.billed_principal_fen, self.overdue_principal_fen
        )

    @property
    def total_owed_fen(self) -> int:
        return self.outstanding_principal_fen + self.income_owed_fen


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """One instalment of a term loan as stored; ``period_days`` is its accrual period."""

    period: int
    due_date: date
    period_days: int
    principal_fen: int
    interest_fen: int


_LOAN_ENUMS: dict[str, type[Enum]] = {
    "kind": LoanKind,
    "method": RepaymentMethod,
    "status": LoanStatus,
    "category": FiveCategory,
}
_LOAN_DATES = frozenset(
    {
        "disbursed_on",
        "maturity_date",
        "next_due_date",
        "billed_due_on",
        "overdue_since",
        "accrued_through",
        "closed_on",
    }
)


def loan_to_json(loan: LoanRecord) -> str:
    """The whole record as JSON (dates ISO, rates as decimal strings, enums by value)."""
    data: dict[str, Any] = {}
    for item in fields(loan):
        value = getattr(loan, item.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        data[item.name] = value
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def loan_from_json(text: str) -> LoanRecord:
    data = json.loads(text)
    for name, enum in _LOAN_ENUMS.items():
        data[name] = enum(data[name])
    for name in _LOAN_DATES:
        if data[name] is not None:
            data[name] = date.fromisoformat(data[name])
    data["annual_rate"] = Decimal(data["annual_rate"])
    return LoanRecord(**data)
