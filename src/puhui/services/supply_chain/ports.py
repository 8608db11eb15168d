"""What the supply-chain use cases need from storage and from the data sources, and the views
they return (frozen dataclasses, money in fen; the API turns fen into yuan strings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from puhui.domain.errors import Conflict, InvalidDate, InvalidInput, NotFound
from puhui.domain.ledger import JournalEntry, TrialBalance
from puhui.domain.origination.errors import Forbidden
from puhui.domain.supply_chain import Voucher
from puhui.services.monitoring.ports import MonitoringRepository
from puhui.services.ports import UnitOfWork
from puhui.services.servicing.ports import RequestLog, StoredRequest

# -- errors of the platform (the voucher rules' own errors are the domain's) ---------------


class CoreNotEligible(InvalidInput):
    """The enterprise is unknown to the data sources, or not a medium or small firm."""

    code = "core_not_eligible"


class FacilityDeclined(InvalidInput):
    """The strategy declined the core enterprise's facility (its reasons in the details)."""

    code = "facility_declined"


class CoreAlreadyOnboarded(Conflict):
    code = "core_already_onboarded"


class CoreNotFound(NotFound):
    """No onboarded core enterprise has this USCC."""

    code = "core_not_found"


class NotNamedSupplier(InvalidInput):
    """The payable's supplier is not one the core enterprise named as its supplier."""

    code = "not_named_supplier"


class NotASupplier(InvalidInput):
    """The transferee did not sell to the holder in the last 12 months (invoice data)."""

    code = "not_a_supplier"


class MaturityBeyondTerm(InvalidDate):
    """The maturity is further away than the core's facility allows."""

    code = "maturity_beyond_term"


class FinancingPending(Conflict):
    """A financing request awaits the bank: the voucher is not split nor transferred."""

    code = "financing_pending"


class FinancingNotRequested(Conflict):
    """The financing was approved or rejected already."""

    code = "financing_not_requested"


class CoreDefaulting(Conflict):
    """The core enterprise has not paid matured vouchers: its facility stays frozen."""

    code = "core_defaulting"


class NotBound(Forbidden):
    """The enterprise user acts for an enterprise it is not bound to."""

    code = "not_bound_to_enterprise"


# -- values ------------------------------------------------------------------------------


class FacilityStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    EXPIRED = "expired"


class Relation(StrEnum):
    SUPPLIER = "supplier"
    DEALER = "dealer"


class FinancingStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


NONPAYMENT_REASON = "core_nonpayment"
"""The freeze reason recorded when the core did not pay matured vouchers."""


@dataclass(frozen=True, slots=True)
class EnterpriseInfo:
    uscc: str
    name: str | None
    size_band: str


@dataclass(frozen=True, slots=True)
class UnearnedDiscount:
    """A financing's discount interest and how much of it was recognised as income."""

    financing_id: str
    voucher_id: str
    financed_on: dt.date
    days: int
    interest_fen: int
    earned_fen: int


@dataclass(frozen=True, slots=True)
class EarningRun:
    """What a recognition run moved from unearned discount to interest income."""

    through: dt.date
    financings: int = 0
    earned_fen: int = 0
    entries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CoreEnterpriseView:
    uscc: str
    status: str
    limit_fen: int
    outstanding_fen: int
    grade: str
    discount_rate: Decimal
    fee_rate: Decimal
    term_days: int
    expires_on: dt.date
    defaulting: bool
    frozen_reason: str | None
    strategy_version: str
    decided_at: dt.datetime
    onboarded_by: str
    version: int

    @property
    def available_fen(self) -> int:
        return max(self.limit_fen - self.outstanding_fen, 0)

    def effective_status(self, today: dt.date) -> str:
        """An active facility past its expiry reads as expired (the settlement run stores it)."""
        if self.status == FacilityStatus.ACTIVE and today > self.expires_on:
            return FacilityStatus.EXPIRED.value
        return self.status


@dataclass(frozen=True, slots=True)
class DealerStanding:
    """What an onboarded core gives a dealer line: its facility's grade while the facility is
    usable (active, not past expiry, the core not defaulting; None otherwise) and whether the
    core named the enterprise as its dealer."""

    core: str
    dealer: str
    named: bool
    grade: str | None
    facility_status: str


