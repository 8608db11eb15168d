"""An in-memory book of vouchers over the rule functions (the simulate command, property tests).

The book adds what one voucher cannot know: ids are unique, an invoice backs one voucher,
the enterprises are known (when a list is given), and a core enterprise's live vouchers
never exceed its facility (when facilities are given). Every method checks everything
before it changes anything, so a refused operation leaves the book as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from puhui.domain.money import format_yuan, require_non_negative
from puhui.domain.supply_chain.conventions import Discount
from puhui.domain.supply_chain.errors import (
    DuplicateVoucherId,
    FacilityExceeded,
    InvoiceAlreadyUsed,
    UnknownEnterprise,
    UnknownVoucher,
)
from puhui.domain.supply_chain.vouchers import (
    Voucher,
    accept,
    issue_voucher,
    plan_financing,
    plan_settlement,
    plan_split,
    plan_transfer,
)


@dataclass(frozen=True, slots=True)
class Financing:
    """A voucher discounted at the bank, in the order the book financed them."""

    voucher_id: str
    financed_on: date
    discount: Discount


@dataclass(frozen=True, slots=True)
class Settlement:
    """A voucher paid by the core at maturity, to its holder or to the bank."""

    voucher_id: str
    payee: str
    amount_fen: int
    settled_on: date
    financed: bool


class VoucherBook:
    """Vouchers in creation order (the children of a split right after it, in part order)."""

    def __init__(
        self,
        *,
        facilities_fen: Mapping[str, int] | None = None,
        enterprises: Collection[str] | None = None,
    ) -> None:
        self._facilities: dict[str, int] | None = (
            None
            if facilities_fen is None
            else {core: require_non_negative(v, "facility") for core, v in facilities_fen.items()}
        )
        self._enterprises: frozenset[str] | None = (
            None if enterprises is None else frozenset(enterprises)
        )
        self._vouchers: dict[str, Voucher] = {}
        self._children: dict[str, tuple[str, ...]] = {}
        self._invoices: dict[str, str] = {}
        self._outstanding: dict[str, int] = {}
        self.financings: list[Financing] = []
        self.settlements: list[Settlement] = []

    # -- reading -------------------------------------------------------------------------

    def get(self, voucher_id: str) -> Voucher:
        try:
            return self._vouchers[voucher_id]
        except KeyError:
            raise UnknownVoucher(f"no voucher {voucher_id!r}") from None

    def __contains__(self, voucher_id: object) -> bool:
        return voucher_id in self._vouchers

    def vouchers(self) -> tuple[Voucher, ...]:
        return tuple(self._vouchers.values())

    def children(self, voucher_id: str) -> tuple[Voucher, ...]:
        return tuple(self._vouchers[c] for c in self._children.get(voucher_id, ()))

    def live_leaves(self) -> tuple[Voucher, ...]:
        return tuple(v for v in self._vouchers.values() if v.is_live)

    def outstanding_fen(self, core_id: str) -> int:
        """Sum of the live vouchers of ``core_id`` (split ones are replaced by their parts)."""
        return self._outstanding.get(core_id, 0)

    def facility_fen(self, core_id: str) -> int | None:
        """The facility of ``core_id``, or None when the book has no facilities (no limit)."""
        if self._facilities is None:
            return None
        return self._facilities.get(core_id, 0)

    # -- checks --------------------------------------------------------------------------

    def _known(self, enterprise: str) -> None:
        if self._enterprises is not None and enterprise not in self._enterprises:
            raise UnknownEnterprise(
                f"unknown enterprise {enterprise!r}", details={"enterprise": enterprise}
            )

    def _new_id(self, voucher_id: str) -> None:
        if voucher_id in self._vouchers:
            raise DuplicateVoucherId(f"voucher id {voucher_id!r} is taken")

    # -- operations ----------------------------------------------------------------------

    def issue(
        self,
        voucher_id: str,
        *,
        core_id: str,
        holder_id: str,
        amount_fen: int,
        issued_on: date,
        maturity: date,
        invoice_key: str | None = None,
    ) -> Voucher:
        v = issue_voucher(
            voucher_id,
            core_id=core_id,
            holder_id=holder_id,
            amount_fen=amount_fen,
            issued_on=issued_on,
            maturity=maturity,
            invoice_key=invoice_key,
        )
        self._new_id(voucher_id)
        self._known(core_id)
        self._known(holder_id)
        if invoice_key is not None and invoice_key in self._invoices:
            raise InvoiceAlreadyUsed(
                f"invoice {invoice_key} backs voucher {self._invoices[invoice_key]} already",
                details={"invoice_key": invoice_key},
            )
        facility = self.facility_fen(core_id)
        after = self.outstanding_fen(core_id) + v.amount_fen
        if facility is not None and after > facility:
            raise FacilityExceeded(
                f"core enterprise {core_id} would owe {format_yuan(after)} on vouchers, "
                f"above its facility of {format_yuan(facility)}",
                details={"core": core_id, "facility_fen": facility, "after_fen": after},
            )
        self._vouchers[voucher_id] = v
        if invoice_key is not None:
            self._invoices[invoice_key] = voucher_id
        self._outstanding[core_id] = after
        return v

    def accept(self, voucher_id: str, *, by: str, on: date) -> Voucher:
        v = accept(self.get(voucher_id), by=by, on=on)
        self._vouchers[voucher_id] = v
        return v

    def split(
        self, voucher_id: str, parts: Sequence[tuple[str, int]], *, by: str, on: date
    ) -> tuple[Voucher, ...]:
        parent, children = plan_split(self.get(voucher_id), parts, by=by, on=on)
        for child in children:
            self._new_id(child.voucher_id)
        self._vouchers[voucher_id] = parent
        for child in children:
            self._vouchers[child.voucher_id] = child
        self._children[voucher_id] = tuple(c.voucher_id for c in children)
        return children

    def transfer(self, voucher_id: str, *, by: str, to: str, on: date) -> Voucher:
        v = self.get(voucher_id)
        self._known(to)
        moved = plan_transfer(v, by=by, to=to, on=on)
        self._vouchers[voucher_id] = moved
        return moved

    def finance(
        self,
        voucher_id: str,
        *,
        by: str,
        on: date,
        annual_rate: Decimal,
        fee_rate: Decimal = Decimal(0),
    ) -> Discount:
        financed, priced = plan_financing(
            self.get(voucher_id), by=by, on=on, annual_rate=annual_rate, fee_rate=fee_rate
        )
        self._vouchers[voucher_id] = financed
        self.financings.append(Financing(voucher_id, on, priced))
        return priced

    def settle_due(self, on: date) -> list[tuple[str, str, int]]:
        """Settle every live voucher maturing on or before ``on``: (id, payee, amount)."""
        paid: list[tuple[str, str, int]] = []
        for v in [v for v in self._vouchers.values() if v.is_live and v.maturity <= on]:
            settled, payee = plan_settlement(v, on=on)
            self._vouchers[v.voucher_id] = settled
            self._outstanding[v.core_id] -= v.amount_fen
            self.settlements.append(
                Settlement(v.voucher_id, payee, v.amount_fen, on, v.is_financed)
            )
            paid.append((v.voucher_id, payee, v.amount_fen))
        return paid

    def holders_chain(self, voucher_id: str) -> tuple[str, ...]:
        """Every enterprise that held the voucher (or the one it was split from), in order."""
        return self.get(voucher_id).holders

    def ancestry(self, voucher_id: str) -> tuple[str, ...]:
        """The ids from the root down to ``voucher_id``."""
        chain = [voucher_id]
        parent = self.get(voucher_id).parent_id
        while parent is not None:
            chain.append(parent)
            parent = self._vouchers[parent].parent_id
        return tuple(reversed(chain))
