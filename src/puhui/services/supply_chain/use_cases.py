"""Supply-chain finance on the platform: core facilities, payables, vouchers, financing.

Every write is one transaction: the idempotency key is looked up first (a replay returns the
first result, a reused key with another request is 409), the voucher tree's root row is
locked (PostgreSQL ``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` admits one writer),
the domain's rule function decides, the change, its ledger entry and its audit event are
written, and the result is remembered under the key. See docs/adr/0036.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from puhui.domain.clock import Clock
from puhui.domain.errors import IdempotencyConflict, InvalidDate, InvalidInput, PuhuiError
from puhui.domain.ids import new_id
from puhui.domain.supply_chain import (
    FacilityExceeded,
    FacilityExpired,
    FacilityFrozen,
    InvoiceAlreadyUsed,
    InvoiceMismatch,
    UnknownEnterprise,
    UnknownVoucher,
    VoucherStatus,
    accept,
    financing_entry,
    issue_voucher,
    plan_financing,
    plan_split,
    plan_transfer,
)
from puhui.services.audit import record
from puhui.services.security.permissions import Permission, Principal, Role, require
from puhui.services.supply_chain import earning, requests, settlement
from puhui.services.supply_chain.ports import (
    CoreAlreadyOnboarded,
    CoreDefaulting,
    CoreEnterpriseView,
    CoreNotEligible,
    CoreNotFound,
    DealerStanding,
    EarningRun,
    EnterpriseSource,
    FacilityDeclined,
    FacilityPolicy,
    FacilityStatus,
    FacilityUsage,
    FinancingNotRequested,
    FinancingPending,
    FinancingStatus,
    FinancingView,
    MaturityBeyondTerm,
    NotASupplier,
    NotBound,
    NotNamedSupplier,
    PartnerView,
    PayableView,
    Relation,
    SettlementRun,
    SplitView,
    SupplyChainUnitOfWork,
    SupplyChainUnits,
    TreeView,
    VoucherQuery,
    VoucherRecord,
    VoucherView,
    voucher_view,
)

ELIGIBLE_SIZE_BANDS = frozenset({"medium", "small"})
"""Core enterprises the platform onboards: the market's medium and small firms."""
SUPPLIER_LOOKBACK_DAYS = 365
"""A transferee must have invoiced the holder within this many days before the transfer."""
MAX_PAGE = 500
MAX_AS_OF_DAYS = 366
MAX_PARTS = 100
View = TypeVar("View")