@dataclass(frozen=True, slots=True)
class PartnerView:
    core: str
    partner: str
    relation: str
    named_by: str


@dataclass(frozen=True, slots=True)
class PayableView:
    payable_id: str
    core: str
    supplier: str
    invoice_key: str
    invoice_month: dt.date
    amount_fen: int
    confirmed_by: str
    voucher_id: str | None


@dataclass(frozen=True, slots=True)
class VoucherRecord:
    """A stored voucher: the domain value plus what the platform keeps beside it."""

    voucher: Voucher
    financing_pending: bool
    version: int


@dataclass(frozen=True, slots=True)
class VoucherView:
    voucher_id: str
    root_id: str
    parent_id: str | None
    core: str
    holder: str
    amount_fen: int
    issued_on: dt.date
    maturity: dt.date
    status: str
    tier: int
    invoice_key: str | None
    financed_on: dt.date | None
    financing_pending: bool
    previous_holders: tuple[str, ...]


def voucher_view(record: VoucherRecord) -> VoucherView:
    v = record.voucher
    return VoucherView(
        voucher_id=v.voucher_id,
        root_id=v.root_id,
        parent_id=v.parent_id,
        core=v.core_id,
        holder=v.holder_id,
        amount_fen=v.amount_fen,
        issued_on=v.issued_on,
        maturity=v.maturity,
        status=v.status.value,
        tier=v.tier,
        invoice_key=v.invoice_key,
        financed_on=v.financed_on,
        financing_pending=record.financing_pending,
        previous_holders=v.previous_holders,
    )


@dataclass(frozen=True, slots=True)
class SplitView:
    parent: VoucherView
    children: tuple[VoucherView, ...]


@dataclass(frozen=True, slots=True)
class TransferView:
    voucher_id: str
    seq: int
    from_uscc: str
    to_uscc: str
    transferred_on: dt.date
    tier: int


@dataclass(frozen=True, slots=True)
class FinancingView:
    financing_id: str
    voucher_id: str
    holder: str
    core: str
    status: str
    requested_on: dt.date
    requested_by: str
    face_fen: int
    decided_on: dt.date | None = None
    decided_by: str | None = None
    reason: str | None = None
    days: int | None = None
    annual_rate: Decimal | None = None
    fee_rate: Decimal | None = None
    interest_fen: int | None = None
    fee_fen: int | None = None
    proceeds_fen: int | None = None
    entry_key: str | None = None


@dataclass(frozen=True, slots=True)
class SettlementView:
    voucher_id: str
    core: str
    payee: str
    amount_fen: int
    penalty_fen: int
    settled_on: dt.date
    entry_key: str


@dataclass(frozen=True, slots=True)
class TreeView:
    root_id: str
    vouchers: tuple[VoucherView, ...]
    transfers: tuple[TransferView, ...]
    financings: tuple[FinancingView, ...]
    settlements: tuple[SettlementView, ...]


@dataclass(frozen=True, slots=True)
class FacilityUsage:
    core: CoreEnterpriseView
    status: str
    """The effective status today (an active facility past its expiry reads expired)."""
    live_count: int
    live_fen: int
    by_status_fen: Mapping[str, int]
    by_tier_fen: Mapping[int, int]
    financed_fen: int


@dataclass(frozen=True, slots=True)
class SettlementRun:
    on: dt.date
    settled: int = 0
    settled_fen: int = 0
    to_bank_fen: int = 0
    to_holders_fen: int = 0
    penalty_fen: int = 0
    overdue: int = 0
    overdue_fen: int = 0
    cores_frozen: tuple[str, ...] = ()
    alerts_raised: int = 0
    facilities_expired: int = 0


