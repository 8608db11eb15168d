"""Supply-chain voucher flows on a market: what cores issue, who passes what down, who finances.

The market's side of supply-chain finance (电子债权凭证), as the lending simulation's needs are
the market's side of lending: a pure plan, deterministic for a seed, that the demo then works
through the platform (``bootstrap.demo_supply_chain``). The platform decides (facilities,
acceptance of each operation); the plan only says what the enterprises try.

- **Cores** are the market's medium firms (``enterprises.size_band == 'medium'``) that buy
  from enough suppliers; each names its largest suppliers of the history before the window
  (``pipelines.voucher_cores``) and asks for a facility sized on what it buys from them.
- **Issues.** On the first day of each month, each core pays its named suppliers' invoices
  of the month before (the invoice aggregate seller → core of that month, published that
  day) with one voucher each: face = the aggregate's amount, maturity the first day of a month
  3 to 6 months later (89 to 184 days; maturities on a month's first day are settled by the
  monthly settlement run on their day). An issue that would take the core's outstanding
  vouchers above its facility is not planned.
- **Passing down.** A holder pays its own suppliers (the sellers that invoiced it in the same
  month) with parts of a voucher: it splits the voucher into the part it keeps and one part
  per supplier (never more than that supplier's invoices of the month), and transfers each
  part; or it transfers the whole voucher to one supplier whose invoices cover it. Each
  receiver is one tier further from the core and may pass its part down again, with a
  smaller chance at each tier. Nobody already in a chain receives from it again.
- **Financing.** Each piece at the end of its chain is discounted at the bank by its holder
  with a chance that falls with the holder's size (micro firms are the cash-hungry ones).

Every chance is a hash of the seed and the voucher's own key, so a piece's fate does not
depend on the order in which others were planned.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from puhui.domain.errors import InvalidInput
from puhui.domain.lending.schedule import add_months


@dataclass(frozen=True, slots=True)
class FlowParams:
    """How the market's enterprises use vouchers (the world's behaviour, not the bank's)."""

    seed: int = 7
    max_cores: int = 20
    """At most this many cores take part (the largest buyers from named suppliers)."""
    suppliers_per_core: int = 10
    """Each core names its largest suppliers of the history, up to this many."""
    min_suppliers: int = 3
    """A medium firm buying from fewer suppliers than this is no supply-chain hub."""
    lookback_months: int = 12
    """The history before the window that names suppliers and sizes the facility request."""
    maturity_months: tuple[int, ...] = (3, 4, 5, 6)
    min_face_fen: int = 10_000_00
    """Invoices of a month below 10,000 yuan are paid in cash, not with a voucher."""
    min_part_fen: int = 1_000_00
    """No part of a split below 1,000 yuan."""
    pass_down: tuple[float, ...] = (0.5, 0.5, 0.4, 0.3)
    """Chance that a holder at tier 1, 2, 3, 4 passes its voucher down (none beyond)."""
    max_receivers: int = 3
    """A holder passes parts to at most this many of its suppliers."""
    whole_transfer: float = 0.25
    """Chance of passing the whole voucher to one supplier whose invoices cover it."""
    finance: Mapping[str, float] = field(
        default_factory=lambda: {"micro": 0.6, "small": 0.35, "medium": 0.1}
    )
    """Chance that the holder of a piece at the end of its chain discounts it, by size band."""
    requested_months: int = 6
    """A core asks for a facility of this many months of its named suppliers' mean invoices."""

    def __post_init__(self) -> None:
        if self.max_cores < 1 or self.suppliers_per_core < 1 or self.max_receivers < 1:
            raise InvalidInput("cores, suppliers per core and receivers must be at least 1")
        if not self.maturity_months or min(self.maturity_months) < 1:
            raise InvalidInput("maturities are whole months, at least one")
        if self.min_part_fen < 1 or self.min_face_fen < self.min_part_fen:
            raise InvalidInput("the smallest face must be at least the smallest part (> 0)")
        chances = [*self.pass_down, self.whole_transfer, *self.finance.values()]
        if any(not 0.0 <= p <= 1.0 for p in chances):
            raise InvalidInput("chances are between 0 and 1")


