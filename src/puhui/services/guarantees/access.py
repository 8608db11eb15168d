"""Guarantee use cases for a caller: the permission check, then the service, audited as them.

The API and the console go through here; the CLI and the daily job act as the platform.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from puhui.domain.guarantees.agreements import Agency, Agreement
from puhui.services.guarantees.ports import (
    Claim,
    ExposureRow,
    FeeRecord,
    RecoveryRecord,
    Remittance,
)
from puhui.services.guarantees.use_cases import (
    AgreementTerms,
    ClaimsRun,
    CoverResult,
    GuaranteeService,
)
from puhui.services.security.permissions import Permission, Principal, require


class GuaranteeAccess:
    def __init__(self, service: GuaranteeService) -> None:
        self.service = service

    def create_agency(self, principal: Principal, *, name: str, uscc: str) -> Agency:
        require(principal, Permission.GUARANTEE_MANAGE)
        return self.service.create_agency(name=name, uscc=uscc, actor=principal.audit_name())

    def agencies(self, principal: Principal) -> list[Agency]:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.agencies()

    def create_agreement(
        self, principal: Principal, terms: AgreementTerms, *, key: str | None = None
    ) -> Agreement:
        require(principal, Permission.GUARANTEE_MANAGE)
        return self.service.create_agreement(terms, actor=principal.audit_name(), key=key)

    def agreements(self, principal: Principal, agency_id: str | None = None) -> list[Agreement]:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.agreements(agency_id)

    def agreement(self, principal: Principal, agreement_id: str) -> Agreement:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.agreement(agreement_id)

    def cover_loan(
        self, principal: Principal, *, loan_id: str, agreement_id: str, on: date
    ) -> CoverResult:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.cover_loan(
            loan_id=loan_id, agreement_id=agreement_id, on=on, actor=principal.audit_name()
        )

    def collect_periodic_fee(
        self, principal: Principal, *, loan_id: str, period_from: date, period_to: date
    ) -> FeeRecord:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.collect_periodic_fee(
            loan_id=loan_id,
            period_from=period_from,
            period_to=period_to,
            actor=principal.audit_name(),
        )

    def raise_claim(self, principal: Principal, *, loan_id: str, on: date) -> Claim:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.raise_claim(loan_id=loan_id, on=on, actor=principal.audit_name())

    def pay_claim(self, principal: Principal, *, loan_id: str, on: date) -> Claim:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.pay_claim(loan_id=loan_id, on=on, actor=principal.audit_name())

    def claims(self, principal: Principal, status: str | None = None) -> list[Claim]:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.claims(status)

    def share_recovery(
        self, principal: Principal, *, loan_id: str, amount_fen: int, on: date, key: str
    ) -> RecoveryRecord:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.share_recovery(
            loan_id=loan_id,
            amount_fen=amount_fen,
            on=on,
            idempotency_key=key,
            actor=principal.audit_name(),
        )

    def remit(self, principal: Principal, *, agency_id: str, on: date, key: str) -> Remittance:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.remit(
            agency_id=agency_id, on=on, idempotency_key=key, actor=principal.audit_name()
        )

    def run_claims(self, principal: Principal, *, as_of: date) -> ClaimsRun:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.run_claims(as_of)

    def collect_due_fees(self, principal: Principal, *, as_of: date) -> list[FeeRecord]:
        require(principal, Permission.GUARANTEE_OPERATE)
        return self.service.collect_due_fees(as_of)

    def exposure(self, principal: Principal) -> list[ExposureRow]:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.exposure()

    def coverage_for_product(self, principal: Principal, *, product_id: str, on: date) -> Decimal:
        require(principal, Permission.GUARANTEE_READ)
        return self.service.coverage_for_product(product_id, on)