@dataclass(frozen=True, slots=True)
class VoucherQuery:
    core: str | None = None
    holder: str | None = None
    status: str | None = None
    root_id: str | None = None
    enterprises: frozenset[str] | None = None
    """Only vouchers whose core or holder is one of these (an enterprise user's view)."""
    after: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One voucher settled by a batch, with what the repository writes for it."""

    record: VoucherRecord
    payee: str
    penalty_fen: int
    entry_key: str


# -- ports ---------------------------------------------------------------------------------


class FacilityDecisionLike(Protocol):
    """What the platform reads of the strategy's ``FacilityDecision``."""

    @property
    def approved(self) -> bool: ...
    @property
    def grade(self) -> str | None: ...
    @property
    def limit_fen(self) -> int: ...
    @property
    def discount_annual_rate(self) -> Decimal | None: ...
    @property
    def fee_rate(self) -> Decimal: ...
    @property
    def term_days(self) -> int: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def strategy_version(self) -> str: ...


class FacilityPolicy(Protocol):
    """The strategy's core-facility side (``decision.supply_chain.SupplyChainPolicy``)."""

    def decide_facility(self, facts: Any) -> FacilityDecisionLike: ...

    def discount_rate(self, grade: str, *, as_of: dt.date | None = None) -> Decimal:
        """The grade's annual discount rate on ``as_of`` (the benchmark rate moves)."""
        ...

    def fee_rate(self, grade: str) -> Decimal: ...


class EnterpriseSource(Protocol):
    """The enterprise data the platform reads (the market's registry and invoice tables)."""

    def enterprise(self, uscc: str) -> EnterpriseInfo | None: ...

    def core_facts(self, uscc: str, *, as_of: dt.date, requested_fen: int) -> Any:
        """The core's own data as the strategy reads it (``CoreFacts``) at ``as_of``."""
        ...

    def invoice_amount(self, seller: str, buyer: str, month: dt.date) -> int | None:
        """The month's invoice aggregate from ``seller`` to ``buyer`` (None: no invoices)."""
        ...

    def sold_to(self, seller: str, buyer: str, *, since: dt.date, before: dt.date) -> bool:
        """``seller`` invoiced ``buyer`` in a month in ``[since, before)``."""
        ...


