"""Loan changes as the API and the console call them: permissions checked, then the use case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from puhui.domain.clock import Clock
from puhui.domain.lending.loan_changes import ChangePolicy, RenewalRules
from puhui.domain.origination.errors import Forbidden
from puhui.services.loan_changes import changes, classification, renewals
from puhui.services.loan_changes.changes import ChangeResult, UowFactory
from puhui.services.loan_changes.classification import LoanClassification
from puhui.services.loan_changes.ports import LoanChangeRecord, PendingChange
from puhui.services.loan_changes.renewals import OpenAlerts, RenewalResult
from puhui.services.security.permissions import Permission, Principal, require


@dataclass(frozen=True, slots=True)
class LoanChangeAccess:
    """What the loan-change use cases take, built once by the composition root."""

    units: UowFactory
    clock: Clock
    open_alerts: OpenAlerts | None = None
    policy: ChangePolicy = field(default_factory=ChangePolicy)
    rules: RenewalRules = field(default_factory=RenewalRules)
    renewal_rules: Callable[[], RenewalRules] | None = None
    """The renewal mode of the active strategy version, read at each renewal; None: ``rules``."""

    def request_extension(
        self,
        actor: Principal,
        *,
        loan_id: str,
        extension_months: int,
        reason: str,
        in_difficulty: bool,
        idempotency_key: str,
        on: date | None = None,
    ) -> ChangeResult:
        require(actor, Permission.LOAN_CHANGE_REQUEST)
        return changes.request_extension(
            self.units,
            loan_id=loan_id,
            extension_months=extension_months,
            on=on or self.clock.today(),
            reason=reason,
            in_difficulty=in_difficulty,
            idempotency_key=idempotency_key,
            actor=actor.audit_name(),
            clock=self.clock,
            policy=self.policy,
        )

    def request_restructuring(
        self,
        actor: Principal,
        *,
        loan_id: str,
        new_term_months: int,
        reason: str,
        idempotency_key: str,
        on: date | None = None,
        new_annual_rate: Decimal | None = None,
    ) -> ChangeResult:
        require(actor, Permission.LOAN_CHANGE_REQUEST)
        return changes.request_restructuring(
            self.units,
            loan_id=loan_id,
            new_term_months=new_term_months,
            on=on or self.clock.today(),
            reason=reason,
            idempotency_key=idempotency_key,
            actor=actor.audit_name(),
            clock=self.clock,
            policy=self.policy,
            new_annual_rate=new_annual_rate,
        )

    def approve(
        self, actor: Principal, change_id: str, *, idempotency_key: str, on: date | None = None
    ) -> ChangeResult:
        require(actor, Permission.LOAN_CHANGE_APPROVE)
        return changes.approve_change(
            self.units,
            change_id,
            on=on or self.clock.today(),
            idempotency_key=idempotency_key,
            actor=actor.audit_name(),
            clock=self.clock,
            policy=self.policy,
        )

    def reject(
        self, actor: Principal, change_id: str, *, reason: str, idempotency_key: str
    ) -> ChangeResult:
        require(actor, Permission.LOAN_CHANGE_APPROVE)
        return changes.reject_change(
            self.units,
            change_id,
            reason=reason,
            idempotency_key=idempotency_key,
            actor=actor.audit_name(),
            clock=self.clock,
        )

    def renew(
        self,
        actor: Principal,
        *,
        loan_id: str,
        term_months: int,
        reason: str,
        idempotency_key: str,
        on: date | None = None,
    ) -> RenewalResult:
        require(actor, Permission.LOAN_CHANGE_REQUEST)
        return renewals.renew_loan(
            self.units,
            loan_id=loan_id,
            on=on or self.clock.today(),
            term_months=term_months,
            reason=reason,
            idempotency_key=idempotency_key,
            actor=actor.audit_name(),
            clock=self.clock,
            rules=self.current_renewal_rules(),
            open_alerts=self.open_alerts,
        )

    def current_renewal_rules(self) -> RenewalRules:
        """The renewal mode in force now: the active strategy version's, or ``rules``."""
        return self.rules if self.renewal_rules is None else self.renewal_rules()

    def pending(self, actor: Principal, *, limit: int, offset: int) -> list[LoanChangeRecord]:
        _require_any(actor)
        return changes.pending_changes(self.units, limit=limit, offset=offset)

    def count_waiting_approval(self, actor: Principal) -> int:
        """Changes waiting for an approver (the console's home), for those who approve."""
        require(actor, Permission.LOAN_CHANGE_APPROVE)
        return changes.count_pending(self.units)

    def queue(self, actor: Principal, *, limit: int, offset: int) -> list[PendingChange]:
        """``pending`` with each change's loan as it stands now (the approver's queue)."""
        _require_any(actor)
        return changes.pending_queue(self.units, limit=limit, offset=offset)

    def of_loan(self, actor: Principal, loan_id: str) -> list[LoanChangeRecord]:
        _require_any(actor)
        return changes.changes_of_loan(self.units, loan_id)

    def classify(
        self, actor: Principal, loan_id: str, as_of: date | None = None
    ) -> LoanClassification:
        _require_any(actor, Permission.REPORT_READ)
        return classification.classify_loan(self.units, loan_id, as_of or self.clock.today())


def _require_any(actor: Principal, *extra: Permission) -> None:
    allowed = (Permission.LOAN_CHANGE_REQUEST, Permission.LOAN_CHANGE_APPROVE, *extra)
    if not any(actor.can(p) for p in allowed):
        raise Forbidden(
            f"role {actor.role.value} may not read loan changes",
            details={"role": actor.role.value},
        )
