"""The demo's voucher stage on a generated market, on SQLite and PostgreSQL: tiers, financing,
settlement, a balanced ledger; and how the stage treats what the platform refuses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.demo_supply_chain import (
    DemoSupplyChain,
    Financed,
    Leaf,
    OnboardedCore,
    Settled,
)
from puhui.bootstrap.demo_voucher_desk import platform_voucher_desk
from puhui.cli.demo_report import plain_lines
from puhui.cli.demo_supply_chain import supply_chain_sections
from puhui.domain.clock import FixedClock
from puhui.domain.errors import Conflict
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.voucher_flows import FlowParams, PlannedIssue

START = date(2024, 1, 1)
DAYS = [date(2024, m, 1) for m in range(8, 13)]
LAST_DAY = date(2024, 12, 31)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scf-market")
    generate_market(MarketParams(enterprises=3000, months=12, start=START, seed=5), out)
    return out


@pytest.fixture
def scf_platform(database_url: str) -> Iterator[tuple[Platform, FixedClock]]:
    clock = FixedClock(datetime(2024, 8, 1, 2, 0, tzinfo=UTC))
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade()
    try:
        yield built, clock
    finally:
        built.close()


def _run_months(stage: DemoSupplyChain, clock: FixedClock) -> None:
    stage.onboard(DAYS[0])
    for day in DAYS:
        clock.advance(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC) - clock.now())
        stage.month_started(day)


def test_the_voucher_stage_reaches_tier_two_finances_and_settles_all_that_is_due(
    market: Path, scf_platform: tuple[Platform, FixedClock]
) -> None:
    platform, clock = scf_platform
    desk = platform_voucher_desk(platform, MarketDataSource(market))
    stage = DemoSupplyChain.from_market(desk, market)
    _run_months(stage, clock)
    r = stage.results(LAST_DAY)

    approved = [c for c in r.cores if c.approved]
    assert approved
    assert all(c.limit_fen > 0 and c.discount_rate is not None for c in approved)
    # The plan follows the platform's rules: named suppliers, invoice edges, the facility.
    assert r.refused == Counter()
    assert r.issued > 0
    # Value is conserved: the unsplit vouchers sum to what the cores issued.
    assert sum(leaf.amount_fen for leaf in r.leaves) == r.issued_fen
    tiers = [tier for tier, _, _ in r.tiers()]
    assert tiers[0] == 1
    assert max(tiers) >= 2
    assert sum(m.splits for m in r.months) > 0
    assert sum(m.transfers for m in r.months) > 0
    # Financing: proceeds are face less interest and fees; the ledger holds the income.
    assert r.financed_fen > 0
    assert r.interest_fen > 0
    assert r.proceeds_fen == r.financed_fen - r.interest_fen - r.fee_fen
    earned, fees = r.income_fen
    assert fees == r.fee_fen
    assert earned + -r.ledger.get("1306", 0) == r.interest_fen
    assert earned > 0  # some financed vouchers matured in the window
    # Month by month the books recognised interest before the vouchers settled.
    assert sum(m.earned_fen for m in r.months) > 0
    # Settlement: everything due by the last run is settled, to holders and to the bank.
    settled = sum(m.settled.settled for m in r.months)
    assert settled > 0
    assert r.due_unsettled() == 0
    assert r.overdue_fen == 0
    assert sum(m.settled.to_bank_fen for m in r.months) > 0
    assert sum(m.settled.to_holders_fen for m in r.months) > 0
    count, outstanding = r.outstanding()
    assert outstanding == r.issued_fen - r.settled_fen
    assert count > 0
    assert all(leaf.maturity > DAYS[-1] for leaf in r.leaves if leaf.status != "settled")
    assert r.trial_balance_fen == 0

    text = "\n".join(line for s in supply_chain_sections(r) for line in plain_lines(s))
    assert "tier 2" in text
    assert "trial balance total 0 fen" in text
    assert "none of them due yet" in text


# -- what the stage does with refusals (a desk in memory) ---------------------------------


class RefusedHere(Conflict):
    code = "refused_here"


class FakeDesk:
    """Does what it is asked, in memory, but refuses the transfers to one enterprise."""

    def __init__(self, refuse_transfers_to: str) -> None:
        self.refuse = refuse_transfers_to
        self.vouchers: dict[str, list[object]] = {}
        self.calls: list[str] = []
        self._n = 0

    def onboard(self, core: str, requested_fen: int, as_of: date) -> OnboardedCore:
        return OnboardedCore(core, approved=True, limit_fen=10**14, term_days=365)

    def name_supplier(self, core: str, supplier: str) -> None:
        self.calls.append(f"name {supplier}")

    def _new(self, holder: str, amount: int, tier: int, maturity: date) -> str:
        self._n += 1
        vid = f"v{self._n}"
        self.vouchers[vid] = [holder, amount, tier, maturity, "outstanding"]
        return vid

    def issue(self, issue: PlannedIssue) -> str:
        self.calls.append(f"issue {issue.voucher}")
        return self._new(issue.supplier, issue.amount_fen, 1, issue.maturity)

    def split(self, holder: str, voucher_id: str, amounts: Sequence[int]) -> list[str]:
        parent = self.vouchers[voucher_id]
        assert parent[0] == holder
        assert sum(amounts) == parent[1]
        parent[4] = "split"
        return [self._new(holder, a, parent[2], parent[3]) for a in amounts]  # type: ignore[arg-type]

    def transfer(self, holder: str, voucher_id: str, to: str) -> None:
        if to == self.refuse:
            raise RefusedHere("no")
        v = self.vouchers[voucher_id]
        assert v[0] == holder
        v[0], v[2] = to, v[2] + 1  # type: ignore[operator]
        self.calls.append(f"transfer {voucher_id}")

    def finance(self, holder: str, voucher_id: str) -> Financed:
        v = self.vouchers[voucher_id]
        assert v[0] == holder
        v[4] = "financed"
        self.calls.append(f"finance {voucher_id}")
        return Financed(v[1], 0, 0, v[1])  # type: ignore[arg-type]

    def settle_due(self, on: date) -> Settled:
        return Settled()

    def earn_through(self, day: date) -> int:
        self.calls.append(f"earn {day.isoformat()}")
        return 0

    def leaves(self) -> list[Leaf]:
        return [Leaf(v[2], v[1], v[4], v[3]) for v in self.vouchers.values() if v[4] != "split"]  # type: ignore[arg-type]

    def ledger(self, as_of: date) -> dict[str, int]:
        return {}


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    chain = {"CORE": {"S1": 900_000_00}, "S1": {"T1": 400_000_00}, "T1": {"U1": 200_000_00}}
    months = [date(2025, m, 1) for m in range(1, 4)]
    invoices = pl.DataFrame(
        [
            {"seller_uscc": s, "buyer_uscc": b, "month": m, "amount_fen": a}
            for m in months
            for b, sellers in chain.items()
            for s, a in sellers.items()
        ]
    )
    enterprises = pl.DataFrame(
        {"uscc": ["CORE", "S1", "T1", "U1"], "size_band": ["medium", "small", "micro", "micro"]}
    )
    return enterprises, invoices


ALWAYS = FlowParams(
    seed=1, min_suppliers=1, pass_down=(1.0, 1.0, 1.0), whole_transfer=0.0, finance={}
)


def test_a_refused_step_drops_the_plans_later_steps_on_that_voucher_and_its_parts() -> None:
    enterprises, invoices = _frames()
    desk = FakeDesk(refuse_transfers_to="U1")
    stage = DemoSupplyChain(desk, enterprises, invoices, ALWAYS)
    stage.onboard(date(2025, 2, 1))
    month = stage.month_started(date(2025, 2, 1))
    assert "earn 2025-01-31" in desk.calls  # January's books close before February's work
    # S1 splits and passes a part to T1 (tier 2); T1's pass to U1 is refused.
    assert stage.refused == Counter({"transfer: refused_here": 1})
    assert month.issued == 1
    assert month.splits == 2
    assert month.transfers == 1
    tiers = {leaf.tier for leaf in desk.leaves()}
    assert tiers == {1, 2}
    assert sum(leaf.amount_fen for leaf in desk.leaves()) == 900_000_00


def test_financing_by_the_holders_the_plan_names() -> None:
    enterprises, invoices = _frames()
    desk = FakeDesk(refuse_transfers_to="nobody")
    params = FlowParams(
        seed=1,
        min_suppliers=1,
        pass_down=(1.0, 1.0, 1.0),
        whole_transfer=0.0,
        finance={"micro": 1.0},
    )
    stage = DemoSupplyChain(desk, enterprises, invoices, params)
    stage.onboard(date(2025, 2, 1))
    month = stage.month_started(date(2025, 2, 1))
    held = {v[0]: v[4] for v in desk.vouchers.values() if v[4] != "split"}
    # The micro firms' pieces (T1's kept part, U1's) are financed; S1 (small) keeps its own.
    assert held == {"S1": "outstanding", "T1": "financed", "U1": "financed"}
    assert month.financed == 2
    assert stage.refused == Counter()
