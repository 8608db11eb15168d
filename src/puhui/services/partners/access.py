"""Who may do what with partners: the permission checks in front of the partner service.

Risk officers and admins set agreements up; operations run settlement and reconciliation
and tie loans; staff read; a partner's own API key may only post decisions and read the
files of its own agreements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from puhui.domain.origination.errors import Forbidden
from puhui.domain.partners.agreements import Agreement
from puhui.domain.partners.settlement import Difference, Position
from puhui.services.partners.ports import LoanLink, PartnerDecision, RoutableLoan
from puhui.services.partners.use_cases import PartnerService, RoutingReport, SettlementReport
from puhui.services.security.permissions import Principal, Role

MANAGERS = frozenset({Role.RISK_OFFICER, Role.ADMIN})
OPERATORS = frozenset({Role.OPERATIONS, Role.ADMIN})


def _require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    if principal.role not in roles:
        raise Forbidden(
            f"role {principal.role.value} may not {what}",
            details={"role": principal.role.value, "action": what},
        )


@dataclass(frozen=True, slots=True)
class PartnerAccess:
    service: PartnerService

    def create_agreement(
        self, principal: Principal, agreement: Agreement, *, key: str | None = None
    ) -> Agreement:
        _require(principal, MANAGERS, "create partner agreements")
        return self.service.create_agreement(agreement, actor=principal.audit_name(), key=key)

    def activate(
        self, principal: Principal, agreement_id: str, *, key: str | None = None
    ) -> Agreement:
        _require(principal, MANAGERS, "activate partner agreements")
        return self.service.activate(agreement_id, actor=principal.audit_name(), key=key)

    def agreements(self, principal: Principal) -> list[Agreement]:
        found = self.service.agreements()
        if principal.is_staff:
            return found
        _require(principal, frozenset({Role.PARTNER}), "read partner agreements")
        return [a for a in found if a.partner_id == principal.partner_id]

    def agreement(self, principal: Principal, agreement_id: str) -> Agreement:
        agreement = self.service.agreement(agreement_id)
        self._own_or_staff(principal, agreement)
        return agreement

    def link_loan(
        self,
        principal: Principal,
        agreement_id: str,
        loan_id: str,
        *,
        channel: str,
        on: dt.date,
        key: str | None = None,
    ) -> LoanLink:
        _require(principal, OPERATORS, "tie loans to partner agreements")
        return self.service.link_loan(
            agreement_id, loan_id, channel=channel, on=on, actor=principal.audit_name(), key=key
        )

    def record_decision(
        self,
        principal: Principal,
        agreement_id: str,
        application_id: str,
        *,
        decision: str,
        reason: str,
        key: str | None = None,
    ) -> PartnerDecision:
        """The partner's callback: only the agreement's own partner (or an admin) decides."""
        agreement = self.service.agreement(agreement_id)
        if principal.role is not Role.ADMIN and not (
            principal.role is Role.PARTNER and principal.partner_id == agreement.partner_id
        ):
            raise Forbidden(
                "only the agreement's partner posts its decisions",
                details={"role": principal.role.value},
            )
        return self.service.record_decision(
            agreement_id,
            application_id,
            decision=decision,
            reason=reason,
            actor=principal.audit_name(),
            key=key,
        )

    def awaiting_decisions(
        self, principal: Principal, agreement_id: str, on: dt.date
    ) -> list[RoutableLoan]:
        """The partner's queue: its customers' loans waiting for its decision (its own key or
        staff)."""
        self.agreement(principal, agreement_id)
        return self.service.awaiting_decisions(agreement_id, on)

    def settle(
        self, principal: Principal, on: dt.date, agreement_id: str | None, *, key: str | None = None
    ) -> list[SettlementReport]:
        _require(principal, OPERATORS, "run partner settlement")
        return self.service.settle(
            on, actor=principal.audit_name(), agreement_id=agreement_id, key=key
        )

    def route(
        self, principal: Principal, on: dt.date, *, key: str | None = None
    ) -> list[RoutingReport]:
        _require(principal, OPERATORS, "route partners' loans")
        return self.service.route(on, actor=principal.audit_name(), key=key)

    def settlement_file(self, principal: Principal, agreement_id: str, on: dt.date) -> str:
        self.agreement(principal, agreement_id)
        return self.service.settlement_file(agreement_id, on)

    def reconcile(
        self, principal: Principal, agreement_id: str, on: dt.date, theirs: str
    ) -> list[Difference]:
        self.agreement(principal, agreement_id)
        return self.service.reconcile(agreement_id, on, theirs)

    def position(
        self, principal: Principal, agreement_id: str, through: dt.date | None
    ) -> Position:
        self.agreement(principal, agreement_id)
        return self.service.position(agreement_id, through=through)

    @staticmethod
    def _own_or_staff(principal: Principal, agreement: Agreement) -> None:
        if principal.is_staff:
            return
        if principal.role is Role.PARTNER and principal.partner_id == agreement.partner_id:
            return
        raise Forbidden(
            "a partner reads only its own agreements", details={"role": principal.role.value}
        )
