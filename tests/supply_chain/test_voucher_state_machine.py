"""A Hypothesis state machine over the voucher book: any sequence of issue, accept, split,
transfer, financing and settlement (valid or not) keeps the book's invariants, and the
ledger entries of its financings and settlements balance and clear.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from puhui.domain.errors import PuhuiError
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.supply_chain import (
    BANK_PAYEE,
    VoucherBook,
    VoucherStatus,
    financing_entry,
    settlement_entries,
)

CORES = {"CA": 5_000_000, "CB": 2_000_000}
SUPPLIERS = ("S1", "S2", "S3", "S4")
ENTERPRISES = (*CORES, *SUPPLIERS)
STRANGER = "S9"  # not in the book's enterprises
INVOICES = ("inv-1", "inv-2", "inv-3", "inv-4", "inv-5", "inv-6")
START = date(2026, 1, 1)
MOSTLY = st.sampled_from([True, True, True, True, False])


class VoucherBookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = VoucherBook(facilities_fen=CORES, enterprises=ENTERPRISES)
        self.today = START
        self.next_id = 0
        self.entries: list[JournalEntry] = []
        self.interest: dict[str, int] = {}
        self.holder_when_financed: dict[str, str] = {}
        self.settled_fen: Counter[str] = Counter()

    @initialize()
    def start(self) -> None:
        assert self.book.vouchers() == ()

    # -- helpers -------------------------------------------------------------------------

    def _new_id(self) -> str:
        self.next_id += 1
        return f"V{self.next_id}"

    def _snapshot(self) -> object:
        b = self.book
        return (
            b.vouchers(),
            tuple(b.financings),
            tuple(b.settlements),
            tuple(b.outstanding_fen(c) for c in CORES),
        )

    def _refused_unchanged(self, before: object, error: PuhuiError) -> None:
        assert error.code, error
        assert self._snapshot() == before, f"{error.code} changed the book"

    def _pick(self, data: st.DataObject) -> str:
        """Mostly an outstanding voucher (where rules succeed), sometimes any voucher."""
        every = [v.voucher_id for v in self.book.vouchers()]
        open_ = [
            v.voucher_id for v in self.book.vouchers() if v.status is VoucherStatus.OUTSTANDING
        ]
        any_voucher = data.draw(st.integers(min_value=0, max_value=4)) == 0
        pool = every if any_voucher or not open_ else open_
        return data.draw(st.sampled_from(pool))

    # -- rules ---------------------------------------------------------------------------

    @rule(days=st.integers(min_value=1, max_value=90))
    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(
        core=st.sampled_from(tuple(CORES)),
        holder=st.sampled_from(SUPPLIERS),
        amount=st.integers(min_value=-5, max_value=2_500_000),
        term=st.integers(min_value=-2, max_value=150),
        invoice=st.none() | st.sampled_from(INVOICES),
        accept=MOSTLY,
    )
    def issue(
        self, core: str, holder: str, amount: int, term: int, invoice: str | None, accept: bool
    ) -> None:
        before = self._snapshot()
        voucher_id = self._new_id()
        refusal: str | None = None
        try:
            self.book.issue(
                voucher_id,
                core_id=core,
                holder_id=holder,
                amount_fen=amount,
                issued_on=self.today,
                maturity=self.today + timedelta(days=term),
                invoice_key=invoice,
            )
        except PuhuiError as error:
            self._refused_unchanged(before, error)
            refusal = error.code
        if refusal is not None:
            assert (
                amount <= 0 or term <= 0 or refusal in {"facility_exceeded", "invoice_already_used"}
            )
            return
        assert amount > 0
        assert term > 0
        if accept:
            self.book.accept(voucher_id, by=holder, on=self.today)

    @precondition(lambda self: self.book.vouchers())
    @rule(data=st.data(), by_holder=MOSTLY)
    def accept(self, data: st.DataObject, by_holder: bool) -> None:
        voucher_id = self._pick(data)
        v = self.book.get(voucher_id)
        by = v.holder_id if by_holder else data.draw(st.sampled_from(SUPPLIERS))
        before = self._snapshot()
        try:
            self.book.accept(voucher_id, by=by, on=self.today)
        except PuhuiError as error:
            self._refused_unchanged(before, error)
            assert by != v.holder_id or v.status is not VoucherStatus.PENDING
            return
        assert v.status is VoucherStatus.PENDING
        assert by == v.holder_id

    @precondition(lambda self: self.book.vouchers())
    @rule(
        data=st.data(),
        shares=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=3)
        | st.lists(st.integers(min_value=-1, max_value=100), max_size=4),
        skew=st.sampled_from([0, 0, 0, 0, 0, 1, -1]),
        by_holder=MOSTLY,
    )
    def split(self, data: st.DataObject, shares: list[int], skew: int, by_holder: bool) -> None:
        voucher_id = self._pick(data)
        v = self.book.get(voucher_id)
        by = v.holder_id if by_holder else data.draw(st.sampled_from(SUPPLIERS))
        cuts = [v.amount_fen * share // 100 for share in shares]
        amounts = [*cuts, v.amount_fen - sum(cuts) + skew]
        parts = [(self._new_id(), a) for a in amounts]
        before = self._snapshot()
        try:
            children = self.book.split(voucher_id, parts, by=by, on=self.today)
        except PuhuiError as error:
            self._refused_unchanged(before, error)
            return
        assert v.status is VoucherStatus.OUTSTANDING
        assert by == v.holder_id
        assert skew == 0
        assert len(parts) >= 2
        assert all(a > 0 for a in amounts)
        assert sum(c.amount_fen for c in children) == v.amount_fen
        assert self.book.get(voucher_id).status is VoucherStatus.SPLIT

    @precondition(lambda self: self.book.vouchers())
    @rule(
        data=st.data(),
        to=st.sampled_from((*SUPPLIERS, STRANGER)),
        by_holder=MOSTLY,
    )
    def transfer(self, data: st.DataObject, to: str, by_holder: bool) -> None:
        voucher_id = self._pick(data)
        v = self.book.get(voucher_id)
        by = v.holder_id if by_holder else data.draw(st.sampled_from(SUPPLIERS))
        before = self._snapshot()
        try:
            moved = self.book.transfer(voucher_id, by=by, to=to, on=self.today)
        except PuhuiError as error:
            self._refused_unchanged(before, error)
            return
        assert voucher_id not in self.holder_when_financed, "a financed voucher moved"
        assert v.status is VoucherStatus.OUTSTANDING
        assert to not in {v.holder_id, STRANGER}
        assert moved.tier == v.tier + 1
        assert moved.holders == (*v.holders, to)

    @precondition(lambda self: self.book.vouchers())
    @rule(
        data=st.data(),
        rate=st.sampled_from([Decimal("0"), Decimal("0.0435"), Decimal("0.036"), Decimal("0.12")]),
        fee_rate=st.sampled_from([Decimal("0"), Decimal("0.001"), Decimal("0.0005")]),
        by_holder=MOSTLY,
    )
    def finance(
        self, data: st.DataObject, rate: Decimal, fee_rate: Decimal, by_holder: bool
    ) -> None:
        voucher_id = self._pick(data)
        v = self.book.get(voucher_id)
        by = v.holder_id if by_holder else data.draw(st.sampled_from(SUPPLIERS))
        before = self._snapshot()
        try:
            priced = self.book.finance(
                voucher_id, by=by, on=self.today, annual_rate=rate, fee_rate=fee_rate
            )
        except PuhuiError as error:
            self._refused_unchanged(before, error)
            return
        assert voucher_id not in self.holder_when_financed, "financed twice"
        assert v.status is VoucherStatus.OUTSTANDING
        assert by == v.holder_id
        assert self.today < v.maturity
        self.holder_when_financed[voucher_id] = v.holder_id
        self.interest[voucher_id] = priced.interest_fen
        self.entries.append(financing_entry(f"fin:{voucher_id}", priced, self.today))

    @rule(days=st.integers(min_value=0, max_value=120))
    def settle_due(self, days: int) -> None:
        self.today += timedelta(days=days)
        for voucher_id, payee, amount in self.book.settle_due(self.today):
            v = self.book.get(voucher_id)
            assert v.status is VoucherStatus.SETTLED
            assert v.maturity <= self.today
            assert amount == v.amount_fen
            financed = voucher_id in self.holder_when_financed
            assert payee == (BANK_PAYEE if financed else v.holder_id)
            self.settled_fen[v.root_id] += amount
            self.entries.extend(
                settlement_entries(
                    f"settle:{voucher_id}", v, payee, self.today, self.interest.get(voucher_id, 0)
                )
            )

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def value_is_conserved_per_root(self) -> None:
        live: Counter[str] = Counter()
        for v in self.book.vouchers():
            if v.is_live:
                live[v.root_id] += v.amount_fen
        for v in self.book.vouchers():
            if v.parent_id is None:
                assert live[v.root_id] + self.settled_fen[v.root_id] == v.amount_fen

    @invariant()
    def split_vouchers_are_exactly_their_children(self) -> None:
        for v in self.book.vouchers():
            children = self.book.children(v.voucher_id)
            if v.status is VoucherStatus.SPLIT:
                assert len(children) >= 2
                assert sum(c.amount_fen for c in children) == v.amount_fen
                assert all(c.root_id == v.root_id for c in children)
            else:
                assert children == ()

    @invariant()
    def financed_vouchers_never_move_and_are_financed_once(self) -> None:
        financed_ids = [f.voucher_id for f in self.book.financings]
        assert len(financed_ids) == len(set(financed_ids))
        for voucher_id, holder in self.holder_when_financed.items():
            v = self.book.get(voucher_id)
            assert v.holder_id == holder
            assert v.is_financed
            assert v.status in {VoucherStatus.FINANCED, VoucherStatus.SETTLED}
        for v in self.book.vouchers():
            assert v.tier == len(v.previous_holders) + 1
            assert v.is_financed == (v.voucher_id in self.holder_when_financed)

    @invariant()
    def no_invoice_backs_two_vouchers(self) -> None:
        keys = [v.invoice_key for v in self.book.vouchers() if v.invoice_key is not None]
        assert len(keys) == len(set(keys))

    @invariant()
    def outstanding_never_exceeds_the_facility(self) -> None:
        for core, facility in CORES.items():
            live = sum(
                v.amount_fen for v in self.book.vouchers() if v.core_id == core and v.is_live
            )
            assert self.book.outstanding_fen(core) == live
            assert live <= facility

    @invariant()
    def the_ledger_balances_and_holds_exactly_the_live_financed_vouchers(self) -> None:
        balances: Counter[Account] = Counter()
        for entry in self.entries:
            for p in entry.postings:
                balances[p.account] += p.amount_fen
        assert sum(balances.values()) == 0
        financed_live = [v for v in self.book.vouchers() if v.status is VoucherStatus.FINANCED]
        assert balances[Account.DISCOUNTED_VOUCHERS] == sum(v.amount_fen for v in financed_live)
        assert balances[Account.UNEARNED_DISCOUNT] == -sum(
            self.interest[v.voucher_id] for v in financed_live
        )
        assert balances[Account.VOUCHER_SETTLEMENT_PAYABLE] == 0
        keys = [e.idempotency_key for e in self.entries]
        assert len(keys) == len(set(keys))


VoucherBookMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestVoucherBook = VoucherBookMachine.TestCase
