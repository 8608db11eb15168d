"""Supply-chain finance in the demo: the market's cores issue vouchers, worked on the platform.

The market's medium firms act as core enterprises (``pipelines.voucher_flows``). At the
window's start each is onboarded (its facility decided by the strategy) and names its
suppliers. Then on the first day of each month, once the month before is published, the
platform first settles every voucher due that day (to holders, or to the bank for financed
ones), then works the month's plan: each core confirms its named suppliers' invoices as
payables and issues a voucher on each, the supplier accepts, holders split and transfer parts
down their own suppliers, and some holders discount theirs at the bank, which approves. An
operation the platform refuses is counted by its error code and the plan's later steps on
that voucher are dropped; an issue the platform refuses frees its room in the facility.

All of it goes through a :class:`VoucherDesk`: the platform's supply-chain services
(:class:`PlatformVoucherDesk`), one principal per enterprise and the bank's staff.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import polars as pl

from puhui.domain.errors import PuhuiError
from puhui.market import store
from puhui.pipelines.voucher_cores import select_cores, size_bands_of
from puhui.pipelines.voucher_flows import (
    Facility,
    FlowParams,
    MonthPlan,
    PlannedFinancing,
    PlannedIssue,
    PlannedSplit,
    PlannedTransfer,
    Step,
    VoucherFlowPlanner,
)

logger = logging.getLogger(__name__)

LIVE_STATUSES = frozenset({"pending", "outstanding", "financed", "overdue"})
"""Statuses of a voucher the core still owes (the domain's ``is_live``)."""
DISCOUNT_INTEREST_INCOME = "6014"
FEE_INCOME = "6021"
UNEARNED_DISCOUNT = "1306"


# -- what the demo asks of the platform --------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnboardedCore:
    core: str
    approved: bool
    limit_fen: int = 0
    grade: str | None = None
    discount_rate: Decimal | None = None
    fee_rate: Decimal | None = None
    term_days: int | None = None
    expires_on: date | None = None
    reasons: tuple[str, ...] = ()
    """Why it was not onboarded: the strategy's reason codes, or the refusal's code and message."""


@dataclass(frozen=True, slots=True)
class Financed:
    face_fen: int
    interest_fen: int
    fee_fen: int
    proceeds_fen: int


@dataclass(frozen=True, slots=True)
class Settled:
    """One settlement run."""

    settled: int = 0
    settled_fen: int = 0
    to_bank_fen: int = 0
    to_holders_fen: int = 0
    overdue: int = 0
    overdue_fen: int = 0
    penalty_fen: int = 0


@dataclass(frozen=True, slots=True)
class Leaf:
    """A voucher not split (what someone holds, or held until it was settled)."""

    tier: int
    amount_fen: int
    status: str
    maturity: date


class VoucherDesk(Protocol):
    """The platform's supply-chain operations, as the demo's enterprises and staff use them.

    Each write raises the platform's named error (a :class:`PuhuiError`) when refused.
    """

    def onboard(self, core: str, requested_fen: int, as_of: date) -> OnboardedCore: ...

    def name_supplier(self, core: str, supplier: str) -> None: ...

    def issue(self, issue: PlannedIssue) -> str:
        """Confirm the payable, issue on it, the supplier accepts: the voucher's id."""
        ...

    def split(self, holder: str, voucher_id: str, amounts: Sequence[int]) -> list[str]:
        """The children's ids, in the order of ``amounts``."""
        ...

    def transfer(self, holder: str, voucher_id: str, to: str) -> None: ...

    def finance(self, holder: str, voucher_id: str) -> Financed:
        """The holder requests financing; the bank's staff approve it."""
        ...

    def settle_due(self, on: date) -> Settled: ...

    def earn_through(self, day: date) -> int:
        """Recognise the discount interest earned by the end of ``day``: the fen moved."""
        ...

    def leaves(self) -> list[Leaf]:
        """Every voucher of the demo's cores that was not split."""
        ...

    def ledger(self, as_of: date) -> dict[str, int]:
        """Balances by account code (signed fen: debits positive) as of ``as_of``."""
        ...


# -- the stage ---------------------------------------------------------------------------


@dataclass
class VoucherMonth:
    """What one month's first day did on the platform."""

    day: date
    issued: int = 0
    issued_fen: int = 0
    splits: int = 0
    transfers: int = 0
    transferred_fen: int = 0
    financed: int = 0
    financed_fen: int = 0
    settled: Settled = field(default_factory=Settled)
    earned_fen: int = 0
    """Discount interest recognised through the day before (the previous month's end)."""
    planned_steps: int = 0
    not_issued: dict[str, int] = field(default_factory=dict)


@dataclass
class SupplyChainResults:
    """The demo's supply-chain finance, for its summary."""

    cores: list[OnboardedCore]
    months: list[VoucherMonth]
    refused: Counter[str]
    interest_fen: int
    fee_fen: int
    proceeds_fen: int
    leaves: list[Leaf]
    ledger: dict[str, int]
    trial_balance_fen: int
    last_day: date
    seconds: float

    @property
    def issued(self) -> int:
        return sum(m.issued for m in self.months)

    @property
    def issued_fen(self) -> int:
        return sum(m.issued_fen for m in self.months)

    @property
    def financed_fen(self) -> int:
        return sum(m.financed_fen for m in self.months)

    @property
    def settled_fen(self) -> int:
        return sum(m.settled.settled_fen for m in self.months)

    @property
    def overdue_fen(self) -> int:
        return sum(m.settled.overdue_fen for m in self.months)

    def tiers(self) -> list[tuple[int, int, int]]:
        """(tier, vouchers, amount) of the unsplit vouchers by tier."""
        counts: Counter[int] = Counter()
        amounts: Counter[int] = Counter()
        for leaf in self.leaves:
            counts[leaf.tier] += 1
            amounts[leaf.tier] += leaf.amount_fen
        return [(tier, counts[tier], amounts[tier]) for tier in sorted(counts)]

    def outstanding(self) -> tuple[int, int]:
        """(vouchers, amount) the cores still owe at the end (live vouchers)."""
        live = [leaf for leaf in self.leaves if leaf.status in LIVE_STATUSES]
        return len(live), sum(leaf.amount_fen for leaf in live)

    def due_unsettled(self) -> int:
        """Vouchers due by the last settlement day and still owed (must be 0)."""
        last_run = max((m.day for m in self.months), default=self.last_day)
        return sum(
            1 for leaf in self.leaves if leaf.status in LIVE_STATUSES and leaf.maturity <= last_run
        )

    @property
    def income_fen(self) -> tuple[int, int]:
        """(discount interest earned, fee income) as the ledger holds them (credits > 0)."""
        return (
            -self.ledger.get(DISCOUNT_INTEREST_INCOME, 0),
            -self.ledger.get(FEE_INCOME, 0),
        )


class DemoSupplyChain:
    """Onboards the cores, then works each month's plan through the desk."""

    def __init__(
        self,
        desk: VoucherDesk,
        enterprises: pl.DataFrame,
        invoices: pl.DataFrame,
        params: FlowParams | None = None,
    ) -> None:
        self.desk = desk
        self.enterprises = enterprises
        self.invoices = invoices
        self.params = params or FlowParams()
        self.cores: list[OnboardedCore] = []
        self.months: list[VoucherMonth] = []
        self.refused: Counter[str] = Counter()
        self.interest_fen = 0
        self.fee_fen = 0
        self.proceeds_fen = 0
        self.seconds = 0.0
        self._planner: VoucherFlowPlanner | None = None
        self._ids: dict[str, str] = {}
        """The plan's voucher id -> the platform's."""

    @classmethod
    def from_market(
        cls, desk: VoucherDesk, market_dir: Path, params: FlowParams | None = None
    ) -> DemoSupplyChain:
        enterprises = store.read(market_dir, "enterprises").select("uscc", "size_band")
        invoices = store.read(market_dir, "invoices").select(
            "seller_uscc", "buyer_uscc", "month", "amount_fen"
        )
        return cls(desk, enterprises, invoices, params)

    def onboard(self, as_of: date) -> VoucherFlowPlanner:
        """Onboard the market's cores at ``as_of``, name their suppliers: the month planner."""
        started = time.perf_counter()
        candidates = select_cores(self.enterprises, self.invoices, as_of, self.params)
        facilities, suppliers = {}, {}
        for candidate in candidates:
            onboarded = self.desk.onboard(candidate.core, candidate.requested_fen, as_of)
            self.cores.append(onboarded)
            if not onboarded.approved:
                continue
            named = []
            for supplier in candidate.suppliers:
                try:
                    self.desk.name_supplier(candidate.core, supplier)
                except PuhuiError as exc:
                    self.refused[f"name_supplier: {exc.code}"] += 1
                    continue
                named.append(supplier)
            facilities[candidate.core] = Facility(
                candidate.core, onboarded.limit_fen, onboarded.expires_on, onboarded.term_days
            )
            suppliers[candidate.core] = tuple(named)
        planner = VoucherFlowPlanner(
            facilities, suppliers, size_bands_of(self.enterprises), self.params
        )
        self._planner = planner
        logger.info(
            "supply chain: %d of %d cores onboarded as of %s",
            len(facilities),
            len(candidates),
            as_of,
        )
        self.seconds += time.perf_counter() - started
        return planner

    def month_started(self, day: date) -> VoucherMonth:
        """Settle what is due on ``day``, then work the month's plan (``day`` is a 1st)."""
        planner = self._planner or self.onboard(day)
        started = time.perf_counter()
        # The previous month's books close first: what financed vouchers earned through its
        # last day, then what is due today settles (the rest of its interest with it).
        earned = self.desk.earn_through(day - timedelta(days=1))
        month = VoucherMonth(day, settled=self.desk.settle_due(day), earned_fen=earned)
        plan = planner.plan_month(day, self.invoices)
        month.planned_steps = len(plan.steps)
        month.not_issued = dict(plan.not_issued)
        self._work(plan, month, planner)
        self.months.append(month)
        self.seconds += time.perf_counter() - started
        logger.info(
            "supply chain %s: settled %d, issued %d, %d splits, %d transfers, %d financed",
            day,
            month.settled.settled,
            month.issued,
            month.splits,
            month.transfers,
            month.financed,
        )
        return month

    def _work(self, plan: MonthPlan, month: VoucherMonth, planner: VoucherFlowPlanner) -> None:
        dropped: set[str] = set()
        for step in plan.steps:
            if _in_dropped(step.voucher, dropped):
                continue
            try:
                self._do(step, month)
            except PuhuiError as exc:
                self.refused[f"{_kind(step)}: {exc.code}"] += 1
                dropped.add(step.voucher)
                if isinstance(step, PlannedIssue):
                    planner.forget(step.voucher)

    def _do(self, step: Step, month: VoucherMonth) -> None:
        if isinstance(step, PlannedIssue):
            self._ids[step.voucher] = self.desk.issue(step)
            month.issued += 1
            month.issued_fen += step.amount_fen
        elif isinstance(step, PlannedSplit):
            children = self.desk.split(
                step.holder, self._ids[step.voucher], [amount for _, amount in step.parts]
            )
            for (child, _), platform_id in zip(step.parts, children, strict=True):
                self._ids[child] = platform_id
            month.splits += 1
        elif isinstance(step, PlannedTransfer):
            self.desk.transfer(step.holder, self._ids[step.voucher], step.to)
            month.transfers += 1
            month.transferred_fen += step.amount_fen
        elif isinstance(step, PlannedFinancing):
            financed = self.desk.finance(step.holder, self._ids[step.voucher])
            month.financed += 1
            month.financed_fen += financed.face_fen
            self.interest_fen += financed.interest_fen
            self.fee_fen += financed.fee_fen
            self.proceeds_fen += financed.proceeds_fen

    def results(self, last_day: date) -> SupplyChainResults:
        """The figures of the run, read back from the platform at ``last_day``."""
        ledger = self.desk.ledger(last_day)
        return SupplyChainResults(
            cores=list(self.cores),
            months=list(self.months),
            refused=Counter(self.refused),
            interest_fen=self.interest_fen,
            fee_fen=self.fee_fen,
            proceeds_fen=self.proceeds_fen,
            leaves=self.desk.leaves(),
            ledger=ledger,
            trial_balance_fen=sum(ledger.values()),
            last_day=last_day,
            seconds=self.seconds,
        )


def _in_dropped(voucher: str, dropped: set[str]) -> bool:
    """The step's voucher, or one it was split from, had a step refused."""
    while True:
        if voucher in dropped:
            return True
        parent, sep, _ = voucher.rpartition("/")
        if not sep:
            return False
        voucher = parent


def _kind(step: Step) -> str:
    return {
        PlannedIssue: "issue",
        PlannedSplit: "split",
        PlannedTransfer: "transfer",
        PlannedFinancing: "financing",
    }[type(step)]