@dataclass
class SupplyChainService:
    """Built once by the composition root (API, CLI, demo, tests)."""

    units: SupplyChainUnits
    clock: Clock
    source: EnterpriseSource
    policy: FacilityPolicy

    # -- helpers -----------------------------------------------------------------------------

    def _write(  # noqa: PLR0917 - the one write path, called positionally
        self,
        principal: Principal,
        key: str,
        operation: str,
        request: Mapping[str, Any],
        cls: type[View],
        work: Any,
    ) -> View:
        """Run ``work(uow)`` once per key in one transaction; replay its first result.

        Keys are nearly always new, so the key is not looked up first: the work runs, and the
        request is recorded with it only if its key is free. A taken key (a retry) rolls the
        work back and replays the first result, or is 409 for another request; a retry whose
        work now fails (the voucher has moved on) finds its first result the same way.
        """
        scoped = requests.scoped_key(principal, key)
        request_digest = requests.digest(operation, request)
        with self.units() as uow:
            try:
                result: View = work(uow)
            except PuhuiError:
                uow.rollback()
                replayed = requests.replay(uow, scoped, operation, request_digest, cls)
                if replayed is not None:
                    return replayed
                raise
            if not requests.remember_if_new(uow, scoped, operation, request_digest, result):
                uow.rollback()
                replayed = requests.replay(uow, scoped, operation, request_digest, cls)
                if replayed is None:  # taken, then gone: refuse rather than guess
                    raise IdempotencyConflict(
                        "the idempotency key is being used by another request",
                        details={"idempotency_key": scoped},
                    )
                return replayed
            uow.commit()
            return result

    @staticmethod
    def _audit(  # noqa: PLR0917 - one audit event, called positionally
        uow: SupplyChainUnitOfWork,
        principal: Principal,
        action: str,
        entity: str,
        entity_id: str,
        payload: Mapping[str, Any],
    ) -> None:
        record(
            uow,
            actor=principal.audit_name(),
            action=f"supply_chain.{action}",
            entity=entity,
            entity_id=entity_id,
            payload=payload,
        )

    @staticmethod
    def _bound(uow: SupplyChainUnitOfWork, principal: Principal, uscc: str) -> None:
        """An enterprise user acts only for the enterprises it is bound to."""
        if uscc not in uow.supply_chain.enterprises_of(principal.user_id):
            raise NotBound("the user is not bound to this enterprise", details={"enterprise": uscc})

    @staticmethod
    def _core(uow: SupplyChainUnitOfWork, uscc: str, *, lock: bool = False) -> CoreEnterpriseView:
        found = uow.supply_chain.core(uscc, lock=lock)
        if found is None:
            raise CoreNotFound("no onboarded core enterprise has this code", details={"core": uscc})
        return found

    @staticmethod
    def _locked_voucher(uow: SupplyChainUnitOfWork, voucher_id: str) -> VoucherRecord:
        """The voucher, read again after its tree's root row is locked."""
        repo = uow.supply_chain
        found = repo.voucher(voucher_id)
        if found is None:
            raise UnknownVoucher("no such voucher", details={"voucher": voucher_id})
        repo.lock_roots([found.voucher.root_id])
        if uow.dialect == "sqlite":
            return found  # BEGIN IMMEDIATE: nobody wrote since the read
        again = repo.voucher(voucher_id)
        if again is None:  # pragma: no cover - vouchers are never deleted
            raise UnknownVoucher("no such voucher", details={"voucher": voucher_id})
        return again

    @staticmethod
    def _held_voucher(
        uow: SupplyChainUnitOfWork, principal: Principal, voucher_id: str
    ) -> VoucherRecord:
        """The voucher, locked as ``_locked_voucher`` does, whose holder the user acts for
        (``_bound``): the binding is read with the voucher, in the same statement."""
        repo = uow.supply_chain
        found = repo.voucher_held(voucher_id, principal.user_id)
        if found is None:
            raise UnknownVoucher("no such voucher", details={"voucher": voucher_id})
        if uow.dialect != "sqlite":  # read again under the root's lock
            repo.lock_roots([found[0].voucher.root_id])
            found = repo.voucher_held(voucher_id, principal.user_id)
            if found is None:  # pragma: no cover - vouchers are never deleted
                raise UnknownVoucher("no such voucher", details={"voucher": voucher_id})
        stored, held = found
        if not held:
            raise NotBound(
                "the user is not bound to this enterprise",
                details={"enterprise": stored.voucher.holder_id},
            )
        return stored

    def _enterprise_scope(
        self, uow: SupplyChainUnitOfWork, principal: Principal
    ) -> frozenset[str] | None:
        """None for staff (every enterprise); an enterprise user's bound enterprises."""
        if principal.role is Role.APPLICANT:
            return uow.supply_chain.enterprises_of(principal.user_id)
        return None

    # -- enterprise users ----------------------------------------------------------------------

    def bind_user(self, principal: Principal, *, user_id: str, uscc: str) -> bool:
        """Bind an enterprise user (an applicant-role login) to an enterprise it acts for."""
        require(principal, Permission.CORE_MANAGE)
        if not user_id or len(user_id) > 40:
            raise InvalidInput("a user id of 1 to 40 characters", details={"field": "user_id"})
        if self.source.enterprise(uscc) is None:
            raise UnknownEnterprise(
                "no such enterprise in the data sources", details={"uscc": uscc}
            )
        with self.units() as uow:
            added = uow.supply_chain.bind_user(
                user_id, uscc, by=principal.audit_name(), at=self.clock.now()
            )
            if added:
                self._audit(
                    uow, principal, "user_bound", "enterprise_user", user_id, {"uscc": uscc}
                )
                uow.commit()
            return added

    # -- core enterprises ----------------------------------------------------------------------

    def onboard_core(
        self, principal: Principal, *, uscc: str, requested_fen: int, as_of: dt.date, key: str
    ) -> CoreEnterpriseView:
        """KYC (a known medium or small enterprise), then the strategy decides the facility."""
        require(principal, Permission.CORE_MANAGE)
        if isinstance(requested_fen, bool) or requested_fen <= 0:
            raise InvalidInput(
                "the requested facility must be positive", details={"field": "requested"}
            )
        today = self.clock.today()
        if not today - dt.timedelta(days=MAX_AS_OF_DAYS) <= as_of <= today:
            raise InvalidDate(
                "the facility is decided on data as of a day in the last year",
                details={"field": "as_of"},
            )
        request = {"uscc": uscc, "requested_fen": requested_fen, "as_of": as_of}

        def work(uow: SupplyChainUnitOfWork) -> CoreEnterpriseView:
            if uow.supply_chain.core(uscc, lock=True) is not None:
                raise CoreAlreadyOnboarded(
                    "the core enterprise is onboarded already", details={"core": uscc}
                )
            info = self.source.enterprise(uscc)
            if info is None:
                raise CoreNotEligible(
                    "no such enterprise in the data sources", details={"uscc": uscc}
                )
            if info.size_band not in ELIGIBLE_SIZE_BANDS:
                raise CoreNotEligible(
                    f"only medium and small enterprises are onboarded, not {info.size_band}",
                    details={"uscc": uscc, "size_band": info.size_band},
                )
            facts = self.source.core_facts(uscc, as_of=as_of, requested_fen=requested_fen)
            decision = self.policy.decide_facility(facts)
            if (
                not decision.approved
                or decision.grade is None
                or decision.discount_annual_rate is None
            ):
                raise FacilityDeclined(
                    "the strategy declined the facility: " + "; ".join(decision.reasons),
                    details={
                        "reasons": list(decision.reasons),
                        "strategy_version": decision.strategy_version,
                    },
                )
            now = self.clock.now()
            core = CoreEnterpriseView(
                uscc=uscc,
                status=FacilityStatus.ACTIVE.value,
                limit_fen=decision.limit_fen,
                outstanding_fen=0,
                grade=decision.grade,
                discount_rate=decision.discount_annual_rate,
                fee_rate=decision.fee_rate,
                term_days=decision.term_days,
                expires_on=as_of + dt.timedelta(days=365),
                defaulting=False,
                frozen_reason=None,
                strategy_version=decision.strategy_version,
                decided_at=now,
                onboarded_by=principal.audit_name(),
                version=1,
            )
            uow.supply_chain.add_core(core)
            self._audit(
                uow,
                principal,
                "core_onboarded",
                "core_enterprise",
                uscc,
                {
                    "limit_fen": core.limit_fen,
                    "grade": core.grade,
                    "discount_rate": str(core.discount_rate),
                    "strategy_version": core.strategy_version,
                },
            )
            return core

        return self._write(principal, key, "scf.onboard_core", request, CoreEnterpriseView, work)

    def name_partner(
        self, principal: Principal, *, core: str, partner_uscc: str, relation: str, key: str
    ) -> PartnerView:
        """The core names a supplier or dealer (risk staff record it)."""
        require(principal, Permission.CORE_MANAGE)
        try:
            kind = Relation(relation)
        except ValueError:
            raise InvalidInput(
                "relation is supplier or dealer", details={"field": "relation"}
            ) from None
        if partner_uscc == core:
            raise InvalidInput(
                "a core enterprise is not its own partner", details={"field": "partner"}
            )

        def work(uow: SupplyChainUnitOfWork) -> PartnerView:
            self._core(uow, core)
            if self.source.enterprise(partner_uscc) is None:
                raise UnknownEnterprise(
                    "no such enterprise in the data sources", details={"uscc": partner_uscc}
                )
            named = PartnerView(core, partner_uscc, kind.value, principal.audit_name())
            if uow.supply_chain.add_partner(named, at=self.clock.now()):
                self._audit(
                    uow,
                    principal,
                    "partner_named",
                    "core_enterprise",
                    core,
                    {"partner": partner_uscc, "relation": kind.value},
                )
            return named

        request = {"core": core, "partner": partner_uscc, "relation": kind.value}
        return self._write(principal, key, "scf.name_partner", request, PartnerView, work)

    def _set_frozen(
        self, principal: Principal, *, core: str, frozen: bool, reason: str, key: str
    ) -> CoreEnterpriseView:
        require(principal, Permission.CORE_MANAGE)
        reason = reason.strip()
        if not 1 <= len(reason) <= 200:
            raise InvalidInput("a reason of 1 to 200 characters", details={"field": "reason"})

        def work(uow: SupplyChainUnitOfWork) -> CoreEnterpriseView:
            stored = self._core(uow, core, lock=True)
            if not frozen and stored.defaulting:
                raise CoreDefaulting(
                    "the core has unpaid matured vouchers: record its payment first",
                    details={"core": core},
                )
            changed = replace(
                stored,
                status=FacilityStatus.FROZEN.value if frozen else FacilityStatus.ACTIVE.value,
                frozen_reason=reason if frozen else None,
                version=stored.version + 1,
            )
            uow.supply_chain.save_core(changed, expected_version=stored.version)
            self._audit(
                uow,
                principal,
                "facility_frozen" if frozen else "facility_unfrozen",
                "core_enterprise",
                core,
                {"reason": reason},
            )
            return changed

        operation = "scf.freeze" if frozen else "scf.unfreeze"
        return self._write(
            principal, key, operation, {"core": core, "reason": reason}, CoreEnterpriseView, work
        )

    def freeze_facility(
        self, principal: Principal, *, core: str, reason: str, key: str
    ) -> CoreEnterpriseView:
        return self._set_frozen(principal, core=core, frozen=True, reason=reason, key=key)

    def unfreeze_facility(
        self, principal: Principal, *, core: str, reason: str, key: str
    ) -> CoreEnterpriseView:
        return self._set_frozen(principal, core=core, frozen=False, reason=reason, key=key)

    def record_core_nonpayment(
        self, principal: Principal, *, core: str, on: dt.date, key: str
    ) -> CoreEnterpriseView:
        """The core did not fund its vouchers maturing on ``on``: it is marked defaulting and
        its facility frozen; the next settlement run marks its due vouchers overdue."""
        return self._set_defaulting(principal, core=core, defaulting=True, on=on, key=key)

    def record_core_payment(
        self, principal: Principal, *, core: str, on: dt.date, key: str
    ) -> CoreEnterpriseView:
        """The core funded its overdue vouchers: the next settlement run pays them with
        penalty interest. The facility stays frozen until risk unfreezes it."""
        return self._set_defaulting(principal, core=core, defaulting=False, on=on, key=key)

    def _set_defaulting(
        self, principal: Principal, *, core: str, defaulting: bool, on: dt.date, key: str
    ) -> CoreEnterpriseView:
        require(principal, Permission.CORE_MANAGE)

        def work(uow: SupplyChainUnitOfWork) -> CoreEnterpriseView:
            stored = self._core(uow, core, lock=True)
            changed = replace(stored, defaulting=defaulting, version=stored.version + 1)
            if defaulting:
                changed = replace(
                    changed, status=FacilityStatus.FROZEN.value, frozen_reason="core_nonpayment"
                )
            uow.supply_chain.save_core(changed, expected_version=stored.version)
            self._audit(
                uow,
                principal,
                "core_nonpayment" if defaulting else "core_paid",
                "core_enterprise",
                core,
                {"on": on.isoformat()},
            )
            return changed

        operation = "scf.nonpayment" if defaulting else "scf.core_paid"
        return self._write(
            principal, key, operation, {"core": core, "on": on}, CoreEnterpriseView, work
        )

    def list_cores(self, principal: Principal) -> list[CoreEnterpriseView]:
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            scope = self._enterprise_scope(uow, principal)
            found = uow.supply_chain.cores()
        return [c for c in found if scope is None or c.uscc in scope]

    def facility_usage(self, principal: Principal, *, core: str) -> FacilityUsage:
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            scope = self._enterprise_scope(uow, principal)
            if scope is not None and core not in scope:
                raise NotBound("the user is not bound to this core", details={"enterprise": core})
            stored = self._core(uow, core)
            by_status, by_tier, count = uow.supply_chain.live_totals(core)
        return FacilityUsage(
            core=stored,
            status=stored.effective_status(self.clock.today()),
            live_count=count,
            live_fen=sum(by_status.values()),
            by_status_fen=by_status,
            by_tier_fen=by_tier,
            financed_fen=by_status.get(VoucherStatus.FINANCED.value, 0),
        )

    def partners(self, principal: Principal, *, core: str) -> list[PartnerView]:
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            self._core(uow, core)
            return uow.supply_chain.partners(core)

    def dealer_standing(self, principal: Principal, *, core: str, dealer: str) -> DealerStanding:
        """The onboarded core's backing of a dealer line (``CoreNotFound`` when the core is
        not onboarded): whether it named ``dealer`` as its dealer, and its facility's grade
        while the facility is usable."""
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            stored = self._core(uow, core)
            named = uow.supply_chain.is_partner(core, dealer, Relation.DEALER.value)
        status = stored.effective_status(self.clock.today())
        usable = status == FacilityStatus.ACTIVE.value and not stored.defaulting
        return DealerStanding(
            core=core,
            dealer=dealer,
            named=named,
            grade=stored.grade if usable else None,
            facility_status=status,
        )

    # -- payables ------------------------------------------------------------------------------

    def confirm_payable(
        self,
        principal: Principal,
        *,
        core: str,
        supplier: str,
        invoice_month: dt.date,
        amount_fen: int,
        key: str,
    ) -> PayableView:
        """The core confirms what it owes a named supplier for a month's invoices: the
        market's invoice aggregate (seller = supplier, buyer = core, month) must exist with
        exactly this amount, and an invoice month backs one payable only."""
        require(principal, Permission.VOUCHER_ISSUE)
        if isinstance(amount_fen, bool) or amount_fen <= 0:
            raise InvalidInput("the amount must be positive", details={"field": "amount"})
        month = invoice_month.replace(day=1)
        invoice_key = f"{supplier}:{core}:{month:%Y-%m}"
        request = {"core": core, "supplier": supplier, "month": month, "amount_fen": amount_fen}

        def work(uow: SupplyChainUnitOfWork) -> PayableView:
            self._bound(uow, principal, core)
            self._core(uow, core, lock=True)
            repo = uow.supply_chain
            if not repo.is_partner(core, supplier, Relation.SUPPLIER.value):
                raise NotNamedSupplier(
                    "the core enterprise has not named this supplier",
                    details={"supplier": supplier},
                )
            invoiced = self.source.invoice_amount(supplier, core, month)
            if invoiced != amount_fen:
                raise InvoiceMismatch(
                    "no invoices of this amount from the supplier to the core in that month",
                    details={"invoice_key": invoice_key, "amount_fen": amount_fen},
                )
            payable = PayableView(
                payable_id=new_id("pay"),
                core=core,
                supplier=supplier,
                invoice_key=invoice_key,
                invoice_month=month,
                amount_fen=amount_fen,
                confirmed_by=principal.audit_name(),
                voucher_id=None,
            )
            # One payable per invoice month: the unique key refuses a second one
            # (``invoice_already_used``), without a read before.
            repo.add_payable(payable, at=self.clock.now())
            self._audit(
                uow,
                principal,
                "payable_confirmed",
                "payable",
                payable.payable_id,
                {"invoice_key": invoice_key, "amount_fen": amount_fen},
            )
            return payable

        return self._write(principal, key, "scf.confirm_payable", request, PayableView, work)

    def payables(self, principal: Principal, *, core: str) -> list[PayableView]:
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            scope = self._enterprise_scope(uow, principal)
            if scope is not None and core not in scope:
                raise NotBound("the user is not bound to this core", details={"enterprise": core})
            return uow.supply_chain.payables(core)

    # -- vouchers ------------------------------------------------------------------------------

    def issue_voucher(
        self, principal: Principal, *, core: str, payable_id: str, maturity: dt.date, key: str
    ) -> VoucherView:
        """The core issues a voucher for a confirmed payable to its supplier (pending its
        acceptance), within its facility (checked under the core's row lock)."""
        require(principal, Permission.VOUCHER_ISSUE)
        today = self.clock.today()
        request = {"core": core, "payable_id": payable_id, "maturity": maturity}

        def work(uow: SupplyChainUnitOfWork) -> VoucherView:
            self._bound(uow, principal, core)
            repo = uow.supply_chain
            facility = self._core(uow, core, lock=True)
            payable = repo.payable(payable_id)
            if payable is None or payable.core != core:
                raise UnknownVoucher(
                    "no such payable of this core", details={"payable": payable_id}
                )
            if payable.voucher_id is not None:
                raise InvoiceAlreadyUsed(
                    "the payable backs a voucher already",
                    details={"invoice_key": payable.invoice_key, "voucher": payable.voucher_id},
                )
            voucher = issue_voucher(
                new_id("vch"),
                core_id=core,
                holder_id=payable.supplier,
                amount_fen=payable.amount_fen,
                issued_on=today,
                maturity=maturity,
                invoice_key=payable.invoice_key,
            )
            if facility.status == FacilityStatus.FROZEN.value:
                raise FacilityFrozen(
                    "the core's facility is frozen",
                    details={"core": core, "reason": facility.frozen_reason},
                )
            if facility.effective_status(today) == FacilityStatus.EXPIRED.value:
                raise FacilityExpired(
                    "the core's facility has expired",
                    details={"core": core, "expired_on": facility.expires_on.isoformat()},
                )
            if (maturity - today).days > facility.term_days:
                raise MaturityBeyondTerm(
                    f"the facility allows vouchers of up to {facility.term_days} days",
                    details={"term_days": facility.term_days},
                )
            after = facility.outstanding_fen + voucher.amount_fen
            if after > facility.limit_fen:
                raise FacilityExceeded(
                    "the voucher would take the core above its facility",
                    details={"core": core, "facility_fen": facility.limit_fen, "after_fen": after},
                )
            repo.add_vouchers([VoucherRecord(voucher, False, 1)], at=self.clock.now())
            repo.link_payable(payable_id, voucher.voucher_id)
            repo.save_core(
                replace(facility, outstanding_fen=after, version=facility.version + 1),
                expected_version=facility.version,
            )
            self._audit(
                uow,
                principal,
                "voucher_issued",
                "voucher",
                voucher.voucher_id,
                {
                    "core": core,
                    "holder": voucher.holder_id,
                    "amount_fen": voucher.amount_fen,
                    "maturity": maturity.isoformat(),
                    "invoice_key": payable.invoice_key,
                },
            )
            return voucher_view(VoucherRecord(voucher, False, 1))

        return self._write(principal, key, "scf.issue", request, VoucherView, work)

    def _save(
        self, uow: SupplyChainUnitOfWork, before: VoucherRecord, after: VoucherRecord
    ) -> None:
        uow.supply_chain.save_voucher(
            replace(after, version=before.version + 1),
            expected_version=before.version,
            at=self.clock.now(),
        )

    def accept_voucher(self, principal: Principal, *, voucher_id: str, key: str) -> VoucherView:
        require(principal, Permission.VOUCHER_HOLD)
        today = self.clock.today()

        def work(uow: SupplyChainUnitOfWork) -> VoucherView:
            stored = self._held_voucher(uow, principal, voucher_id)
            accepted = replace(
                stored, voucher=accept(stored.voucher, by=stored.voucher.holder_id, on=today)
            )
            self._save(uow, stored, accepted)
            self._audit(uow, principal, "voucher_accepted", "voucher", voucher_id, {})
            return voucher_view(replace(accepted, version=stored.version + 1))

        return self._write(principal, key, "scf.accept", {"voucher": voucher_id}, VoucherView, work)

    def split_voucher(
        self, principal: Principal, *, voucher_id: str, parts: Sequence[int], key: str
    ) -> SplitView:
        """The holder splits a voucher into parts summing exactly to it (new ids)."""
        require(principal, Permission.VOUCHER_HOLD)
        if len(parts) > MAX_PARTS:
            raise InvalidInput(f"a split has at most {MAX_PARTS} parts", details={"field": "parts"})
        today = self.clock.today()
        amounts = list(parts)

        def work(uow: SupplyChainUnitOfWork) -> SplitView:
            stored = self._held_voucher(uow, principal, voucher_id)
            v = stored.voucher
            self._not_pending(stored)
            parent, children = plan_split(
                v, [(new_id("vch"), amount) for amount in amounts], by=v.holder_id, on=today
            )
            repo = uow.supply_chain
            self._save(uow, stored, replace(stored, voucher=parent))
            repo.add_vouchers([VoucherRecord(c, False, 1) for c in children], at=self.clock.now())
            self._audit(
                uow,
                principal,
                "voucher_split",
                "voucher",
                voucher_id,
                {"children": [c.voucher_id for c in children], "amounts_fen": amounts},
            )
            return SplitView(
                parent=voucher_view(replace(stored, voucher=parent, version=stored.version + 1)),
                children=tuple(voucher_view(VoucherRecord(c, False, 1)) for c in children),
            )

        return self._write(
            principal, key, "scf.split", {"voucher": voucher_id, "parts": amounts}, SplitView, work
        )

    @staticmethod
    def _not_pending(stored: VoucherRecord) -> None:
        if stored.financing_pending:
            raise FinancingPending(
                "a financing request awaits the bank for this voucher",
                details={"voucher": stored.voucher.voucher_id},
            )

    def transfer_voucher(
        self, principal: Principal, *, voucher_id: str, to: str, key: str
    ) -> VoucherView:
        """The holder passes the whole voucher to its own supplier: a known enterprise that
        invoiced the holder in the last 12 months."""
        require(principal, Permission.VOUCHER_HOLD)
        today = self.clock.today()

        def work(uow: SupplyChainUnitOfWork) -> VoucherView:
            stored = self._held_voucher(uow, principal, voucher_id)
            v = stored.voucher
            self._not_pending(stored)
            moved = plan_transfer(v, by=v.holder_id, to=to, on=today)
            if self.source.enterprise(to) is None:
                raise UnknownEnterprise(
                    "no such enterprise in the data sources", details={"uscc": to}
                )
            since = today - dt.timedelta(days=SUPPLIER_LOOKBACK_DAYS)
            if not self.source.sold_to(to, v.holder_id, since=since, before=today):
                raise NotASupplier(
                    "the transferee has not invoiced the holder in the last 12 months",
                    details={"to": to, "holder": v.holder_id},
                )
            after = replace(stored, voucher=moved)
            self._save(uow, stored, after)
            uow.supply_chain.add_transfer(voucher_id, v.holder_id, to, today, moved.tier)
            self._audit(
                uow,
                principal,
                "voucher_transferred",
                "voucher",
                voucher_id,
                {"from": v.holder_id, "to": to, "tier": moved.tier},
            )
            return voucher_view(replace(after, version=stored.version + 1))

        return self._write(
            principal, key, "scf.transfer", {"voucher": voucher_id, "to": to}, VoucherView, work
        )

    # -- financing -----------------------------------------------------------------------------

    def _price(self, facility: CoreEnterpriseView) -> tuple[Decimal, Decimal]:
        """Today's price of the core's grade from the strategy's pricing rules (the platform's
        day, not the machine's: the benchmark rate in force changes over time)."""
        rate = self.policy.discount_rate(facility.grade, as_of=self.clock.today())
        return rate, self.policy.fee_rate(facility.grade)

    def request_financing(
        self, principal: Principal, *, voucher_id: str, key: str
    ) -> FinancingView:
        """The holder asks the bank to discount the voucher. Until the bank decides, the
        voucher is marked pending: it can be neither split nor transferred."""
        require(principal, Permission.VOUCHER_HOLD)
        today = self.clock.today()

        def work(uow: SupplyChainUnitOfWork) -> FinancingView:
            stored = self._held_voucher(uow, principal, voucher_id)
            v = stored.voucher
            self._not_pending(stored)
            facility = self._core(uow, v.core_id)
            rate, fee_rate = self._price(facility)
            _, quote = plan_financing(
                v, by=v.holder_id, on=today, annual_rate=rate, fee_rate=fee_rate
            )
            if facility.status == FacilityStatus.FROZEN.value:
                raise FacilityFrozen("the core's facility is frozen", details={"core": v.core_id})
            financing = FinancingView(
                financing_id=new_id("fin"),
                voucher_id=voucher_id,
                holder=v.holder_id,
                core=v.core_id,
                status=FinancingStatus.REQUESTED.value,
                requested_on=today,
                requested_by=principal.audit_name(),
                face_fen=v.amount_fen,
                days=quote.days,
                annual_rate=quote.annual_rate,
                fee_rate=quote.fee_rate,
                interest_fen=quote.interest_fen,
                fee_fen=quote.fee_fen,
                proceeds_fen=quote.proceeds_fen,
            )
            uow.supply_chain.add_financing(financing)
            self._save(uow, stored, replace(stored, financing_pending=True))
            self._audit(
                uow,
                principal,
                "financing_requested",
                "voucher_financing",
                financing.financing_id,
                {"voucher": voucher_id, "face_fen": v.amount_fen},
            )
            return financing

        return self._write(
            principal, key, "scf.finance", {"voucher": voucher_id}, FinancingView, work
        )

    def _open_financing(self, uow: SupplyChainUnitOfWork, financing_id: str) -> FinancingView:
        found = uow.supply_chain.financing(financing_id)
        if found is None:
            raise UnknownVoucher("no such financing", details={"financing": financing_id})
        if found.status != FinancingStatus.REQUESTED.value:
            raise FinancingNotRequested(
                f"the financing is {found.status}", details={"financing": financing_id}
            )
        return found

    def approve_financing(
        self, principal: Principal, *, financing_id: str, key: str
    ) -> FinancingView:
        """Bank staff discount the voucher today at the core grade's price: the ledger entry
        pays the proceeds, the voucher is FINANCED (its payee at maturity is the bank)."""
        require(principal, Permission.VOUCHER_FINANCE_APPROVE)
        today = self.clock.today()

        def work(uow: SupplyChainUnitOfWork) -> FinancingView:
            pending = self._open_financing(uow, financing_id)
            stored = self._locked_voucher(uow, pending.voucher_id)
            pending = self._open_financing(uow, financing_id)
            v = stored.voucher
            facility = self._core(uow, v.core_id)
            if facility.status == FacilityStatus.FROZEN.value:
                raise FacilityFrozen("the core's facility is frozen", details={"core": v.core_id})
            rate, fee_rate = self._price(facility)
            financed, priced = plan_financing(
                v, by=v.holder_id, on=today, annual_rate=rate, fee_rate=fee_rate
            )
            entry_key = f"scf:fin:{financing_id}"
            uow.ledger.post(financing_entry(entry_key, priced, today))
            approved = replace(
                pending,
                status=FinancingStatus.APPROVED.value,
                decided_on=today,
                decided_by=principal.audit_name(),
                days=priced.days,
                annual_rate=priced.annual_rate,
                fee_rate=priced.fee_rate,
                interest_fen=priced.interest_fen,
                fee_fen=priced.fee_fen,
                proceeds_fen=priced.proceeds_fen,
                entry_key=entry_key,
            )
            uow.supply_chain.save_financing(
                approved, expected_status=FinancingStatus.REQUESTED.value
            )
            self._save(uow, stored, replace(stored, voucher=financed, financing_pending=False))
            self._audit(
                uow,
                principal,
                "financing_approved",
                "voucher_financing",
                financing_id,
                {
                    "voucher": v.voucher_id,
                    "interest_fen": priced.interest_fen,
                    "fee_fen": priced.fee_fen,
                    "proceeds_fen": priced.proceeds_fen,
                },
            )
            return approved

        return self._write(
            principal, key, "scf.approve", {"financing": financing_id}, FinancingView, work
        )

    def reject_financing(
        self, principal: Principal, *, financing_id: str, reason: str, key: str
    ) -> FinancingView:
        require(principal, Permission.VOUCHER_FINANCE_APPROVE)
        reason = reason.strip()
        if not 1 <= len(reason) <= 200:
            raise InvalidInput("a reason of 1 to 200 characters", details={"field": "reason"})
        today = self.clock.today()

        def work(uow: SupplyChainUnitOfWork) -> FinancingView:
            pending = self._open_financing(uow, financing_id)
            stored = self._locked_voucher(uow, pending.voucher_id)
            pending = self._open_financing(uow, financing_id)
            rejected = replace(
                pending,
                status=FinancingStatus.REJECTED.value,
                decided_on=today,
                decided_by=principal.audit_name(),
                reason=reason,
            )
            uow.supply_chain.save_financing(
                rejected, expected_status=FinancingStatus.REQUESTED.value
            )
            self._save(uow, stored, replace(stored, financing_pending=False))
            self._audit(
                uow,
                principal,
                "financing_rejected",
                "voucher_financing",
                financing_id,
                {"voucher": pending.voucher_id, "reason": reason},
            )
            return rejected

        return self._write(
            principal,
            key,
            "scf.reject",
            {"financing": financing_id, "reason": reason},
            FinancingView,
            work,
        )

    def financing_queue(
        self, principal: Principal, *, status: str | None = "requested", limit: int = 50
    ) -> list[FinancingView]:
        require(principal, Permission.VOUCHER_READ)
        if not principal.is_staff:
            require(principal, Permission.VOUCHER_FINANCE_APPROVE)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"a page holds 1 to {MAX_PAGE} rows", details={"field": "limit"})
        if status is not None:
            try:
                status = FinancingStatus(status).value
            except ValueError:
                raise InvalidInput(
                    "no such financing status", details={"field": "status"}
                ) from None
        with self.units() as uow:
            return uow.supply_chain.financings(status=status, limit=limit)

    def settle_due(self, principal: Principal, *, on: dt.date, key: str) -> SettlementRun:
        """Settle every live voucher maturing by ``on`` (see ``settlement``)."""
        require(principal, Permission.VOUCHER_SETTLE)
        return settlement.settle_due(self.units, self.clock, principal, on=on, key=key)

    def earn_discount_interest(
        self, principal: Principal, *, through: dt.date, key: str
    ) -> EarningRun:
        """Recognise the discount interest financed vouchers earned by ``through`` (see
        ``earning``)."""
        return earning.earn_discount_interest(
            self.units, self.clock, principal, through=through, key=key
        )

    # -- reading vouchers ----------------------------------------------------------------------

    def list_vouchers(self, principal: Principal, query: VoucherQuery) -> list[VoucherView]:
        require(principal, Permission.VOUCHER_READ)
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInput(f"a page holds 1 to {MAX_PAGE} vouchers", details={"field": "limit"})
        if query.status is not None:
            try:
                VoucherStatus(query.status)
            except ValueError:
                raise InvalidInput("no such voucher status", details={"field": "status"}) from None
        with self.units() as uow:
            scope = self._enterprise_scope(uow, principal)
            if scope is not None:
                query = replace(query, enterprises=scope)
            return [voucher_view(r) for r in uow.supply_chain.vouchers(query)]

    def voucher_tree(self, principal: Principal, *, voucher_id: str) -> TreeView:
        """The voucher's whole tree from its root: every part, transfer, financing and
        settlement (the provenance)."""
        require(principal, Permission.VOUCHER_READ)
        with self.units() as uow:
            repo = uow.supply_chain
            found = repo.voucher(voucher_id)
            if found is None:
                raise UnknownVoucher("no such voucher", details={"voucher": voucher_id})
            nodes = repo.tree(found.voucher.root_id)
            scope = self._enterprise_scope(uow, principal)
            if scope is not None:
                seen = {found.voucher.core_id} | {h for n in nodes for h in n.voucher.holders}
                if scope.isdisjoint(seen):
                    raise NotBound("the user's enterprises are not in this voucher's tree")
            ids = [n.voucher.voucher_id for n in nodes]
            return TreeView(
                root_id=found.voucher.root_id,
                vouchers=tuple(voucher_view(n) for n in nodes),
                transfers=tuple(repo.transfers(ids)),
                financings=tuple(repo.financings_of(ids)),
                settlements=tuple(repo.settlements(ids)),
            )


def service_for(
    units: SupplyChainUnits, clock: Clock, source: EnterpriseSource, policy: FacilityPolicy
) -> SupplyChainService:
    return SupplyChainService(units=units, clock=clock, source=source, policy=policy)
