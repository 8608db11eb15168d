"""What the portfolio dashboards show: typed, exact figures read from the daily aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from puhui.domain.lending.delinquency import FiveCategory

RATE_PLACES = Decimal("0.0001")
"""Shares and rates are Decimals rounded half-up to 0.01 % (four places)."""
PPM = 1_000_000
"""PDs are summed in the aggregates as integer parts per million."""


def share(part: int, whole: int) -> Decimal | None:
    """``part / whole`` rounded half-up to four places; None when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


class DpdBucket(Enum):
    """Days-past-due buckets; each holds loans up to ``upper_days`` (None: no bound)."""

    CURRENT = "current"
    DPD_1_30 = "1-30"
    DPD_31_60 = "31-60"
    DPD_61_90 = "61-90"
    DPD_90_PLUS = "90+"

    @property
    def upper_days(self) -> int | None:
        return _UPPER[self]


_UPPER = {
    DpdBucket.CURRENT: 0,
    DpdBucket.DPD_1_30: 30,
    DpdBucket.DPD_31_60: 60,
    DpdBucket.DPD_61_90: 90,
    DpdBucket.DPD_90_PLUS: None,
}

CLOSED = "closed"
WRITTEN_OFF = "written_off"
ROLL_TARGETS = (*(b.value for b in DpdBucket), CLOSED, WRITTEN_OFF)
"""Where a loan can be a month later: a bucket, repaid and closed, or written off."""

BAD30_AFTER_DAYS = 30
BAD90_AFTER_DAYS = 90
"""A loan is "30+" once more than 30 days past due (the 31-60 bucket or worse) and "90+"
once more than 90 (the 90+ bucket, the 次级 floor). Vintages count a loan bad from the
first day it was."""


class GroupBy(Enum):
    CHANNEL = "channel"
    BRANCH = "branch"


@dataclass(frozen=True, slots=True)
class ProductBalances:
    product_id: str
    loans_active: int
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_receivable_fen: int
    """Accrued and billed interest not yet paid (on- and off-balance)."""
    penalty_receivable_fen: int
    """Penalty and compound interest accrued and billed, not yet paid."""
    non_accrual_interest_fen: int
    """Of the interest and penalties owed, the part kept off-balance (beyond 90 DPD)."""
    lines_open: int
    """Lines not expired (frozen ones included)."""
    lines_frozen: int
    limit_fen: int
    drawn_fen: int
    available_fen: int
    """What open, unfrozen lines could still draw."""


@dataclass(frozen=True, slots=True)
class BucketFigure:
    name: str
    loans: int
    principal_fen: int
    principal_share: Decimal | None


@dataclass(frozen=True, slots=True)
class RollFigure:
    from_bucket: str
    to_bucket: str
    loans: int
    principal_fen: int
    """Balance at the start of the month of the loans that moved this way."""
    rate: Decimal | None
    """Share of the from-bucket's opening balance that moved to ``to_bucket``."""


@dataclass(frozen=True, slots=True)
class LoanChangeFigure:
    """Active loans under an approved contract change of one kind on the report's date."""

    kind: str
    """``renewal`` (the new loan of a 无还本续贷), ``extension`` (展期) or
    ``restructuring`` (重组)."""
    loans: int
    principal_fen: int
    non_performing_loans: int


LOAN_CHANGE_KINDS = ("renewal", "extension", "restructuring")


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    as_of: date
    products: tuple[ProductBalances, ...]
    total: ProductBalances
    dpd_buckets: tuple[BucketFigure, ...]
    categories: tuple[BucketFigure, ...]
    """五级分类 正常/关注/次级/可疑/损失, best first."""
    roll_from: date | None
    """The month end the roll rates start from; None when no states were kept for it."""
    roll_rates: tuple[RollFigure, ...]
    loan_changes: tuple[LoanChangeFigure, ...] = ()
    """Renewed, extended and restructured loans, one figure per kind (zeros included)."""

    @property
    def npl_ratio(self) -> Decimal | None:
        """不良率: 次级, 可疑 and 损失 over all outstanding principal."""
        bad = sum(
            c.principal_fen for c in self.categories if FiveCategory(c.name).is_non_performing
        )
        return share(bad, sum(c.principal_fen for c in self.categories))


@dataclass(frozen=True, slots=True)
class PortfolioPoint:
    """One date of the portfolio's time series (month ends and the latest date)."""

    as_of: date
    outstanding_principal_fen: int
    loans_active: int
    dpd30_principal_fen: int
    npl_principal_fen: int

    @property
    def dpd30_ratio(self) -> Decimal | None:
        return share(self.dpd30_principal_fen, self.outstanding_principal_fen)

    @property
    def npl_ratio(self) -> Decimal | None:
        return share(self.npl_principal_fen, self.outstanding_principal_fen)


@dataclass(frozen=True, slots=True)
class OriginationFigure:
    """Applications and automatic decisions of one day (or a whole range) and one group."""

    day: date | None
    """None on a range's totals."""
    group: str | None
    """The channel or branch code; None on totals or where no branch was recorded."""
    applications: int
    decided: int
    approved: int
    declined: int
    referred: int

    @property
    def approval_rate(self) -> Decimal | None:
        return share(self.approved, self.decided)


@dataclass(frozen=True, slots=True)
class OriginationReport:
    first_day: date
    last_day: date
    by: GroupBy
    days: tuple[OriginationFigure, ...]
    """Per day and group, in day then group order."""
    groups: tuple[OriginationFigure, ...]
    """Per group over the whole range."""
    total: OriginationFigure


@dataclass(frozen=True, slots=True)
class Vintage:
    """One disbursement month's curves, indexed by month on book (0 = the month itself)."""

    vintage: date
    """First day of the disbursement month."""
    loans: int
    principal_fen: int
    bad30_share: tuple[Decimal, ...]
    """Share of the vintage's loans ever 30+ by each month on book (cumulative)."""
    bad90_share: tuple[Decimal, ...]
    bad30_principal_share: tuple[Decimal, ...]
    """The same, weighted by disbursed principal."""
    bad90_principal_share: tuple[Decimal, ...]
    predicted_bad_rate: Decimal | None
    """Mean PD at origination of the vintage's loans that have one (None: none has)."""
    pd_loans: int

    @property
    def months_on_book(self) -> int:
        return len(self.bad90_share) - 1

    @property
    def realised_bad90(self) -> Decimal:
        """Share of loans ever 90+ so far (the last point of the curve)."""
        return self.bad90_share[-1]

    @property
    def realised_bad30(self) -> Decimal:
        return self.bad30_share[-1]


@dataclass(frozen=True, slots=True)
class VintageReport:
    as_of: date
    vintages: tuple[Vintage, ...]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    as_of: date
    portfolio_rebuilt: bool
    """False for a past date: the book's balances are today's, so only origination of that
    day can be rebuilt."""
    rows: int
