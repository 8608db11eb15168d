"""Revolving receipts (随借随还): balance-days accrual (积数), exact until settlement."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, InvalidRate
from puhui.domain.lending.credit_line import CreditLine
from puhui.domain.lending.errors import EventOutOfOrder, Overpayment
from puhui.domain.lending.interest import balance_days_interest_fen
from puhui.domain.lending.schedule import add_months
from puhui.domain.money import MAX_FEN, Rounding, round_fen

DEFAULT_SETTLEMENT_DAY = 20
"""结息日: interest is settled on the 20th of each month (人民币利率管理规定, art. 20)."""

_ONE_DAY = timedelta(days=1)


class SettlementKind(Enum):
    SETTLEMENT_DAY = "settlement-day"  # 结息日
    REPAYMENT = "repayment"
    PAYOFF = "payoff"


@dataclass(frozen=True, slots=True)
class Settlement:
    """Interest rounded once and charged on ``on``; principal repaid with it; balance after."""

    on: date
    kind: SettlementKind
    interest_fen: int
    principal_fen: int
    balance_fen: int


def _positive_fen(amount_fen: int, what: str) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidAmount(f"{what} must be an integer number of fen, got {amount_fen!r}")
    if not 0 < amount_fen <= MAX_FEN:
        raise InvalidAmount(f"{what} must be positive, got {amount_fen} fen")
    return amount_fen


@dataclass(frozen=True, slots=True)
class RevolvingAccrual:
    """The accrual state of one revolving receipt (借据).

    Each calendar day accrues on the balance at the end of that day: the draw day accrues
    on the drawn amount and the repayment day only on what is left (算头不算尾). The
    accumulated balance × days (积数, fen-days) is an exact integer; interest is rounded
    once, at settlement. Days are actual calendar days; the basis gives the year's days.
    """

    annual_rate: Decimal
    accrued_until: date
    """First day not yet accrued (every earlier day is in ``balance_days_fen``)."""
    balance_fen: int = 0
    balance_days_fen: int = 0
    basis: DayCountBasis = DayCountBasis.ACT_360
    rounding: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        rate = self.annual_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate <= 1:
            raise InvalidRate(f"annual rate must be a Decimal fraction in [0, 1], got {rate!r}")
        for what, value in (("balance", self.balance_fen), ("积数", self.balance_days_fen)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidAmount(f"{what} must be a non-negative fen integer, got {value!r}")

    @classmethod
    def open(
        cls,
        annual_rate: Decimal,
        on: date,
        *,
        basis: DayCountBasis = DayCountBasis.ACT_360,
        rounding: Rounding = Rounding.HALF_UP,
    ) -> RevolvingAccrual:
        return cls(annual_rate, on, basis=basis, rounding=rounding)

    @property
    def interest_exact_fen(self) -> Decimal:
        """Interest accrued since the last settlement, unrounded."""
        return balance_days_interest_fen(
            self.balance_days_fen, self.annual_rate, self.basis.days_in_year
        )

    def accrue_to(self, day: date) -> RevolvingAccrual:
        """Accrue every day before ``day`` on the current balance."""
        if day < self.accrued_until:
            raise EventOutOfOrder(
                f"{day.isoformat()} is before {self.accrued_until.isoformat()}, "
                "which is already accrued",
                details={"date": day.isoformat(), "accrued_until": self.accrued_until.isoformat()},
            )
        days = (day - self.accrued_until).days
        if days == 0:
            return self
        return self._evolve(day, self.balance_fen, self.balance_days_fen + self.balance_fen * days)

    def draw(self, on: date, amount_fen: int) -> RevolvingAccrual:
        _positive_fen(amount_fen, "draw amount")
        accrued = self.accrue_to(on)
        return accrued._evolve(
            accrued.accrued_until, accrued.balance_fen + amount_fen, accrued.balance_days_fen
        )

    def repay(self, on: date, principal_fen: int) -> tuple[RevolvingAccrual, Settlement]:
        """Repay principal on ``on``: interest to the day before is settled with it."""
        _positive_fen(principal_fen, "repaid principal")
        accrued = self.accrue_to(on)
        if principal_fen > accrued.balance_fen:
            raise Overpayment(principal_fen, accrued.balance_fen)
        kind = (
            SettlementKind.PAYOFF
            if principal_fen == accrued.balance_fen
            else SettlementKind.REPAYMENT
        )
        return accrued._settled(on, kind, principal_fen)

    def payoff(self, on: date) -> tuple[RevolvingAccrual, Settlement]:
        """Repay the whole balance and the interest accrued to the day before."""
        accrued = self.accrue_to(on)
        if accrued.balance_fen == 0 and accrued.balance_days_fen == 0:
            raise Overpayment(0, 0, message="nothing is outstanding to pay off")
        return accrued._settled(on, SettlementKind.PAYOFF, accrued.balance_fen)

    def settle(self, on: date) -> tuple[RevolvingAccrual, Settlement]:
        """Settle at the end of ``on`` (a 结息日): ``on`` itself accrues into this settlement."""
        accrued = self.accrue_to(on + _ONE_DAY)
        return accrued._settled(on, SettlementKind.SETTLEMENT_DAY, 0)

    def _settled(
        self, on: date, kind: SettlementKind, principal_fen: int
    ) -> tuple[RevolvingAccrual, Settlement]:
        interest = round_fen(self.interest_exact_fen, self.rounding)
        balance = self.balance_fen - principal_fen
        after = self._evolve(self.accrued_until, balance, 0)
        return after, Settlement(on, kind, interest, principal_fen, balance)

    def _evolve(
        self, accrued_until: date, balance_fen: int, balance_days_fen: int
    ) -> RevolvingAccrual:
        # Simulations and reference checks run this for every day: skip re-validating what the
        # methods above already guarantee (non-negative integers, a valid rate).
        new = object.__new__(RevolvingAccrual)
        put = object.__setattr__
        put(new, "annual_rate", self.annual_rate)
        put(new, "accrued_until", accrued_until)
        put(new, "balance_fen", balance_fen)
        put(new, "balance_days_fen", balance_days_fen)
        put(new, "basis", self.basis)
        put(new, "rounding", self.rounding)
        return new


def settlement_dates(start: date, end: date, settlement_day: int) -> list[date]:
    """Every ``settlement_day`` of a month from ``start`` to ``end``, both included."""
    if not 1 <= settlement_day <= 28:
        raise InvalidInput(f"settlement day must be 1 to 28, got {settlement_day}")
    found: list[date] = []
    candidate = date(start.year, start.month, settlement_day)
    while candidate <= end:
        if candidate >= start:
            found.append(candidate)
        candidate = add_months(candidate, 1)
    return found


class LineEventKind(Enum):
    DRAW = "draw"
    REPAY = "repay"
    PAYOFF = "payoff"


@dataclass(frozen=True, slots=True)
class LineEvent:
    on: date
    kind: LineEventKind
    amount_fen: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, LineEventKind):
            raise InvalidInput(f"event kind must be a LineEventKind, got {self.kind!r}")
        if self.kind is LineEventKind.PAYOFF:
            if self.amount_fen is not None:
                raise InvalidInput("a payoff takes no amount: it repays everything outstanding")
        elif self.amount_fen is None:
            raise InvalidAmount(f"a {self.kind.value} needs an amount")
        else:
            _positive_fen(self.amount_fen, f"{self.kind.value} amount")


@dataclass(frozen=True, slots=True)
class LineSimulation:
    """Every settlement of a simulated line, in order, and where the line ends up."""

    limit_fen: int
    annual_rate: Decimal
    settlements: tuple[Settlement, ...]
    drawn_fen: int
    balance_fen: int
    available_fen: int
    accrued_unsettled_fen: Decimal
    """Interest accrued after the last settlement, through the last event's day, unrounded."""
    end_date: date | None = field(default=None)

    @property
    def interest_fen(self) -> int:
        return sum(s.interest_fen for s in self.settlements)

    @property
    def principal_repaid_fen(self) -> int:
        return sum(s.principal_fen for s in self.settlements)


