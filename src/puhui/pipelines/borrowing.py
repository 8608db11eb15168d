"""The market's enterprises as borrowers: they draw when their true needs arise, repay from cash.

A line the bank opens is not money the enterprise wants all at once. In the lending
simulation an enterprise draws on its line in the month a funding need of its arises
(``truth/need_events``), as much as the need calls for and the line has available, for as
long as the need lasts; it repays on the repayment day from the month's free cash (the
market oracle), partly when the cash falls short. The world may read the truth to play the
enterprise; the bank's decisions never do. Every draw and repayment goes through the
servicing use cases, so each is a balanced ledger entry.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import polars as pl

from puhui.domain.errors import NotFound
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.lending.schedule import add_months
from puhui.market import store
from puhui.market.oracle import RepaymentCapacity
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.services.servicing.lines import draw
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.receipts import repay
from puhui.services.servicing.records import LineStatus

DRAW_DAYS = 28
"""A need is drawn on one of the first 28 days of its month (every month has them)."""
ACTOR = "system:simulation"


class CashSource(Protocol):
    """What the world says an enterprise can pay in a month (``MarketOracle``)."""

    def capacity(self, uscc: str, month: date) -> RepaymentCapacity: ...


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


@dataclass(frozen=True, slots=True)
class Need:
    """One true funding need: when it arises, how much cash, for how many months."""

    need_id: str
    uscc: str
    month: date
    amount_fen: int
    duration_months: int

    @property
    def draw_day(self) -> date:
        """The day of its month the enterprise draws: spread over the month, the same each run."""
        return self.month + timedelta(days=zlib.crc32(self.need_id.encode()) % DRAW_DAYS)


@dataclass(frozen=True)
class NeedBook:
    """The needs of a window by enterprise (in draw order), and the need behind each application."""

    by_enterprise: Mapping[str, tuple[Need, ...]]
    behind_application: Mapping[str, Need]

    def of(self, uscc: str) -> tuple[Need, ...]:
        return self.by_enterprise.get(uscc, ())


def need_book(events: pl.DataFrame, application_needs: pl.DataFrame) -> NeedBook:
    """From ``need_events`` rows and (application_id, need_id) pairs of ``applications_truth``."""
    needs = [
        Need(r["need_id"], r["uscc"], r["month"], int(r["amount_fen"]), int(r["duration_months"]))
        for r in events.iter_rows(named=True)
    ]
    by_enterprise: dict[str, list[Need]] = {}
    for need in sorted(needs, key=lambda n: (n.draw_day, n.need_id)):
        by_enterprise.setdefault(need.uscc, []).append(need)
    by_id = {n.need_id: n for n in needs}
    behind = {
        app: by_id[need]
        for app, need in application_needs.select("application_id", "need_id").iter_rows()
        if need in by_id
    }
    return NeedBook({k: tuple(v) for k, v in by_enterprise.items()}, behind)


def read_needs(market_dir: Path, first_day: date, last_day: date) -> NeedBook:
    """The market's true needs arising in ``[first_day, last_day]`` (truth: the world's side)."""
    events = (
        store.scan(market_dir, "need_events")
        .filter(pl.col("month").is_between(month_of(first_day), last_day))
        .collect()
    )
    linked = (
        store.scan(market_dir, "applications_truth")
        .filter(pl.col("need_id").is_not_null())
        .select("application_id", "need_id")
        .collect()
    )
    return need_book(events, linked)


@dataclass(frozen=True, slots=True)
class PlannedDraw:
    amount_fen: int
    maturity: date
    capped: bool
    """The need was larger than what the line had available."""


def plan_draw(
    wanted_fen: int, duration_months: int, *, on: date, available_fen: int, expiry: date
) -> PlannedDraw | None:
    """As much as wanted within what is available, for the need's months within the line's life.

    ``None`` when nothing can be drawn (no limit left, or the line ends today).
    """
    amount = min(wanted_fen, available_fen)
    maturity = min(add_months(on, duration_months), expiry)
    if amount <= 0 or maturity <= on:
        return None
    return PlannedDraw(amount, maturity, amount < wanted_fen)


@dataclass
class SimulatedReceipt:
    receipt_id: str
    line_id: str
    uscc: str
    principal_fen: int
    drawn_on: date
    maturity: date
    term_months: int
    pd: Decimal | None
    need_id: str | None
    """The true need it was drawn for; ``None`` for an application with none behind it."""


@dataclass(frozen=True, slots=True)
class HeldLine:
    line_id: str
    pd: Decimal | None
    """The 12-month PD the assessment gave when the line was opened."""


@dataclass(frozen=True, slots=True)
class MonthUtilisation:
    """The lines in force at a month end and the month's draws."""

    month: date
    lines: int
    limit_fen: int
    drawn_fen: int
    """Principal drawn and not yet repaid on those lines at the month end."""
    draws: int
    draws_fen: int

    @property
    def utilisation(self) -> float | None:
        return self.drawn_fen / self.limit_fen if self.limit_fen else None


