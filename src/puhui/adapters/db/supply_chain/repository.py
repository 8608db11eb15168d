"""Core enterprises, payables, vouchers, financings and settlements on SQL: the caller commits.

Locks (docs/adr/0036): on PostgreSQL ``core(lock=True)`` and ``lock_roots`` take
``SELECT … FOR UPDATE`` on the core's and the voucher roots' rows; on SQLite the writer's
``BEGIN IMMEDIATE`` already admits one writer at a time, so they read plainly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast
from puhui.adapters.db.columns import UtcDateTime
from puhui.adapters.db.servicing.tables import journal_entries, journal_lines, service_requests
from puhui.adapters.db.supply_chain.tables import (
    core_enterprises,
    core_partners,
    enterprise_users,
    payables,
    voucher_financings,
    voucher_settlements,
    voucher_transfers,
    vouchers,
)
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, IdempotencyConflict
from puhui.domain.ids import new_id
from puhui.domain.ledger import JournalEntry
from puhui.domain.supply_chain import (
    LIVE_STATUSES,
    DuplicateVoucherId,
    InvoiceAlreadyUsed,
    Voucher,
    VoucherStatus,
)
from puhui.services.servicing.ports import StoredRequest
from puhui.services.supply_chain.ports import (
    CoreEnterpriseView,
    FacilityStatus,
    FinancingView,
    PartnerView,
    PayableView,
    SettlementRow,
    SettlementView,
    TransferView,
    UnearnedDiscount,
    VoucherQuery,
    VoucherRecord,
)

_V = vouchers.c
_C = core_enterprises.c
_F = voucher_financings.c
LIVE = sorted(s.value for s in LIVE_STATUSES)
_CHUNK = 500
_ROWS = 1_000
"""Rows per multi-row statement of the settlement (7 columns: 7,000 parameters)."""
T = TypeVar("T")


def _params(prefix: str, names: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(f"{prefix}{name}") for name in names}


_CORE_FIELDS = (
    "status",
    "limit_fen",
    "outstanding_fen",
    "grade",
    "discount_rate",
    "fee_rate",
    "term_days",
    "expires_on",
    "defaulting",
    "frozen_reason",
    "strategy_version",
    "decided_at",
    "onboarded_by",
    "version",
)
_VOUCHER_FIELDS = (
    "root_id",
    "parent_id",
    "core_uscc",
    "holder_uscc",
    "amount_fen",
    "issued_on",
    "maturity",
    "status",
    "tier",
    "invoice_key",
    "financed_on",
    "previous_holders",
    "financing_pending",
    "version",
    "updated_at",
)
_FINANCING_FIELDS = (
    "voucher_id",
    "holder_uscc",
    "core_uscc",
    "status",
    "requested_on",
    "requested_by",
    "decided_on",
    "decided_by",
    "reason",
    "face_fen",
    "days",
    "annual_rate",
    "fee_rate",
    "interest_fen",
    "fee_fen",
    "proceeds_fen",
    "entry_key",
)
# Prebuilt statements run through ``fast`` (compiled once; see adapters/db/fast.py).
_CORE = select(core_enterprises).where(_C.uscc == bindparam("b_uscc"))
_CORE_FOR_UPDATE = _CORE.with_for_update()
_INSERT_CORE = insert(core_enterprises)
_UPDATE_CORE = (
    update(core_enterprises)
    .where(_C.uscc == bindparam("b_uscc"), _C.version == bindparam("b_expected"))
    .values(**_params("v_", _CORE_FIELDS))
)
_BOUND = select(enterprise_users.c.uscc).where(enterprise_users.c.user_id == bindparam("b_user"))
_IS_PARTNER = select(core_partners.c.core_uscc).where(
    core_partners.c.core_uscc == bindparam("b_core"),
    core_partners.c.partner_uscc == bindparam("b_partner"),
    core_partners.c.relation == bindparam("b_relation"),
)
_PAYABLE = select(payables).where(payables.c.payable_id == bindparam("b_id"))
_PAYABLE_BY_INVOICE = select(payables).where(payables.c.invoice_key == bindparam("b_key"))
_INSERT_PAYABLE = insert(payables)
_LINK_PAYABLE = (
    update(payables)
    .where(payables.c.payable_id == bindparam("b_id"), payables.c.voucher_id.is_(None))
    .values(voucher_id=bindparam("b_voucher"))
)
_VOUCHER = select(vouchers).where(_V.voucher_id == bindparam("b_id"))
_VOUCHER_HELD = select(
    vouchers,
    exists()
    .where(
        enterprise_users.c.user_id == bindparam("b_user"),
        enterprise_users.c.uscc == _V.holder_uscc,
    )
    .label("held_by_user"),
).where(_V.voucher_id == bindparam("b_id"))
_LOCK_ROOT = select(_V.voucher_id).where(_V.voucher_id == bindparam("b_id")).with_for_update()
_INSERT_VOUCHER = insert(vouchers)
_SET_EARNED = (
    update(voucher_financings)
    .where(
        voucher_financings.c.financing_id == bindparam("b_id"),
        voucher_financings.c.interest_earned_fen == bindparam("b_before"),
    )
    .values(interest_earned_fen=bindparam("b_after"))
)
# PostgreSQL: a run chunk's earned amounts in one statement (one round trip, not one per row).
_SET_EARNED_MANY = text(
    "UPDATE voucher_financings AS f SET interest_earned_fen = v.earned_after "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:befores AS bigint[]), "
    "CAST(:afters AS bigint[])) AS v(financing_id, earned_before, earned_after) "
    "WHERE f.financing_id = v.financing_id AND f.interest_earned_fen = v.earned_before "
    "RETURNING f.financing_id"
)
# PostgreSQL: a settlement chunk's vouchers move by id *and the version read under the
# roots' locks*, joined on the primary key. (``voucher_id IN (…) AND status IN (…)`` let a
# planner without statistics, as after a day's bulk issuance, scan every live voucher
# through ``ix_vouchers_maturity_status`` once per chunk.)
_SET_STATUS_MANY = text(
    "UPDATE vouchers AS v SET status = :status, financing_pending = false, "
    "version = v.version + 1, updated_at = :at "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:versions AS integer[])) "
    "AS x(voucher_id, version) "
    "WHERE v.voucher_id = x.voucher_id AND v.version = x.version"
).bindparams(bindparam("at", type_=UtcDateTime()))
_FEW = 8
"""Up to this many rows are inserted one prebuilt statement at a time; more in one batch."""
_UPDATE_VOUCHER = (
    update(vouchers)
    .where(_V.voucher_id == bindparam("b_id"), _V.version == bindparam("b_expected"))
    .values(**_params("v_", _VOUCHER_FIELDS))
)
_INSERT_TRANSFER = insert(voucher_transfers)
_FINANCING = select(voucher_financings).where(_F.financing_id == bindparam("b_id"))
_INSERT_FINANCING = insert(voucher_financings)
_UPDATE_FINANCING = (
    update(voucher_financings)
    .where(_F.financing_id == bindparam("b_id"), _F.status == bindparam("b_expected"))
    .values(**_params("v_", _FINANCING_FIELDS))
)
_REQUEST = select(service_requests).where(service_requests.c.idempotency_key == bindparam("b_key"))
_INSERT_REQUEST = insert(service_requests)
# Both dialects spell it ``ON CONFLICT DO NOTHING``; each builds its own statement.
_INSERT_NEW_REQUEST = {
    "sqlite": sqlite.insert(service_requests).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(service_requests).on_conflict_do_nothing(),
}


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _core(row: Any) -> CoreEnterpriseView:
    return CoreEnterpriseView(
        uscc=row.uscc,
        status=row.status,
        limit_fen=int(row.limit_fen),
        outstanding_fen=int(row.outstanding_fen),
        grade=row.grade,
        discount_rate=Decimal(row.discount_rate).normalize(),
        fee_rate=Decimal(row.fee_rate).normalize(),
        term_days=row.term_days,
        expires_on=row.expires_on,
        defaulting=bool(row.defaulting),
        frozen_reason=row.frozen_reason,
        strategy_version=row.strategy_version,
        decided_at=row.decided_at,
        onboarded_by=row.onboarded_by,
        version=row.version,
    )


def _core_values(core: CoreEnterpriseView) -> dict[str, Any]:
    return {
        "status": core.status,
        "limit_fen": core.limit_fen,
        "outstanding_fen": core.outstanding_fen,
        "grade": core.grade,
        "discount_rate": core.discount_rate,
        "fee_rate": core.fee_rate,
        "term_days": core.term_days,
        "expires_on": core.expires_on,
        "defaulting": core.defaulting,
        "frozen_reason": core.frozen_reason,
        "strategy_version": core.strategy_version,
        "decided_at": core.decided_at,
        "onboarded_by": core.onboarded_by,
        "version": core.version,
    }


def _voucher(row: Any) -> VoucherRecord:
    return VoucherRecord(
        voucher=Voucher(
            voucher_id=row.voucher_id,
            root_id=row.root_id,
            parent_id=row.parent_id,
            core_id=row.core_uscc,
            holder_id=row.holder_uscc,
            amount_fen=int(row.amount_fen),
            issued_on=row.issued_on,
            maturity=row.maturity,
            status=VoucherStatus(row.status),
            tier=row.tier,
            invoice_key=row.invoice_key,
            financed_on=row.financed_on,
            previous_holders=tuple(h for h in row.previous_holders.split(",") if h),
        ),
        financing_pending=bool(row.financing_pending),
        version=row.version,
    )


def _voucher_values(record: VoucherRecord) -> dict[str, Any]:
    v = record.voucher
    return {
        "root_id": v.root_id,
        "parent_id": v.parent_id,
        "core_uscc": v.core_id,
        "holder_uscc": v.holder_id,
        "amount_fen": v.amount_fen,
        "issued_on": v.issued_on,
        "maturity": v.maturity,
        "status": v.status.value,
        "tier": v.tier,
        "invoice_key": v.invoice_key,
        "financed_on": v.financed_on,
        "previous_holders": ",".join(v.previous_holders),
        "financing_pending": record.financing_pending,
        "version": record.version,
    }


def _payable(row: Any) -> PayableView:
    return PayableView(
        payable_id=row.payable_id,
        core=row.core_uscc,
        supplier=row.supplier_uscc,
        invoice_key=row.invoice_key,
        invoice_month=row.invoice_month,
        amount_fen=int(row.amount_fen),
        confirmed_by=row.confirmed_by,
        voucher_id=row.voucher_id,
    )


def _rate(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).normalize()


def _financing(row: Any) -> FinancingView:
    return FinancingView(
        financing_id=row.financing_id,
        voucher_id=row.voucher_id,
        holder=row.holder_uscc,
        core=row.core_uscc,
        status=row.status,
        requested_on=row.requested_on,
        requested_by=row.requested_by,
        face_fen=int(row.face_fen),
        decided_on=row.decided_on,
        decided_by=row.decided_by,
        reason=row.reason,
        days=row.days,
        annual_rate=_rate(row.annual_rate),
        fee_rate=_rate(row.fee_rate),
        interest_fen=None if row.interest_fen is None else int(row.interest_fen),
        fee_fen=None if row.fee_fen is None else int(row.fee_fen),
        proceeds_fen=None if row.proceeds_fen is None else int(row.proceeds_fen),
        entry_key=row.entry_key,
    )


def _financing_values(f: FinancingView) -> dict[str, Any]:
    return {
        "voucher_id": f.voucher_id,
        "holder_uscc": f.holder,
        "core_uscc": f.core,
        "status": f.status,
        "requested_on": f.requested_on,
        "requested_by": f.requested_by,
        "decided_on": f.decided_on,
        "decided_by": f.decided_by,
        "reason": f.reason,
        "face_fen": f.face_fen,
        "days": f.days,
        "annual_rate": f.annual_rate,
        "fee_rate": f.fee_rate,
        "interest_fen": f.interest_fen,
        "fee_fen": f.fee_fen,
        "proceeds_fen": f.proceeds_fen,
        "entry_key": f.entry_key,
    }


class SqlSupplyChainRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._c = connection
        self._clock = clock
        self._postgres = connection.dialect.name == "postgresql"

    # -- cores, partners, users ---------------------------------------------------------------

    def core(self, uscc: str, *, lock: bool = False) -> CoreEnterpriseView | None:
        statement = _CORE_FOR_UPDATE if lock and self._postgres else _CORE
        row = fast.execute(self._c, statement, {"b_uscc": uscc}).one_or_none()
        return None if row is None else _core(row)

    def cores(self) -> list[CoreEnterpriseView]:
        rows = self._c.execute(select(core_enterprises).order_by(_C.uscc))
        return [_core(r) for r in rows]

    def cores_by_id(self, usccs: Sequence[str]) -> dict[str, CoreEnterpriseView]:
        found: dict[str, CoreEnterpriseView] = {}
        for chunk in _chunks(usccs):
            for row in self._c.execute(select(core_enterprises).where(_C.uscc.in_(chunk))):
                found[row.uscc] = _core(row)
        return found

    def add_core(self, core: CoreEnterpriseView) -> None:
        fast.execute(self._c, _INSERT_CORE, {"uscc": core.uscc, **_core_values(core)})

    def save_core(self, core: CoreEnterpriseView, *, expected_version: int) -> None:
        values = {f"v_{k}": v for k, v in _core_values(core).items()}
        done = fast.execute(
            self._c, _UPDATE_CORE, {"b_uscc": core.uscc, "b_expected": expected_version, **values}
        )
        if done.rowcount != 1:
            raise Conflict("the core enterprise changed meanwhile: try again")

    def expire_cores(self, on: dt.date) -> int:
        done = self._c.execute(
            update(core_enterprises)
            .where(_C.status == FacilityStatus.ACTIVE.value, _C.expires_on < on)
            .values(status=FacilityStatus.EXPIRED.value, version=_C.version + 1)
        )
        return int(done.rowcount)

    def add_partner(self, partner: PartnerView, *, at: dt.datetime) -> bool:
        exists = self._c.execute(
            select(core_partners.c.core_uscc).where(
                core_partners.c.core_uscc == partner.core,
                core_partners.c.partner_uscc == partner.partner,
                core_partners.c.relation == partner.relation,
            )
        ).first()
        if exists is not None:
            return False
        self._c.execute(
            insert(core_partners).values(
                core_uscc=partner.core,
                partner_uscc=partner.partner,
                relation=partner.relation,
                named_at=at,
                named_by=partner.named_by,
            )
        )
        return True

    def partners(self, core: str) -> list[PartnerView]:
        rows = self._c.execute(
            select(core_partners)
            .where(core_partners.c.core_uscc == core)
            .order_by(core_partners.c.relation, core_partners.c.partner_uscc)
        )
        return [PartnerView(r.core_uscc, r.partner_uscc, r.relation, r.named_by) for r in rows]

    def is_partner(self, core: str, partner: str, relation: str) -> bool:
        found = fast.execute(
            self._c, _IS_PARTNER, {"b_core": core, "b_partner": partner, "b_relation": relation}
        )
        return bool(found.rows)

    def bind_user(self, user_id: str, uscc: str, *, by: str, at: dt.datetime) -> bool:
        exists = self._c.execute(
            select(enterprise_users.c.user_id).where(
                enterprise_users.c.user_id == user_id, enterprise_users.c.uscc == uscc
            )
        ).first()
        if exists is not None:
            return False
        self._c.execute(
            insert(enterprise_users).values(user_id=user_id, uscc=uscc, bound_at=at, bound_by=by)
        )
        return True

    def enterprises_of(self, user_id: str) -> frozenset[str]:
        return frozenset(fast.execute(self._c, _BOUND, {"b_user": user_id}).scalars())

    # -- payables -----------------------------------------------------------------------------

    def add_payable(self, payable: PayableView, *, at: dt.datetime) -> None:
        # No savepoint: a duplicate fails the whole unit of work, which rolls back anyway.
        try:
            fast.execute(
                self._c,
                _INSERT_PAYABLE,
                {
                    "payable_id": payable.payable_id,
                    "core_uscc": payable.core,
                    "supplier_uscc": payable.supplier,
                    "invoice_key": payable.invoice_key,
                    "invoice_month": payable.invoice_month,
                    "amount_fen": payable.amount_fen,
                    "confirmed_at": at,
                    "confirmed_by": payable.confirmed_by,
                    "voucher_id": None,
                },
            )
        except IntegrityError:
            raise InvoiceAlreadyUsed(
                "this month's invoices back a payable already",
                details={"invoice_key": payable.invoice_key},
            ) from None

    def payable(self, payable_id: str) -> PayableView | None:
        row = fast.execute(self._c, _PAYABLE, {"b_id": payable_id}).one_or_none()
        return None if row is None else _payable(row)

    def payable_by_invoice(self, invoice_key: str) -> PayableView | None:
        row = fast.execute(self._c, _PAYABLE_BY_INVOICE, {"b_key": invoice_key}).one_or_none()
        return None if row is None else _payable(row)

    def payables(self, core: str) -> list[PayableView]:
        rows = self._c.execute(
            select(payables)
            .where(payables.c.core_uscc == core)
            .order_by(payables.c.invoice_month, payables.c.payable_id)
        )
        return [_payable(r) for r in rows]

    def link_payable(self, payable_id: str, voucher_id: str) -> None:
        done = fast.execute(self._c, _LINK_PAYABLE, {"b_id": payable_id, "b_voucher": voucher_id})
        if done.rowcount != 1:
            raise InvoiceAlreadyUsed("the payable backs a voucher already")

    # -- vouchers -----------------------------------------------------------------------------

    def voucher(self, voucher_id: str) -> VoucherRecord | None:
        row = fast.execute(self._c, _VOUCHER, {"b_id": voucher_id}).one_or_none()
        return None if row is None else _voucher(row)

    def voucher_held(self, voucher_id: str, user_id: str) -> tuple[VoucherRecord, bool] | None:
        row = fast.execute(
            self._c, _VOUCHER_HELD, {"b_id": voucher_id, "b_user": user_id}
        ).one_or_none()
        return None if row is None else (_voucher(row), bool(row.held_by_user))

    def lock_roots(self, root_ids: Sequence[str]) -> None:
        if not self._postgres or not root_ids:
            return
        if len(root_ids) == 1:
            fast.execute(self._c, _LOCK_ROOT, {"b_id": root_ids[0]})
            return
        for chunk in _chunks(sorted(root_ids)):
            self._c.execute(
                select(_V.voucher_id)
                .where(_V.voucher_id.in_(chunk))
                .order_by(_V.voucher_id)
                .with_for_update()
            ).all()

    def existing_ids(self, voucher_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(voucher_ids):
            found.update(
                r.voucher_id
                for r in self._c.execute(select(_V.voucher_id).where(_V.voucher_id.in_(chunk)))
            )
        return found

    def add_vouchers(self, records: Sequence[VoucherRecord], *, at: dt.datetime) -> None:
        rows = [
            {"voucher_id": r.voucher.voucher_id, **_voucher_values(r), "updated_at": at}
            for r in records
        ]
        try:
            if len(rows) <= _FEW:  # a split's few parts: prebuilt, one by one
                for row in rows:
                    fast.execute(self._c, _INSERT_VOUCHER, row)
            else:
                self._c.execute(insert(vouchers), rows)
        except IntegrityError:
            raise DuplicateVoucherId("a voucher id or its invoice is taken") from None

    def save_voucher(
        self, record: VoucherRecord, *, expected_version: int, at: dt.datetime
    ) -> None:
        values = {f"v_{k}": v for k, v in _voucher_values(record).items()}
        done = fast.execute(
            self._c,
            _UPDATE_VOUCHER,
            {
                "b_id": record.voucher.voucher_id,
                "b_expected": expected_version,
                "v_updated_at": at,
                **values,
            },
        )
        if done.rowcount != 1:
            raise Conflict("the voucher changed meanwhile: try again")

    def add_transfer(
        self, voucher_id: str, from_uscc: str, to_uscc: str, on: dt.date, tier: int
    ) -> None:
        # The tier it reaches numbers the transfer: each transfer of one voucher id moves it
        # one tier down, so (voucher, tier) is unique without reading the last number.
        fast.execute(
            self._c,
            _INSERT_TRANSFER,
            {
                "voucher_id": voucher_id,
                "seq": tier,
                "from_uscc": from_uscc,
                "to_uscc": to_uscc,
                "transferred_on": on,
                "tier": tier,
            },
        )

    def vouchers(self, query: VoucherQuery) -> list[VoucherRecord]:
        statement = select(vouchers)
        if query.core is not None:
            statement = statement.where(_V.core_uscc == query.core)
        if query.holder is not None:
            statement = statement.where(_V.holder_uscc == query.holder)
        if query.status is not None:
            statement = statement.where(_V.status == query.status)
        if query.root_id is not None:
            statement = statement.where(_V.root_id == query.root_id)
        if query.enterprises is not None:
            allowed = sorted(query.enterprises) or [""]
            statement = statement.where(or_(_V.core_uscc.in_(allowed), _V.holder_uscc.in_(allowed)))
        if query.after is not None:
            statement = statement.where(_V.voucher_id > query.after)
        rows = self._c.execute(statement.order_by(_V.voucher_id).limit(query.limit))
        return [_voucher(r) for r in rows]

    def tree(self, root_id: str) -> list[VoucherRecord]:
        rows = self._c.execute(
            select(vouchers).where(_V.root_id == root_id).order_by(_V.tier, _V.voucher_id)
        )
        return [_voucher(r) for r in rows]

    def transfers(self, voucher_ids: Sequence[str]) -> list[TransferView]:
        t = voucher_transfers.c
        found: list[TransferView] = []
        for chunk in _chunks(voucher_ids):
            rows = self._c.execute(select(voucher_transfers).where(t.voucher_id.in_(chunk)))
            found.extend(
                TransferView(r.voucher_id, r.seq, r.from_uscc, r.to_uscc, r.transferred_on, r.tier)
                for r in rows
            )
        return sorted(found, key=lambda x: (x.transferred_on, x.voucher_id, x.seq))

    def live_totals(self, core: str) -> tuple[dict[str, int], dict[int, int], int]:
        rows = self._c.execute(
            select(_V.status, _V.tier, func.count(), func.sum(_V.amount_fen))
            .where(_V.core_uscc == core, _V.status.in_(LIVE))
            .group_by(_V.status, _V.tier)
        ).all()
        by_status: dict[str, int] = {}
        by_tier: dict[int, int] = {}
        count = 0
        for status, tier, n, total in rows:
            by_status[status] = by_status.get(status, 0) + int(total)
            by_tier[int(tier)] = by_tier.get(int(tier), 0) + int(total)
            count += int(n)
        return by_status, by_tier, count

    # -- financings ---------------------------------------------------------------------------

    def add_financing(self, financing: FinancingView) -> None:
        try:
            fast.execute(
                self._c,
                _INSERT_FINANCING,
                {"financing_id": financing.financing_id, **_financing_values(financing)},
            )
        except IntegrityError:
            raise Conflict(
                "the voucher has a financing already", details={"voucher": financing.voucher_id}
            ) from None

    def financing(self, financing_id: str) -> FinancingView | None:
        row = fast.execute(self._c, _FINANCING, {"b_id": financing_id}).one_or_none()
        return None if row is None else _financing(row)

    def save_financing(self, financing: FinancingView, *, expected_status: str) -> None:
        values = {f"v_{k}": v for k, v in _financing_values(financing).items()}
        done = fast.execute(
            self._c,
            _UPDATE_FINANCING,
            {"b_id": financing.financing_id, "b_expected": expected_status, **values},
        )
        if done.rowcount != 1:
            raise Conflict("the financing changed meanwhile: try again")

    def financings(self, *, status: str | None, limit: int) -> list[FinancingView]:
        statement = select(voucher_financings)
        if status is not None:
            statement = statement.where(_F.status == status)
        rows = self._c.execute(statement.order_by(_F.requested_on, _F.financing_id).limit(limit))
        return [_financing(r) for r in rows]

    def financings_of(self, voucher_ids: Sequence[str]) -> list[FinancingView]:
        found: list[FinancingView] = []
        for chunk in _chunks(voucher_ids):
            rows = self._c.execute(select(voucher_financings).where(_F.voucher_id.in_(chunk)))
            found.extend(_financing(r) for r in rows)
        return sorted(found, key=lambda f: f.financing_id)

    def interest_of(self, voucher_ids: Sequence[str]) -> dict[str, tuple[int, Decimal]]:
        found: dict[str, tuple[int, Decimal]] = {}
        for chunk in _chunks(voucher_ids):
            # By voucher only, the status kept in Python: with ``status = 'approved'`` in the
            # query a planner without statistics (SQLite; PostgreSQL before its first
            # ANALYZE) scans every approved financing ever, once per chunk.
            rows = self._c.execute(
                select(
                    _F.voucher_id,
                    _F.status,
                    _F.interest_fen - _F.interest_earned_fen,
                    _F.annual_rate,
                ).where(_F.voucher_id.in_(chunk))
            )
            for voucher_id, status, unearned, rate in rows:
                if status == "approved":
                    found[voucher_id] = (int(unearned), Decimal(rate))
        return found

    def earning(self, through: dt.date) -> list[tuple[str, str]]:
        rows = self._c.execute(
            select(_V.voucher_id, _V.root_id)
            .join(voucher_financings, _F.voucher_id == _V.voucher_id)
            .where(
                _F.status == "approved",
                _F.decided_on <= through,
                _F.interest_earned_fen < _F.interest_fen,
                _V.status.in_(["financed", "overdue"]),
            )
            .order_by(_V.voucher_id)
        )
        return [(r.voucher_id, r.root_id) for r in rows]

    def unearned(self, voucher_ids: Sequence[str]) -> list[UnearnedDiscount]:
        found: list[UnearnedDiscount] = []
        for chunk in _chunks(voucher_ids):
            rows = self._c.execute(
                select(
                    _F.financing_id,
                    _F.voucher_id,
                    _F.decided_on,
                    _F.days,
                    _F.interest_fen,
                    _F.interest_earned_fen,
                    _F.status,
                ).where(_F.voucher_id.in_(chunk))  # by voucher only: see ``interest_of``
            )
            found.extend(
                UnearnedDiscount(
                    financing_id=r.financing_id,
                    voucher_id=r.voucher_id,
                    financed_on=r.decided_on,
                    days=int(r.days),
                    interest_fen=int(r.interest_fen),
                    earned_fen=int(r.interest_earned_fen),
                )
                for r in rows
                if r.status == "approved"
            )
        return sorted(found, key=lambda u: u.voucher_id)

    def set_earned(self, earned: Sequence[tuple[str, int, int]]) -> None:
        """``(financing_id, earned before, earned now)``: each row must still read the
        former (the caller holds the roots' locks; a mismatch is a lost update).

        PostgreSQL takes them all in one statement (arrays unnested: one round trip, not one
        per row); SQLite, in process, one prebuilt statement per row."""
        if self._postgres:
            updated = self._c.execute(
                _SET_EARNED_MANY,
                {
                    "ids": [financing_id for financing_id, _, _ in earned],
                    "befores": [before for _, before, _ in earned],
                    "afters": [after for _, _, after in earned],
                },
            ).scalars()
            self._all_earned(earned, set(updated))
            return
        for financing_id, before, after in earned:
            done = fast.execute(
                self._c,
                _SET_EARNED,
                {"b_id": financing_id, "b_before": before, "b_after": after},
            )
            if done.rowcount != 1:
                self._all_earned([(financing_id, before, after)], set())

    @staticmethod
    def _all_earned(expected: Sequence[tuple[str, int, int]], updated: set[str]) -> None:
        """Refuse the run if a financing of ``expected`` was not updated: its earned interest
        no longer read as the caller read it (or it is gone)."""
        missed = sorted(f for f, _, _ in expected if f not in updated)
        if missed:
            raise Conflict(
                "the financing's earned interest changed under the run",
                details={"financing": missed[0]},
            )

    # -- settlement ---------------------------------------------------------------------------

    def due(
        self, on: dt.date, *, after: str | None, limit: int | None, overdue_too: bool
    ) -> list[tuple[str, str]]:
        statuses = LIVE if overdue_too else [s for s in LIVE if s != "overdue"]
        statement = select(_V.voucher_id, _V.root_id).where(
            _V.maturity <= on, _V.status.in_(statuses)
        )
        if after is not None:
            statement = statement.where(_V.voucher_id > after)
        statement = statement.order_by(_V.voucher_id)
        if limit is not None:
            statement = statement.limit(limit)
        return [(r.voucher_id, r.root_id) for r in self._c.execute(statement)]

    def lock_and_read(
        self, root_ids: Sequence[str], voucher_ids: Sequence[str]
    ) -> list[VoucherRecord]:
        """Lock the roots (PostgreSQL, in id order) and read the vouchers: a voucher that is
        its own root is read by the locking statement itself."""
        found: dict[str, VoucherRecord] = {}
        wanted = set(voucher_ids)
        for chunk in _chunks(sorted(root_ids)):
            statement = select(vouchers).where(_V.voucher_id.in_(chunk)).order_by(_V.voucher_id)
            if self._postgres:
                statement = statement.with_for_update()
            for row in self._c.execute(statement):
                if row.voucher_id in wanted:
                    found[row.voucher_id] = _voucher(row)
        rest = [v for v in voucher_ids if v not in found]
        found.update((r.voucher.voucher_id, r) for r in self.vouchers_by_id(rest))
        return sorted(found.values(), key=lambda r: r.voucher.voucher_id)

    def vouchers_by_id(self, voucher_ids: Sequence[str]) -> list[VoucherRecord]:
        found: list[VoucherRecord] = []
        for chunk in _chunks(voucher_ids):
            rows = self._c.execute(select(vouchers).where(_V.voucher_id.in_(chunk)))
            found.extend(_voucher(r) for r in rows)
        return sorted(found, key=lambda r: r.voucher.voucher_id)

    def _set_status(self, records: Sequence[VoucherRecord], at: dt.datetime) -> None:
        """Each record's voucher to its (new) status, the caller holding the roots' locks; a
        voucher that changed since it was read is not touched (refused). SQLite: one
        ``UPDATE … WHERE voucher_id IN (…) AND status IN (live)`` per status and chunk
        (its planner probes the primary key); PostgreSQL: one update per status and chunk
        joined on the ids and the versions read (``_SET_STATUS_MANY``; each record carries
        its version after the change, as ``save_voucher``'s do). Leaving the live
        book closes any financing request (the run lapses it), so the pending flag goes
        with the status."""
        by_status: dict[str, list[VoucherRecord]] = {}
        for r in records:
            by_status.setdefault(r.voucher.status.value, []).append(r)
        for target, chosen in by_status.items():
            for chunk in _chunks(chosen, _ROWS):
                if self._postgres:
                    done = self._c.execute(
                        _SET_STATUS_MANY,
                        {
                            "status": target,
                            "at": at,
                            "ids": [r.voucher.voucher_id for r in chunk],
                            # The records carry the version after the change: they were
                            # read at the one before.
                            "versions": [r.version - 1 for r in chunk],
                        },
                    )
                else:
                    done = self._c.execute(
                        update(vouchers)
                        .where(
                            _V.voucher_id.in_([r.voucher.voucher_id for r in chunk]),
                            _V.status.in_(LIVE),
                        )
                        .values(
                            status=target,
                            financing_pending=False,
                            version=_V.version + 1,
                            updated_at=at,
                        )
                    )
                if done.rowcount != len(chunk):
                    raise Conflict("vouchers changed during settlement: run it again")

    def _insert_rows(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Many rows at once: PostgreSQL ``COPY … FROM STDIN`` on the unit of work's own
        connection (psycopg's executemany sends a statement per row); SQLite executemany."""
        if not rows:
            return
        if not self._postgres:
            self._c.execute(insert(table), list(rows))
            return
        names = list(rows[0])
        driver: Any = self._c.connection.driver_connection
        columns = ", ".join(f'"{name}"' for name in names)
        with (
            driver.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])

    def apply_settlements(
        self, rows: Sequence[SettlementRow], on: dt.date, *, at: dt.datetime
    ) -> None:
        self._set_status([r.record for r in rows], at)
        self._insert_rows(
            voucher_settlements,
            [
                {
                    "voucher_id": r.record.voucher.voucher_id,
                    "core_uscc": r.record.voucher.core_id,
                    "payee": r.payee,
                    "amount_fen": r.record.voucher.amount_fen,
                    "penalty_fen": r.penalty_fen,
                    "settled_on": on,
                    "entry_key": r.entry_key,
                }
                for r in rows
            ],
        )
        paid: dict[str, int] = {}
        for r in rows:
            core = r.record.voucher.core_id
            paid[core] = paid.get(core, 0) + r.record.voucher.amount_fen
        self._c.execute(
            update(core_enterprises)
            .where(_C.uscc == bindparam("b_core"))
            .values(outstanding_fen=_C.outstanding_fen - bindparam("b_paid")),
            [{"b_core": core, "b_paid": amount} for core, amount in sorted(paid.items())],
        )

    def mark_overdue(self, records: Sequence[VoucherRecord], *, at: dt.datetime) -> None:
        self._set_status(records, at)

    def settlements(self, voucher_ids: Sequence[str]) -> list[SettlementView]:
        s = voucher_settlements.c
        found: list[SettlementView] = []
        for chunk in _chunks(voucher_ids):
            rows = self._c.execute(select(voucher_settlements).where(s.voucher_id.in_(chunk)))
            found.extend(
                SettlementView(
                    r.voucher_id,
                    r.core_uscc,
                    r.payee,
                    int(r.amount_fen),
                    int(r.penalty_fen),
                    r.settled_on,
                    r.entry_key,
                )
                for r in rows
            )
        return sorted(found, key=lambda x: x.voucher_id)

    def post_entries(self, entries: Sequence[JournalEntry]) -> None:
        if not entries:
            return
        now = self._clock.now()
        heads: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        # One new id per batch and a counter: ids stay unique and sorted, without drawing
        # 80 random bits per entry.
        base = new_id("je")
        for n, entry in enumerate(entries):
            entry_id = f"{base}{n:07d}"
            heads.append(
                {
                    "entry_id": entry_id,
                    "idempotency_key": entry.idempotency_key,
                    "posted_on": entry.posted_on,
                    "description": entry.description[:400],
                    "reverses_key": entry.reverses_key,
                    "created_at": now,
                }
            )
            lines.extend(
                {
                    "entry_id": entry_id,
                    "line_no": number,
                    "account": posting.account.code,
                    "amount_fen": posting.amount_fen,
                }
                for number, posting in enumerate(entry.postings, start=1)
            )
        self._insert_rows(journal_entries, heads)
        self._insert_rows(journal_lines, lines)


def live_sum(connection: Connection, core: str) -> int:
    """Sum of the live vouchers of ``core`` (tests and checks compare it with the counter)."""
    total = connection.execute(
        select(func.coalesce(func.sum(_V.amount_fen), 0)).where(
            and_(_V.core_uscc == core, _V.status.in_(LIVE))
        )
    ).scalar_one()
    return int(total)


class SqlVoucherRequests:
    """The request log (``service_requests``, shared with servicing) on prebuilt statements."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._c = connection
        self._clock = clock

    def get(self, idempotency_key: str) -> StoredRequest | None:
        row = fast.execute(self._c, _REQUEST, {"b_key": idempotency_key}).one_or_none()
        if row is None:
            return None
        return StoredRequest(
            idempotency_key=row.idempotency_key,
            operation=row.operation,
            request_digest=row.request_digest,
            result_json=row.result_json,
            undo_json=row.undo_json,
        )

    def _values(self, request: StoredRequest) -> dict[str, Any]:
        return {
            "idempotency_key": request.idempotency_key,
            "operation": request.operation,
            "request_digest": request.request_digest,
            "result_json": request.result_json,
            "undo_json": request.undo_json,
            "created_at": self._clock.now(),
        }

    def add_if_new(self, request: StoredRequest) -> bool:
        statement = _INSERT_NEW_REQUEST[self._c.dialect.name]
        return fast.execute(self._c, statement, self._values(request)).rowcount == 1

    def add(self, request: StoredRequest) -> None:
        try:
            fast.execute(self._c, _INSERT_REQUEST, self._values(request))
        except IntegrityError:
            # Two requests raced with one key: the loser is refused (its work rolls back).
            raise IdempotencyConflict(
                "the idempotency key is being used by another request",
                details={"idempotency_key": request.idempotency_key},
            ) from None