@dataclass(frozen=True, slots=True)
class Facility:
    """What the platform granted a core (the plan never issues beyond it)."""

    core: str
    limit_fen: int
    expires_on: date | None = None
    """No voucher is issued after the facility's expiry (vouchers may mature after it)."""
    term_days: int | None = None
    """No voucher matures more than this many days after its issue."""

    def in_force(self, on: date) -> bool:
        return self.expires_on is None or on <= self.expires_on

    def within_term(self, issued_on: date, maturity: date) -> bool:
        return self.term_days is None or (maturity - issued_on).days <= self.term_days


@dataclass(frozen=True, slots=True)
class PlannedIssue:
    """The core issues a voucher on a supplier's invoices of a month; the supplier accepts."""

    voucher: str
    """The plan's id of the voucher: the invoice key ``seller:buyer:YYYY-MM``."""
    core: str
    supplier: str
    invoice_month: date
    amount_fen: int
    issued_on: date
    maturity: date


@dataclass(frozen=True, slots=True)
class PlannedSplit:
    """The holder splits a voucher; the first part stays with it, the others are passed on."""

    voucher: str
    holder: str
    parts: tuple[tuple[str, int], ...]
    """(the plan's id of the child, amount in fen), in order."""
    tier: int


@dataclass(frozen=True, slots=True)
class PlannedTransfer:
    """The holder passes a whole voucher (or a split's part) to one of its suppliers."""

    voucher: str
    holder: str
    to: str
    tier: int
    """The receiver's tier (the giver's plus one)."""
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PlannedFinancing:
    """The holder discounts the voucher at the bank (the bank is paid at maturity)."""

    voucher: str
    holder: str
    amount_fen: int
    tier: int
    maturity: date


Step = PlannedIssue | PlannedSplit | PlannedTransfer | PlannedFinancing


@dataclass(frozen=True, slots=True)
class Holding:
    """A piece at the end of its chain: who holds how much, how far from the core."""

    voucher: str
    root: str
    core: str
    holder: str
    amount_fen: int
    tier: int
    maturity: date
    financed: bool


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """One month's flows: issued on ``day`` against the invoices of ``invoice_month``."""

    day: date
    invoice_month: date
    steps: tuple[Step, ...]
    holdings: tuple[Holding, ...]
    not_issued: Mapping[str, int]
    """Invoices of named suppliers not paid with a voucher, by reason."""

    @property
    def issues(self) -> tuple[PlannedIssue, ...]:
        return tuple(s for s in self.steps if isinstance(s, PlannedIssue))


