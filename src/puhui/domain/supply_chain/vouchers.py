"""Payable vouchers (电子债权凭证) and the rules of their life, as pure functions.

A voucher is an immutable value. Each rule function takes a voucher and returns the new
value(s), or raises the named error of the broken rule; the voucher given is never changed.
The in-memory :class:`~puhui.domain.supply_chain.book.VoucherBook` and the platform's
services both call these functions: one rule, one place.

Life (docs/supply-chain.md, "Voucher life")::

    issue -> PENDING --accept--> OUTSTANDING --split--> SPLIT (children OUTSTANDING)
                                     |  \\--transfer--> OUTSTANDING (new holder, tier + 1)
                                     |--finance--> FINANCED
             OUTSTANDING / FINANCED --(maturity, core pays)--> SETTLED
             OUTSTANDING / FINANCED --(maturity, core does not pay)--> OVERDUE --pays--> SETTLED
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.errors import InvalidDate, InvalidIdentifier, InvalidInput
from puhui.domain.money import format_yuan, require_positive
from puhui.domain.supply_chain.conventions import Discount, discount
from puhui.domain.supply_chain.errors import (
    AlreadyFinanced,
    DuplicateVoucherId,
    FinancingAfterMaturity,
    InvalidSplitPart,
    MaturityBeforeIssue,
    NotAccepted,
    NotDue,
    NotHolder,
    NotPending,
    SplitDoesNotSum,
    TransferToSelf,
    VoucherNotLive,
)

BANK_PAYEE = "bank"
"""Payee of a financed voucher at settlement: the bank that discounted it."""
MAX_ID_LENGTH = 64


class VoucherStatus(Enum):
    """Values are the strings of the JSON output and of the database."""

    PENDING = "pending"
    OUTSTANDING = "outstanding"
    SPLIT = "split"
    FINANCED = "financed"
    SETTLED = "settled"
    OVERDUE = "overdue"


LIVE_STATUSES = frozenset(
    {
        VoucherStatus.PENDING,
        VoucherStatus.OUTSTANDING,
        VoucherStatus.FINANCED,
        VoucherStatus.OVERDUE,
    }
)
"""A live voucher is still owed by the core enterprise (to its holder or to the bank)."""


@dataclass(frozen=True, slots=True)
class Voucher:
    """One voucher: a root issued by a core enterprise, or a part of a split.

    ``previous_holders`` is the chain of enterprises that held the voucher (or the voucher
    it was split from) before ``holder_id``, oldest first: ``previous_holders + (holder_id,)``
    is its provenance. ``tier`` is 1 for the supplier the core issued to and grows by one
    with each transfer, so ``tier == len(previous_holders) + 1``.
    """

    voucher_id: str
    root_id: str
    parent_id: str | None
    core_id: str
    holder_id: str
    amount_fen: int
    issued_on: date
    maturity: date
    status: VoucherStatus
    tier: int
    invoice_key: str | None = None
    financed_on: date | None = None
    previous_holders: tuple[str, ...] = ()

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_leaf(self) -> bool:
        """Not replaced by children (every voucher but a split one)."""
        return self.status is not VoucherStatus.SPLIT

    @property
    def is_financed(self) -> bool:
        """Discounted at the bank (still FINANCED, or since OVERDUE or SETTLED)."""
        return self.financed_on is not None

    @property
    def holders(self) -> tuple[str, ...]:
        """Every holder from the tier-1 supplier to the current one."""
        return (*self.previous_holders, self.holder_id)

    @property
    def payee(self) -> str:
        """Who the core pays at maturity: the bank for a financed voucher, else the holder."""
        return BANK_PAYEE if self.is_financed else self.holder_id


def _identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise InvalidIdentifier(f"{what} must be 1 to {MAX_ID_LENGTH} characters, got {value!r}")
    if value != value.strip():
        raise InvalidIdentifier(f"{what} must not start or end with spaces: {value!r}")
    return value


def _not_before_issue(v: Voucher, on: date, what: str) -> None:
    if on < v.issued_on:
        raise InvalidDate(f"voucher {v.voucher_id} cannot be {what} on {on}, before {v.issued_on}")


def _require_holder(v: Voucher, by: str, what: str) -> None:
    if by != v.holder_id:
        raise NotHolder(
            f"only the holder of voucher {v.voucher_id} may {what} it",
            details={"voucher": v.voucher_id},
        )


def _require_outstanding(v: Voucher, what: str) -> None:
    """Split, transfer and financing need an accepted voucher that nothing has retired."""
    if v.status is VoucherStatus.OUTSTANDING:
        return
    if v.status is VoucherStatus.PENDING:
        raise NotAccepted(f"voucher {v.voucher_id} is not accepted yet and cannot be {what}")
    raise VoucherNotLive(
        f"voucher {v.voucher_id} is {v.status.value} and cannot be {what}",
        details={"voucher": v.voucher_id, "status": v.status.value},
    )


def issue_voucher(
    voucher_id: str,
    *,
    core_id: str,
    holder_id: str,
    amount_fen: int,
    issued_on: date,
    maturity: date,
    invoice_key: str | None = None,
) -> Voucher:
    """A new root voucher from ``core_id`` to its tier-1 supplier, awaiting acceptance."""
    _identifier(voucher_id, "voucher id")
    _identifier(core_id, "core enterprise")
    _identifier(holder_id, "holder")
    if holder_id == core_id:
        raise InvalidInput(f"core enterprise {core_id} cannot issue a voucher to itself")
    if BANK_PAYEE in (holder_id, core_id):
        raise InvalidIdentifier(f"{BANK_PAYEE!r} is reserved for the bank")
    amount = require_positive(amount_fen, "voucher amount")
    if maturity <= issued_on:
        raise MaturityBeforeIssue(
            f"maturity {maturity} must come after the issue date {issued_on}",
            details={"issued_on": issued_on.isoformat(), "maturity": maturity.isoformat()},
        )
    return Voucher(
        voucher_id=voucher_id,
        root_id=voucher_id,
        parent_id=None,
        core_id=core_id,
        holder_id=holder_id,
        amount_fen=amount,
        issued_on=issued_on,
        maturity=maturity,
        status=VoucherStatus.PENDING,
        tier=1,
        invoice_key=invoice_key,
    )


def accept(v: Voucher, *, by: str, on: date) -> Voucher:
    """The holder accepts a pending voucher: it becomes OUTSTANDING."""
    _require_holder(v, by, "accept")
    if v.status is not VoucherStatus.PENDING:
        raise NotPending(f"voucher {v.voucher_id} is {v.status.value}, not pending")
    _not_before_issue(v, on, "accepted")
    return replace(v, status=VoucherStatus.OUTSTANDING)


def plan_split(
    v: Voucher, parts: Sequence[tuple[str, int]], *, by: str, on: date
) -> tuple[Voucher, tuple[Voucher, ...]]:
    """Split ``v`` into parts (id, amount) summing exactly to it: (retired parent, children).

    The children keep the holder, tier, provenance, core and maturity of the parent; their
    ``issued_on`` is the split date. Ids must be new within the split; the caller (book or
    repository) checks they are new overall.
    """
    _require_holder(v, by, "split")
    _require_outstanding(v, "split")
    _not_before_issue(v, on, "split")
    if len(parts) < 2:
        raise InvalidSplitPart(f"a split needs at least two parts, got {len(parts)}")
    seen: set[str] = {v.voucher_id}
    for part_id, amount in parts:
        _identifier(part_id, "part id")
        if part_id in seen:
            raise DuplicateVoucherId(f"voucher id {part_id!r} is used twice in the split")
        seen.add(part_id)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidSplitPart(
                f"part {part_id} must have a positive amount in fen, got {amount!r}",
                details={"part": part_id},
            )
    total = sum(amount for _, amount in parts)
    if total != v.amount_fen:
        raise SplitDoesNotSum(
            f"the parts sum to {format_yuan(total)}, voucher {v.voucher_id} is "
            f"{format_yuan(v.amount_fen)}",
            details={"parts_fen": total, "voucher_fen": v.amount_fen},
        )
    children = tuple(
        replace(
            v,
            voucher_id=part_id,
            parent_id=v.voucher_id,
            amount_fen=amount,
            issued_on=on,
            invoice_key=None,
        )
        for part_id, amount in parts
    )
    return replace(v, status=VoucherStatus.SPLIT), children


def plan_transfer(v: Voucher, *, by: str, to: str, on: date) -> Voucher:
    """The holder passes the whole voucher to its own supplier: same id, tier + 1."""
    _require_holder(v, by, "transfer")
    _identifier(to, "transferee")
    if to == v.holder_id:
        raise TransferToSelf(f"voucher {v.voucher_id} is already held by {to}")
    if to == BANK_PAYEE:
        raise InvalidIdentifier(f"{BANK_PAYEE!r} is reserved for the bank")
    _require_outstanding(v, "transferred")
    _not_before_issue(v, on, "transferred")
    return replace(
        v,
        holder_id=to,
        tier=v.tier + 1,
        previous_holders=(*v.previous_holders, v.holder_id),
    )


def plan_financing(
    v: Voucher, *, by: str, on: date, annual_rate: Decimal, fee_rate: Decimal
) -> tuple[Voucher, Discount]:
    """The holder discounts the voucher at the bank: FINANCED, and the price of it."""
    _require_holder(v, by, "finance")
    if v.is_financed:
        raise AlreadyFinanced(f"voucher {v.voucher_id} is financed already")
    if v.status is VoucherStatus.OVERDUE:
        raise FinancingAfterMaturity(f"voucher {v.voucher_id} is overdue")
    _require_outstanding(v, "financed")
    _not_before_issue(v, on, "financed")
    priced = discount(
        v.amount_fen,
        financed_on=on,
        maturity=v.maturity,
        annual_rate=annual_rate,
        fee_rate=fee_rate,
    )
    return replace(v, status=VoucherStatus.FINANCED, financed_on=on), priced


def _require_due(v: Voucher, on: date, what: str) -> None:
    if not v.is_live:
        raise VoucherNotLive(f"voucher {v.voucher_id} is {v.status.value} and cannot be {what}")
    if on < v.maturity:
        raise NotDue(
            f"voucher {v.voucher_id} matures on {v.maturity} and cannot be {what} on {on}",
            details={"voucher": v.voucher_id, "maturity": v.maturity.isoformat()},
        )


def plan_settlement(v: Voucher, *, on: date) -> tuple[Voucher, str]:
    """The core pays a live voucher at (or after) maturity: (settled voucher, payee)."""
    _require_due(v, on, "settled")
    return replace(v, status=VoucherStatus.SETTLED), v.payee


def mark_overdue(v: Voucher, *, on: date) -> Voucher:
    """A matured voucher the core has not paid: OVERDUE (financed_on is kept)."""
    _require_due(v, on, "marked overdue")
    if v.status is VoucherStatus.OVERDUE:
        return v
    if v.status is VoucherStatus.PENDING:
        raise NotAccepted(f"voucher {v.voucher_id} is not accepted yet")
    return replace(v, status=VoucherStatus.OVERDUE)