def overall_utilisation(months: Sequence[MonthUtilisation]) -> float | None:
    """Month-end drawn over month-end limits, summed over the months (limit-weighted mean)."""
    limit = sum(m.limit_fen for m in months)
    return sum(m.drawn_fen for m in months) / limit if limit else None


def instalment_due(receipt: SimulatedReceipt, on: date, owed: LoanAccount) -> int:
    """Interest and penalties owed plus the principal an even amortisation expects by ``on``."""
    if on >= receipt.maturity:
        return owed.total_owed_fen
    elapsed = (on.year - receipt.drawn_on.year) * 12 + on.month - receipt.drawn_on.month
    scheduled_left = receipt.principal_fen * max(0, receipt.term_months - elapsed)
    scheduled_left //= receipt.term_months
    principal_due = max(0, owed.outstanding_principal_fen - scheduled_left)
    return owed.income_owed_fen + principal_due


def _months_between(first: date, last: date) -> int:
    return max(1, (last.year - first.year) * 12 + last.month - first.month)


class Borrowers:
    """The enterprises holding lines: their draws, their repayments, their lines' use."""

    def __init__(
        self,
        servicing: Callable[[], ServicingUnitOfWork],
        cash: CashSource,
        needs: NeedBook,
        channel: CollectingChannel | None = None,
    ) -> None:
        self.servicing = servicing
        self.cash = cash
        self.needs = needs
        self.channel = channel
        """Where each repayment is collected (its record apart from the books), if anywhere."""
        self.lines: dict[str, HeldLine] = {}
        """USCC -> its line."""
        self.receipts: dict[str, SimulatedReceipt] = {}
        self.active: dict[str, SimulatedReceipt] = {}
        """Receipts not yet repaid in full (the ones that may owe something)."""
        self.repaid_fen = 0
        self.draw_outcomes: Counter[str] = Counter()
        """Per draw wish: 'in_full', 'capped' (limit short), 'frozen', 'expired', 'no_limit'."""
        self.payment_outcomes: Counter[str] = Counter()
        """Per amount due on a repayment day: 'in_full', 'partial', 'none' (no cash)."""
        self.utilisation: list[MonthUtilisation] = []
        self._waiting: dict[date, list[Need]] = {}
        self._cash_left: dict[str, int] = {}
        self._cash_month: date | None = None
        self._month_draws: list[int] = []

    # --- draws ---------------------------------------------------------------------------

    def line_opened(
        self,
        uscc: str,
        line_id: str,
        *,
        on: date,
        application_id: str,
        requested_fen: int,
        term_months: int,
        pd: Decimal | None,
    ) -> None:
        """Draw for the need behind the application now; wait for the enterprise's later needs.

        An application with no true need behind it (a fraud ring's, a packaged one) takes
        what it asked for at once: that money was never meant for a business need.
        """
        self.lines[uscc] = HeldLine(line_id, pd)
        need = self.needs.behind_application.get(application_id)
        if need is None:
            self._draw(uscc, requested_fen, term_months, on=on, key=f"draw-{application_id}")
        else:
            self._draw_need(need, on)
        for later in self.needs.of(uscc):
            if later is need or later.month < month_of(on):
                continue
            self._waiting.setdefault(max(later.draw_day, on), []).append(later)

    def draw_for_needs(self, on: date) -> None:
        """The needs of line holders that arise today: each draws what it calls for."""
        for need in self._waiting.pop(on, ()):
            self._draw_need(need, on)

    def _draw_need(self, need: Need, on: date) -> None:
        self._draw(
            need.uscc,
            need.amount_fen,
            need.duration_months,
            on=on,
            key=f"draw-{need.need_id}",
            need_id=need.need_id,
        )

    def _draw(
        self,
        uscc: str,
        wanted_fen: int,
        months: int,
        *,
        on: date,
        key: str,
        need_id: str | None = None,
    ) -> None:
        held = self.lines[uscc]
        with self.servicing() as uow:
            line = uow.lines.get(CreditLineId(held.line_id))
        if line is None:
            raise NotFound(f"no credit line {held.line_id}", details={"line_id": held.line_id})
        if line.status is LineStatus.FROZEN:
            self.draw_outcomes["frozen"] += 1
            return
        if on > line.expiry_date:
            self.draw_outcomes["expired"] += 1
            return
        plan = plan_draw(
            wanted_fen, months, on=on, available_fen=line.available_fen, expiry=line.expiry_date
        )
        if plan is None:
            self.draw_outcomes["no_limit" if line.available_fen <= 0 else "expired"] += 1
            return
        result = draw(
            self.servicing,
            CreditLineId(held.line_id),
            amount_fen=plan.amount_fen,
            on=on,
            maturity_date=plan.maturity,
            idempotency_key=key,
            actor=ACTOR,
        )
        self.draw_outcomes["capped" if plan.capped else "in_full"] += 1
        self._month_draws.append(plan.amount_fen)
        self.receipts[result.receipt_id] = self.active[result.receipt_id] = SimulatedReceipt(
            receipt_id=result.receipt_id,
            line_id=held.line_id,
            uscc=uscc,
            principal_fen=plan.amount_fen,
            drawn_on=on,
            maturity=plan.maturity,
            term_months=_months_between(on, plan.maturity),
            pd=held.pd,
            need_id=need_id,
        )

    def renewed(
        self, old_id: str, new_id: str, principal_fen: int, on: date, maturity: date
    ) -> None:
        """A receipt renewed without principal repayment (无还本续贷): from ``on`` its principal
        is the new receipt's, repaid as any other; the old one still owes its interest."""
        old = self.receipts[old_id]
        self.receipts[new_id] = self.active[new_id] = SimulatedReceipt(
            receipt_id=new_id,
            line_id=old.line_id,
            uscc=old.uscc,
            principal_fen=principal_fen,
            drawn_on=on,
            maturity=maturity,
            term_months=_months_between(on, maturity),
            pd=old.pd,
            need_id=old.need_id,
        )

    # --- repayments ----------------------------------------------------------------------

    def _cash_of(self, uscc: str, on: date) -> int:
        """What is left this month of the enterprise's free cash (one purse for all receipts)."""
        month = month_of(on)
        if month != self._cash_month:
            self._cash_month, self._cash_left = month, {}
        if uscc not in self._cash_left:
            capacity = self.cash.capacity(uscc, month)
            self._cash_left[uscc] = 0 if capacity.in_default else capacity.cash_available_fen
        return self._cash_left[uscc]

    def collect(self, on: date, *, maturing_only: bool) -> None:
        """Each receipt due pays what it owes, as far as the month's cash still allows."""
        due_today = [r for r in self.active.values() if not maturing_only or r.maturity == on]
        if not due_today:
            return
        with self.servicing() as uow:
            owed_by_receipt = {
                r.receipt_id: uow.loans.get(ReceiptId(r.receipt_id)) for r in due_today
            }
        for receipt in due_today:
            owed = owed_by_receipt[receipt.receipt_id]
            if owed is None or owed.status is not LoanStatus.ACTIVE:
                self.active.pop(receipt.receipt_id, None)
                continue
            due = instalment_due(receipt, on, owed)
            if due <= 0:
                continue
            paid = min(due, self._cash_of(receipt.uscc, on))
            self.payment_outcomes["in_full" if paid == due else "partial" if paid else "none"] += 1
            if paid <= 0:
                continue
            order_id = f"repay-{receipt.receipt_id}-{on.isoformat()}"
            result = repay(
                self.servicing,
                ReceiptId(receipt.receipt_id),
                amount_fen=paid,
                on=on,
                idempotency_key=order_id,
                actor=ACTOR,
            )
            if self.channel is not None:
                self.channel.collected(on, order_id, receipt.receipt_id, result.amount_fen)
            self._cash_left[receipt.uscc] -= result.amount_fen
            self.repaid_fen += result.amount_fen
            if result.closed:
                self.active.pop(receipt.receipt_id, None)

    # --- utilisation ---------------------------------------------------------------------

    def record_month_end(self, day: date) -> None:
        """Limits and drawn principal of the lines in force at ``day`` (after its end of day)."""
        lines = limit = drawn = 0
        with self.servicing() as uow:
            for held in self.lines.values():
                line = uow.lines.get(CreditLineId(held.line_id))
                if line is None or not line.opened_on <= day <= line.expiry_date:
                    continue
                lines += 1
                limit += line.limit_fen
                drawn += line.drawn_fen
        self.utilisation.append(
            MonthUtilisation(
                month_of(day), lines, limit, drawn, len(self._month_draws), sum(self._month_draws)
            )
        )
        self._month_draws = []