def simulate_line(
    limit_fen: int,
    annual_rate: Decimal,
    events: Iterable[LineEvent],
    *,
    basis: DayCountBasis = DayCountBasis.ACT_360,
    rounding: Rounding = Rounding.HALF_UP,
    settlement_day: int = DEFAULT_SETTLEMENT_DAY,
    expires_on: date = date.max,
) -> LineSimulation:
    """Run draws and repayments through one line and report every settlement.

    The line's outstanding is accrued as one balance (积数 is additive, so this equals the
    sum over receipts before rounding). Interest is settled at the end of every settlement
    day that has accrued interest, and at every repayment (to the day before it). Events
    must be in date order; same-day events apply in the order given.
    """
    if isinstance(settlement_day, bool) or not isinstance(settlement_day, int):
        raise InvalidInput(f"settlement day must be an integer, got {settlement_day!r}")
    if not 1 <= settlement_day <= 28:
        raise InvalidInput(f"settlement day must be 1 to 28, got {settlement_day}")
    line = CreditLine(limit_fen, expires_on)
    ordered = list(events)
    settlements: list[Settlement] = []
    if not ordered:
        return LineSimulation(limit_fen, annual_rate, (), 0, 0, line.available_fen, Decimal(0))
    for previous, event in itertools.pairwise(ordered):
        if event.on < previous.on:
            raise EventOutOfOrder(
                f"event on {event.on.isoformat()} comes after one on {previous.on.isoformat()}",
                details={"date": event.on.isoformat(), "previous": previous.on.isoformat()},
            )
    first, last = ordered[0].on, ordered[-1].on
    if last >= date.max:
        raise InvalidDate("event dates are out of range")
    pending = settlement_dates(first, last, settlement_day)
    accrual = RevolvingAccrual.open(annual_rate, first, basis=basis, rounding=rounding)
    drawn = 0

    def settle_before(day: date) -> None:
        nonlocal accrual
        while pending and pending[0] < day:
            accrual, settlement = accrual.settle(pending.pop(0))
            if settlement.interest_fen or accrual.balance_fen:
                settlements.append(settlement)

    for event in ordered:
        settle_before(event.on)
        if event.kind is LineEventKind.DRAW:
            amount = event.amount_fen or 0
            line = line.draw(amount, event.on)
            accrual = accrual.draw(event.on, amount)
            drawn += amount
        else:
            if event.kind is LineEventKind.PAYOFF:
                accrual, settlement = accrual.payoff(event.on)
            else:
                accrual, settlement = accrual.repay(event.on, event.amount_fen or 0)
            if settlement.principal_fen:
                line = line.repay(settlement.principal_fen)
            settlements.append(settlement)
    settle_before(last + _ONE_DAY)
    accrual = accrual.accrue_to(last + _ONE_DAY)
    return LineSimulation(
        limit_fen,
        annual_rate,
        tuple(settlements),
        drawn,
        accrual.balance_fen,
        line.available_fen,
        accrual.interest_exact_fen,
        last,
    )