def draw(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) from the seed and a key: order-free, stable across runs."""
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def invoice_key(seller: str, buyer: str, month: date) -> str:
    """The key of a monthly invoice aggregate (the contract's ``seller:buyer:YYYY-MM``)."""
    return f"{seller}:{buyer}:{month:%Y-%m}"


class VoucherFlowPlanner:
    """Plans month after month, keeping each core's outstanding vouchers under its facility."""

    def __init__(
        self,
        facilities: Mapping[str, Facility],
        suppliers: Mapping[str, Sequence[str]],
        size_bands: Mapping[str, str],
        params: FlowParams | None = None,
    ) -> None:
        self.facilities = dict(facilities)
        self.suppliers = {core: tuple(named) for core, named in suppliers.items()}
        self.size_bands = size_bands
        self.params = params or FlowParams()
        self._roots: dict[str, list[tuple[str, date, int]]] = defaultdict(list)
        """core -> (root plan id, maturity, face) of the vouchers planned so far."""

    def outstanding_fen(self, core: str, on: date) -> int:
        """The core's planned vouchers not yet due on ``on`` (those due are settled first)."""
        return sum(face for _, maturity, face in self._roots[core] if maturity > on)

    def forget(self, voucher: str) -> None:
        """The platform refused this issue: it takes no room in the core's facility."""
        for roots in self._roots.values():
            roots[:] = [r for r in roots if r[0] != voucher]

    def plan_month(self, day: date, invoices: pl.DataFrame) -> MonthPlan:
        """The flows of ``day`` (a month's first day) from the invoices of the month before.

        ``invoices`` may hold any months: only the month before ``day`` is used.
        """
        if day.day != 1:
            raise InvalidInput(f"vouchers are issued on a month's first day, not {day}")
        month = add_months(day, -1)
        edges = _month_edges(invoices, month)
        steps: list[Step] = []
        holdings: list[Holding] = []
        skipped: dict[str, int] = defaultdict(int)
        for core in sorted(self.facilities):
            facility = self.facilities[core]
            for supplier in self.suppliers.get(core, ()):
                amount = edges.get(core, {}).get(supplier)
                if amount is None:
                    continue
                issue = self._issue(
                    facility,
                    supplier=supplier,
                    month=month,
                    day=day,
                    amount=amount,
                    skipped=skipped,
                )
                if issue is None:
                    continue
                steps.append(issue)
                self._roots[core].append((issue.voucher, issue.maturity, issue.amount_fen))
                self._pass_down(
                    _Piece(issue.voucher, issue.voucher, core, supplier, amount, 1, issue.maturity),
                    frozenset({core, supplier}),
                    edges,
                    steps,
                    holdings,
                )
        return MonthPlan(day, month, tuple(steps), tuple(holdings), dict(skipped))

    def _issue(
        self,
        facility: Facility,
        *,
        supplier: str,
        month: date,
        day: date,
        amount: int,
        skipped: dict[str, int],
    ) -> PlannedIssue | None:
        p = self.params
        core = facility.core
        if amount < p.min_face_fen:
            skipped["below_minimum"] += 1
            return None
        if not facility.in_force(day):
            skipped["facility_expired"] += 1
            return None
        key = invoice_key(supplier, core, month)
        months = p.maturity_months[int(draw(p.seed, "maturity", key) * len(p.maturity_months))]
        maturity = add_months(day, months)
        if not facility.within_term(day, maturity):
            # The longest maturity the facility's term allows.
            fitting = [
                m for m in p.maturity_months if facility.within_term(day, add_months(day, m))
            ]
            if not fitting:
                skipped["beyond_facility_term"] += 1
                return None
            maturity = add_months(day, max(fitting))
        if self.outstanding_fen(core, day) + amount > facility.limit_fen:
            skipped["facility_full"] += 1
            return None
        return PlannedIssue(key, core, supplier, month, amount, day, maturity)

    def _pass_down(
        self,
        piece: _Piece,
        chain: frozenset[str],
        edges: Mapping[str, Mapping[str, int]],
        steps: list[Step],
        holdings: list[Holding],
    ) -> None:
        p = self.params
        receivers = self._receivers(piece, chain, edges)
        if receivers:
            top, top_amount = receivers[0]
            if top_amount >= piece.amount_fen and draw(p.seed, "whole", piece.voucher) < (
                p.whole_transfer
            ):
                steps.append(
                    PlannedTransfer(
                        piece.voucher, piece.holder, top, piece.tier + 1, piece.amount_fen
                    )
                )
                self._pass_down(piece.moved(top), chain | {top}, edges, steps, holdings)
                return
            parts = self._parts(piece, receivers)
            if parts:
                children = [f"{piece.voucher}/{i}" for i in range(len(parts) + 1)]
                kept = piece.amount_fen - sum(amount for _, amount in parts)
                amounts = [kept, *(amount for _, amount in parts)]
                steps.append(
                    PlannedSplit(
                        piece.voucher,
                        piece.holder,
                        tuple(zip(children, amounts, strict=True)),
                        piece.tier,
                    )
                )
                receiving = chain | {to for to, _ in parts}
                self._finish(piece.child(children[0], kept), steps, holdings)
                for child, (to, amount) in zip(children[1:], parts, strict=True):
                    steps.append(PlannedTransfer(child, piece.holder, to, piece.tier + 1, amount))
                    self._pass_down(
                        piece.child(child, amount).moved(to), receiving, edges, steps, holdings
                    )
                return
        self._finish(piece, steps, holdings)

    def _receivers(
        self, piece: _Piece, chain: frozenset[str], edges: Mapping[str, Mapping[str, int]]
    ) -> list[tuple[str, int]]:
        """The holder's suppliers it passes parts to, largest invoices first (none: keeps it)."""
        p = self.params
        if piece.tier > len(p.pass_down):
            return []
        if draw(p.seed, "pass", piece.voucher) >= p.pass_down[piece.tier - 1]:
            return []
        sellers = sorted(
            ((s, a) for s, a in edges.get(piece.holder, {}).items() if s not in chain),
            key=lambda sa: (-sa[1], sa[0]),
        )
        wanted = 1 + int(draw(p.seed, "receivers", piece.voucher) * p.max_receivers)
        return sellers[:wanted]

    def _parts(self, piece: _Piece, receivers: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """(receiver, amount) of each part passed on; the holder keeps at least a tenth."""
        p = self.params
        keep = max(p.min_part_fen, piece.amount_fen // 10)
        left = piece.amount_fen - keep
        parts = []
        for to, owed in receivers:
            share = 0.15 + 0.35 * draw(p.seed, "share", piece.voucher, to)
            # Whole yuan: parts are what a treasurer would type.
            amount = min(owed, int(piece.amount_fen * share), left) // 100 * 100
            if amount < p.min_part_fen:
                continue
            parts.append((to, amount))
            left -= amount
        return parts

    def _finish(self, piece: _Piece, steps: list[Step], holdings: list[Holding]) -> None:
        """The piece stays with its holder, who may discount it."""
        p = self.params
        band = self.size_bands.get(piece.holder, "micro")
        financed = draw(p.seed, "finance", piece.voucher) < p.finance.get(band, 0.0)
        if financed:
            steps.append(
                PlannedFinancing(
                    piece.voucher, piece.holder, piece.amount_fen, piece.tier, piece.maturity
                )
            )
        holdings.append(
            Holding(
                piece.voucher,
                piece.root,
                piece.core,
                piece.holder,
                piece.amount_fen,
                piece.tier,
                piece.maturity,
                financed,
            )
        )


@dataclass(frozen=True, slots=True)
class _Piece:
    voucher: str
    root: str
    core: str
    holder: str
    amount_fen: int
    tier: int
    maturity: date

    def moved(self, to: str) -> _Piece:
        return _Piece(
            self.voucher, self.root, self.core, to, self.amount_fen, self.tier + 1, self.maturity
        )

    def child(self, voucher: str, amount_fen: int) -> _Piece:
        return _Piece(
            voucher, self.root, self.core, self.holder, amount_fen, self.tier, self.maturity
        )


def _month_edges(invoices: pl.DataFrame, month: date) -> dict[str, dict[str, int]]:
    """buyer -> seller -> the month's invoiced amount (fen), positive amounts only."""
    rows = invoices.filter(
        (pl.col("month") == month)
        & (pl.col("amount_fen") > 0)
        & (pl.col("seller_uscc") != pl.col("buyer_uscc"))
    ).select("buyer_uscc", "seller_uscc", "amount_fen")
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for buyer, seller, amount in rows.iter_rows():
        edges[buyer][seller] = int(amount)
    return edges


def plan_voucher_flows(
    invoices: pl.DataFrame,
    facilities: Mapping[str, Facility],
    suppliers: Mapping[str, Sequence[str]],
    size_bands: Mapping[str, str],
    *,
    days: Iterable[date],
    params: FlowParams | None = None,
) -> list[MonthPlan]:
    """Every month's plan at once (no refusals fed back): what the tests and reports read."""
    planner = VoucherFlowPlanner(facilities, suppliers, size_bands, params)
    return [planner.plan_month(day, invoices) for day in days]


@dataclass(frozen=True, slots=True)
class TierTotal:
    tier: int
    pieces: int
    amount_fen: int
    financed: int
    financed_fen: int


def tier_totals(holdings: Iterable[Holding]) -> list[TierTotal]:
    """Pieces at the end of their chain by tier: count, amount, and of them financed."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for h in holdings:
        row = counts[h.tier]
        row[0] += 1
        row[1] += h.amount_fen
        if h.financed:
            row[2] += 1
            row[3] += h.amount_fen
    return [TierTotal(t, *counts[t]) for t in sorted(counts)]