class SupplyChainRepository(Protocol):
    # cores, partners, users
    def core(self, uscc: str, *, lock: bool = False) -> CoreEnterpriseView | None: ...

    def cores(self) -> list[CoreEnterpriseView]: ...

    def add_core(self, core: CoreEnterpriseView) -> None: ...

    def save_core(self, core: CoreEnterpriseView, *, expected_version: int) -> None: ...

    def expire_cores(self, on: dt.date) -> int: ...

    def add_partner(self, partner: PartnerView, *, at: dt.datetime) -> bool:
        """False when the partner was named already."""
        ...

    def partners(self, core: str) -> list[PartnerView]: ...

    def is_partner(self, core: str, partner: str, relation: str) -> bool: ...

    def bind_user(self, user_id: str, uscc: str, *, by: str, at: dt.datetime) -> bool: ...

    def enterprises_of(self, user_id: str) -> frozenset[str]: ...

    # payables
    def add_payable(self, payable: PayableView, *, at: dt.datetime) -> None: ...

    def payable(self, payable_id: str) -> PayableView | None: ...

    def payable_by_invoice(self, invoice_key: str) -> PayableView | None: ...

    def payables(self, core: str) -> list[PayableView]: ...

    def link_payable(self, payable_id: str, voucher_id: str) -> None: ...

    # vouchers
    def voucher(self, voucher_id: str) -> VoucherRecord | None: ...

    def voucher_held(self, voucher_id: str, user_id: str) -> tuple[VoucherRecord, bool] | None:
        """The voucher, and whether the user is bound to its holder (one read)."""
        ...

    def lock_roots(self, root_ids: Sequence[str]) -> None:
        """PostgreSQL: ``SELECT … FOR UPDATE`` on these roots' rows, in id order."""
        ...

    def existing_ids(self, voucher_ids: Sequence[str]) -> set[str]: ...

    def add_vouchers(self, records: Sequence[VoucherRecord], *, at: dt.datetime) -> None: ...

    def save_voucher(
        self, record: VoucherRecord, *, expected_version: int, at: dt.datetime
    ) -> None: ...

    def add_transfer(
        self, voucher_id: str, from_uscc: str, to_uscc: str, on: dt.date, tier: int
    ) -> None:
        """Record a transfer of the voucher; its number is the tier it reaches."""
        ...

    def vouchers(self, query: VoucherQuery) -> list[VoucherRecord]: ...

    def tree(self, root_id: str) -> list[VoucherRecord]: ...

    def transfers(self, voucher_ids: Sequence[str]) -> list[TransferView]: ...

    def live_totals(self, core: str) -> tuple[dict[str, int], dict[int, int], int]:
        """Live vouchers of ``core``: fen by status, fen by tier, count."""
        ...

    # financings
    def add_financing(self, financing: FinancingView) -> None: ...

    def financing(self, financing_id: str) -> FinancingView | None: ...

    def save_financing(self, financing: FinancingView, *, expected_status: str) -> None: ...

    def financings(self, *, status: str | None, limit: int) -> list[FinancingView]: ...

    def financings_of(self, voucher_ids: Sequence[str]) -> list[FinancingView]: ...

    # settlement
    def due(
        self, on: dt.date, *, after: str | None, limit: int | None, overdue_too: bool
    ) -> list[tuple[str, str]]:
        """(voucher id, root id) of live vouchers maturing by ``on``, in id order."""
        ...

    def vouchers_by_id(self, voucher_ids: Sequence[str]) -> list[VoucherRecord]: ...

    def lock_and_read(
        self, root_ids: Sequence[str], voucher_ids: Sequence[str]
    ) -> list[VoucherRecord]:
        """Lock the roots (PostgreSQL ``FOR UPDATE``, id order), then read the vouchers."""
        ...

    def interest_of(self, voucher_ids: Sequence[str]) -> dict[str, tuple[int, Decimal]]:
        """Approved financings of these vouchers: (discount interest not yet earned, annual
        rate)."""
        ...

    def earning(self, through: dt.date) -> list[tuple[str, str]]:
        """(voucher, root) of financed, unsettled vouchers financed by ``through`` whose
        discount interest is not all earned, in voucher id order."""
        ...

    def unearned(self, voucher_ids: Sequence[str]) -> list[UnearnedDiscount]:
        """The approved financings of these vouchers with what they earned so far."""
        ...

    def set_earned(self, earned: Sequence[tuple[str, int, int]]) -> None:
        """``(financing_id, earned before, earned now)``; a row that no longer reads
        ``earned before`` is a ``Conflict``."""
        ...

    def cores_by_id(self, usccs: Sequence[str]) -> dict[str, CoreEnterpriseView]: ...

    def apply_settlements(
        self, rows: Sequence[SettlementRow], on: dt.date, *, at: dt.datetime
    ) -> None:
        """Mark settled, insert settlements, lower the cores' outstanding: batched. Each
        row's record is the voucher after the change, at its next version (as for
        ``save_voucher``); a voucher no longer as read is a ``Conflict``."""
        ...

    def mark_overdue(self, records: Sequence[VoucherRecord], *, at: dt.datetime) -> None:
        """The vouchers after the change (overdue, at their next version); a voucher no
        longer as read is a ``Conflict``."""
        ...

    def settlements(self, voucher_ids: Sequence[str]) -> list[SettlementView]: ...

    def post_entries(self, entries: Sequence[JournalEntry]) -> None:
        """Insert journal entries and their lines in a few batched statements."""
        ...


class LedgerPort(Protocol):
    def post(self, entry: JournalEntry) -> str: ...

    def trial_balance(self, as_of: dt.date) -> TrialBalance: ...


class VoucherRequestLog(RequestLog, Protocol):
    def add_if_new(self, request: StoredRequest) -> bool:
        """Record the request unless its key is taken (then change nothing): True if added.
        A key another transaction is adding waits for it to finish."""
        ...


class SupplyChainUnitOfWork(UnitOfWork, Protocol):
    @property
    def supply_chain(self) -> SupplyChainRepository: ...

    @property
    def ledger(self) -> LedgerPort: ...

    @property
    def requests(self) -> VoucherRequestLog: ...

    @property
    def monitoring(self) -> MonitoringRepository: ...

    @property
    def dialect(self) -> str: ...


SupplyChainUnits = Callable[[], SupplyChainUnitOfWork]
