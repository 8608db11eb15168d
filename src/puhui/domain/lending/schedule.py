"""Repayment schedules of term loans: equal instalment, equal principal, interest-first, bullet."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date
from decimal import Decimal

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, InvalidRate
from puhui.domain.lending.errors import MethodNotSupported
from puhui.domain.lending.interest import (
    annuity_payment_fen,
    divide,
    interest_for_days_fen,
    monthly_interest_fen,
)
from puhui.domain.lending.product import EarlyRepaymentMode, RepaymentMethod
from puhui.domain.money import MAX_FEN, Rounding, round_fen

MAX_TERM_MONTHS = 600
"""Fifty years: anything longer is a typing mistake, not a loan."""


@dataclass(frozen=True, slots=True)
class Instalment:
    """One period of a schedule; ``balance_fen`` is the principal left after it is paid."""

    period: int
    due_date: date
    principal_fen: int
    interest_fen: int
    payment_fen: int
    balance_fen: int


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """One instalment of a term loan as kept; ``period_days`` is its accrual period."""

    period: int
    due_date: date
    period_days: int
    principal_fen: int
    interest_fen: int


def accrual_schedule(instalments: Sequence[Instalment], start: date) -> list[ScheduledInstalment]:
    """Instalments as kept, each with its accrual days (from the previous due date)."""
    rows: list[ScheduledInstalment] = []
    previous = start
    for instalment in instalments:
        rows.append(
            ScheduledInstalment(
                period=instalment.period,
                due_date=instalment.due_date,
                period_days=(instalment.due_date - previous).days,
                principal_fen=instalment.principal_fen,
                interest_fen=instalment.interest_fen,
            )
        )
        previous = instalment.due_date
    return rows


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28 Feb).

    ``anchor_day`` keeps a schedule on its original day after a short month (31 Mar, not 28).
    This is the one calendar-month step of the lending rules: schedules, settlement days,
    line expiries and statement periods all move by it.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not MINYEAR <= year <= MAXYEAR:
        raise InvalidDate(f"{day.isoformat()} plus {months} months is out of the calendar")
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor_day or day.day, last))


def due_dates(start: date, term_months: int, first_due_date: date | None = None) -> list[date]:
    """Monthly due dates: one month after ``start``, or from ``first_due_date`` on its day."""
    if first_due_date is None:
        return [add_months(start, k, anchor_day=start.day) for k in range(1, term_months + 1)]
    anchor = first_due_date.day
    return [add_months(first_due_date, k, anchor_day=anchor) for k in range(term_months)]


def is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def is_regular_period(start: date, due_date: date) -> bool:
    """A period of exactly one calendar month is charged at annual/12 whatever its days.

    A schedule anchored on the 29th-31st steps from a short month's end back to its day
    (28 Feb → 31 Mar): that is one month too.
    """
    if due_date == add_months(start, 1):
        return True
    following = add_months(start.replace(day=1), 1)
    return (
        is_month_end(start)
        and (due_date.year, due_date.month) == (following.year, following.month)
        and due_date.day > start.day
    )


def period_interest_exact(
    balance_fen: int, annual_rate: Decimal, start: date, due_date: date, basis: DayCountBasis
) -> Decimal:
    """Unrounded interest of one period: annual/12 if regular, else actual days on the basis."""
    if is_regular_period(start, due_date):
        return monthly_interest_fen(balance_fen, annual_rate)
    days = basis.day_count(start, due_date)
    return interest_for_days_fen(balance_fen, annual_rate, days, basis.days_in_year)


def span_interest_exact(
    balance_fen: int, annual_rate: Decimal, start: date, end: date, basis: DayCountBasis
) -> Decimal:
    """Unrounded simple interest from ``start`` to ``end``: whole months counted back from
    ``end`` at annual/12 each, and the broken stub at the front by days on the basis.

    An ``end`` on a month's last day may stand for the 31st (28 Feb is one month after 31 Jan);
    the reading with more whole months, then the shorter stub, wins.
    """
    anchors = (end.day, 31) if is_month_end(end) else (end.day,)
    whole_months, stub_end = max(
        (_months_back(start, end, anchor) for anchor in anchors),
        key=lambda found: (found[0], -(found[1] - start).days),
    )
    stub_days = basis.day_count(start, stub_end)
    monthly = monthly_interest_fen(balance_fen, annual_rate) * whole_months
    return monthly + interest_for_days_fen(balance_fen, annual_rate, stub_days, basis.days_in_year)


def _months_back(start: date, end: date, anchor: int) -> tuple[int, date]:
    """Whole months that fit between ``start`` and ``end``, stepping back on ``anchor``."""
    months = 0
    while add_months(end, -(months + 1), anchor_day=anchor) >= start:
        months += 1
    return months, add_months(end, -months, anchor_day=anchor)


def _check_inputs(principal_fen: int, annual_rate: Decimal, term_months: int) -> None:
    if isinstance(principal_fen, bool) or not isinstance(principal_fen, int):
        raise InvalidAmount(f"principal must be an integer number of fen, got {principal_fen!r}")
    if not 0 < principal_fen <= MAX_FEN:
        raise InvalidAmount(f"principal must be positive, got {principal_fen} fen")
    if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite():
        raise InvalidRate(f"annual rate must be a finite Decimal, got {annual_rate!r}")
    if not 0 <= annual_rate <= 1:
        raise InvalidRate(f"annual rate must be a fraction between 0 and 1, got {annual_rate}")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise InvalidInput(f"term must be an integer number of months, got {term_months!r}")
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise InvalidInput(f"term must be 1 to {MAX_TERM_MONTHS} months, got {term_months}")


def build_schedule(
    principal_fen: int,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    start: date,
    *,
    basis: DayCountBasis = DayCountBasis.ACT_360,
    rounding: Rounding = Rounding.HALF_UP,
    first_due_date: date | None = None,
) -> list[Instalment]:
    """The contractual schedule of a term loan disbursed on ``start``.

    Interest is charged on the rounded carried balance; each period's interest (and the
    level payment) is rounded once; the last instalment takes the whole remaining balance,
    so the principal always sums to the loan.
    """
    _check_inputs(principal_fen, annual_rate, term_months)
    if first_due_date is not None and not start < first_due_date <= add_months(start, 2):
        raise InvalidDate(
            f"first due date {first_due_date} must be after {start} and within two months of it"
        )
    dates = due_dates(start, term_months, first_due_date)
    return _amortise(
        principal_fen,
        annual_rate,
        method,
        start,
        dates,
        basis=basis,
        rounding=rounding,
        first_period=1,
    )


def reamortise(
    balance_fen: int,
    annual_rate: Decimal,
    method: RepaymentMethod,
    start: date,
    remaining_due_dates: Sequence[date],
    *,
    mode: EarlyRepaymentMode = EarlyRepaymentMode.REDUCE_INSTALMENT,
    kept_payment_fen: int | None = None,
    basis: DayCountBasis = DayCountBasis.ACT_360,
    rounding: Rounding = Rounding.HALF_UP,
    first_period: int = 1,
) -> list[Instalment]:
    """The new schedule after a partial early repayment that left ``balance_fen``.

    ``start`` is where interest now runs from (the prepayment date, interest to it having
    been settled) and ``remaining_due_dates`` the unchanged due dates still ahead; the first
    new period is broken (actual days) unless it is exactly one month long.

    REDUCE_INSTALMENT keeps every remaining due date and lowers the payment. REDUCE_TERM keeps
    ``kept_payment_fen`` — the level payment for equal instalment, the level principal for
    equal principal — and drops the due dates that are no longer needed. Interest-first and
    bullet loans repay principal at maturity, so both modes keep the term and lower interest.
    """
    if not remaining_due_dates:
        raise InvalidInput("no due dates remain to re-amortise over")
    _check_inputs(balance_fen, annual_rate, len(remaining_due_dates))
    dates = list(remaining_due_dates)
    if any(b <= a for a, b in zip([start, *dates], dates, strict=False)):
        raise InvalidDate("remaining due dates must be after the start and strictly increasing")
    if isinstance(first_period, bool) or not isinstance(first_period, int) or first_period < 1:
        raise InvalidInput(f"first period must be a positive integer, got {first_period!r}")
    kept: int | None = None
    if mode is EarlyRepaymentMode.REDUCE_TERM and method in (
        RepaymentMethod.EQUAL_INSTALMENT,
        RepaymentMethod.EQUAL_PRINCIPAL,
    ):
        if isinstance(kept_payment_fen, bool) or not isinstance(kept_payment_fen, int):
            raise InvalidInput("reducing the term needs the payment (or principal) to keep")
        if kept_payment_fen <= 0:
            raise InvalidAmount(f"kept payment must be positive, got {kept_payment_fen} fen")
        kept = kept_payment_fen
    return _amortise(
        balance_fen,
        annual_rate,
        method,
        start,
        dates,
        basis=basis,
        rounding=rounding,
        first_period=first_period,
        kept_fen=kept,
    )


def _amortise(
    principal_fen: int,
    annual_rate: Decimal,
    method: RepaymentMethod,
    start: date,
    dates: list[date],
    *,
    basis: DayCountBasis,
    rounding: Rounding,
    first_period: int,
    kept_fen: int | None = None,
) -> list[Instalment]:
    if method is RepaymentMethod.BULLET:
        # Simple interest over the notional monthly periods (the same total as interest-first,
        # rounded once); a lone maturity date is split into whole months and a stub.
        if len(dates) == 1:
            exact = span_interest_exact(principal_fen, annual_rate, start, dates[0], basis)
        else:
            exact = period_interest_exact(
                principal_fen, annual_rate, start, dates[0], basis
            ) + monthly_interest_fen(principal_fen, annual_rate) * (len(dates) - 1)
        interest = round_fen(exact, rounding)
        return [
            Instalment(
                first_period,
                dates[-1],
                principal_fen,
                interest,
                principal_fen + interest,
                0,
            )
        ]
    if method is RepaymentMethod.DAILY_REVOLVING:
        raise MethodNotSupported(
            "a daily-revolving receipt has no schedule: it accrues on balance-days"
        )
    n = len(dates)
    level_fen = _level_amount(
        principal_fen, annual_rate, method, n, rounding=rounding, kept_fen=kept_fen
    )
    rows: list[Instalment] = []
    balance = principal_fen
    for index, due in enumerate(dates):
        regular = round_fen(monthly_interest_fen(balance, annual_rate), rounding)
        if index == 0:
            interest = round_fen(
                period_interest_exact(balance, annual_rate, start, due, basis), rounding
            )
        else:
            interest = regular
        last = index == n - 1
        if method is RepaymentMethod.EQUAL_INSTALMENT:
            # Principal follows the regular split even in a broken first period, so a long
            # stub raises the first payment instead of making principal negative.
            wanted = level_fen - regular
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            wanted = level_fen
        else:
            wanted = 0
        principal = balance if last else max(0, min(balance, wanted))
        balance -= principal
        rows.append(
            Instalment(
                first_period + index, due, principal, interest, principal + interest, balance
            )
        )
        if balance == 0 and kept_fen is not None:
            break
    return rows


def _level_amount(
    principal_fen: int,
    annual_rate: Decimal,
    method: RepaymentMethod,
    periods: int,
    *,
    rounding: Rounding,
    kept_fen: int | None,
) -> int:
    """The level payment (equal instalment) or level principal (equal principal), rounded once."""
    if kept_fen is not None:
        return kept_fen
    if method is RepaymentMethod.EQUAL_INSTALMENT:
        return round_fen(annuity_payment_fen(principal_fen, annual_rate, periods), rounding)
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        return round_fen(divide(Decimal(principal_fen), Decimal(periods)), rounding)
    return 0
