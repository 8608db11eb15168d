"""Roles, permissions and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from puhui.domain.origination.errors import Forbidden


class Role(Enum):
    APPLICANT = "applicant"
    ACCOUNT_MANAGER = "account_manager"
    APPROVER = "approver"
    RISK_OFFICER = "risk_officer"
    OPERATIONS = "operations"
    ADMIN = "admin"
    PARTNER = "partner"
    AUDITOR = "auditor"
    """Reads the audit trail, applications and lines; changes nothing."""
    SUPERVISOR = "supervisor"
    """An account managers' team lead or branch head: works escalated post-loan tasks."""


class Permission(Enum):
    APPLICATION_CREATE = "applications:create"
    APPLICATION_READ = "applications:read"
    APPLICATION_LIST = "applications:list"
    APPLICATION_ASSESS = "applications:assess"
    APPLICATION_REVIEW = "applications:review"
    CONSENT_MANAGE = "consents:manage"
    OFFER_ACCEPT = "offers:accept"
    USER_MANAGE = "users:manage"
    API_KEY_MANAGE = "api_keys:manage"
    FRAUD_LIST_MANAGE = "fraud_lists:manage"
    LINE_READ = "credit_lines:read"
    LINE_MANAGE = "credit_lines:manage"
    LINE_REDUCE = "credit_lines:reduce"
    DRAW = "draws:create"
    REPAY = "repayments:create"
    STRATEGY_READ = "strategies:read"
    MODEL_READ = "models:read"
    STRATEGY_MANAGE = "strategies:manage"
    """Draft and edit governed documents (strategies, triggers, limits), submit, backtest."""
    STRATEGY_APPROVE = "strategies:approve"
    """Approve (never one's own: four eyes), reject and activate a submitted version."""
    MODEL_MANAGE = "models:manage"
    """Run model monitoring and promote an approved model to champion."""
    MODEL_APPROVE = "models:approve"
    """Approve a registered model (never one the same person built: four eyes)."""
    DECISION_EVIDENCE_READ = "decisions:evidence"
    """The inputs, features and versions behind an automatic decision (staff only)."""
    AUDIT_READ = "audit:read"
    COLLECTIONS_READ = "collections:read"
    """The DPD queues, cases, contact log, promises and write-off proposals."""
    COLLECTIONS_WORK = "collections:work"
    """Claim a case, log contacts, record promises, propose a write-off."""
    COLLECTIONS_ASSIGN = "collections:assign"
    """Give a case to someone else (a supervisor's move)."""
    WRITE_OFF_DECIDE = "write_offs:decide"
    """Approve or reject a write-off proposal (never one's own: four eyes)."""
    CONCENTRATION_READ = "concentration:read"
    ALERT_READ = "alerts:read"
    """Post-loan early-warning alerts, their signals and the data behind them."""
    ALERT_MANAGE = "alerts:manage"
    """Acknowledge or close an alert."""
    TASK_WORK = "tasks:work"
    """Claim and complete post-loan tasks; which outcomes a role may record is the
    monitoring role's (``domain.monitoring.OUTCOME_ROLES``)."""
    REPORT_READ = "reports:read"
    """Portfolio dashboards: balances, DPD and roll rates, 五级分类, vintages, origination."""
    LEDGER_READ = "ledger:read"
    """End-of-day runs with their steps, and the general ledger's trial balance."""
    SUSPENSE_MANAGE = "suspense:manage"
    """Hold money the channel collected but no loan was credited with (挂账), apply it to a
    loan, or refund it (operations)."""
    PROSPECT_READ = "prospects:read"
    """Pre-approved prospects (主动授信) and the marketing map."""
    PROSPECT_WORK = "prospects:work"
    """Work one's prospects: move them through the queue, send offers, link applications."""
    PROSPECT_MANAGE = "prospects:manage"
    """Load runs, set the managers' territories, record opt-outs."""
    NOTIFICATION_MANAGE = "notifications:manage"
    """The notification outbox (offers and notices): see it, dispatch it, queue a failed
    message again."""
    VOUCHER_READ = "vouchers:read"
    """Payable vouchers (电子债权凭证), their trees, core facilities and the financing queue;
    an enterprise user sees only those of the enterprises it is bound to."""
    VOUCHER_ISSUE = "vouchers:issue"
    """A core enterprise's user confirms payables and issues vouchers (bound to the core)."""
    VOUCHER_HOLD = "vouchers:hold"
    """A holder's user accepts, splits, transfers and asks to finance (bound to the holder)."""
    VOUCHER_FINANCE_APPROVE = "vouchers:finance_approve"
    """Bank staff approve or reject a voucher's financing (discount)."""
    VOUCHER_SETTLE = "vouchers:settle"
    """Run the settlement of matured vouchers (operations)."""
    CORE_MANAGE = "core_enterprises:manage"
    """Onboard core enterprises, name their partners, bind enterprise users, freeze and
    unfreeze facilities, record a core's non-payment."""
    GUARANTEE_READ = "guarantees:read"
    """Guarantee agencies, agreements, covered loans, claims and the exposure report."""
    GUARANTEE_MANAGE = "guarantees:manage"
    """Record guarantee agencies and their batch agreements (银担合作)."""
    GUARANTEE_OPERATE = "guarantees:operate"
    """Cover loans, collect periodic fees, raise and record paid claims, share recoveries,
    run the daily claims job."""
    LOAN_CHANGE_REQUEST = "loan_changes:request"
    """Ask for a loan's extension (展期) or restructuring (重组); renew a maturing loan."""
    LOAN_CHANGE_APPROVE = "loan_changes:approve"
    """Approve an extension or restructuring (never one's own request: four eyes)."""


_STAFF_READ = {
    Permission.APPLICATION_READ,
    Permission.APPLICATION_LIST,
    Permission.LINE_READ,
    Permission.DECISION_EVIDENCE_READ,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # The owner alone authorises data pulls, accepts the contract and draws on the line.
    Role.APPLICANT: frozenset(
        {Permission.APPLICATION_CREATE, Permission.APPLICATION_READ, Permission.APPLICATION_ASSESS}
        | {Permission.CONSENT_MANAGE, Permission.OFFER_ACCEPT}
        | {Permission.LINE_READ, Permission.DRAW, Permission.REPAY}
        # Enterprise users of supply-chain finance: every action checks the binding.
        | {Permission.VOUCHER_READ, Permission.VOUCHER_ISSUE, Permission.VOUCHER_HOLD}
    ),
    Role.ACCOUNT_MANAGER: frozenset(
        {Permission.APPLICATION_CREATE, Permission.APPLICATION_ASSESS}
        | {Permission.COLLECTIONS_READ, Permission.COLLECTIONS_WORK}
        | {Permission.ALERT_READ, Permission.TASK_WORK}
        | {Permission.PROSPECT_READ, Permission.PROSPECT_WORK}
        | {Permission.LOAN_CHANGE_REQUEST}
        | _STAFF_READ
    ),
    # Supervisors (主管) take escalated tasks, close alerts and hand out collection cases.
    Role.SUPERVISOR: frozenset(
        {Permission.ALERT_READ, Permission.ALERT_MANAGE, Permission.TASK_WORK}
        | {Permission.COLLECTIONS_READ, Permission.COLLECTIONS_WORK, Permission.COLLECTIONS_ASSIGN}
        | {Permission.REPORT_READ}
        | {Permission.PROSPECT_READ, Permission.PROSPECT_WORK, Permission.PROSPECT_MANAGE}
        | _STAFF_READ
    ),
    # Approvers are the second pair of eyes on strategies and models as well as on credit.
    Role.APPROVER: frozenset(
        {Permission.APPLICATION_REVIEW, Permission.STRATEGY_READ, Permission.MODEL_READ}
        | {Permission.STRATEGY_APPROVE, Permission.MODEL_APPROVE}
        # The fast-track queue: applications from pre-approved prospects, with their terms.
        | {Permission.PROSPECT_READ}
        | {Permission.VOUCHER_READ, Permission.VOUCHER_FINANCE_APPROVE}
        | {Permission.LOAN_CHANGE_APPROVE}
        | _STAFF_READ
    ),
    # Risk freezes and cuts lines (early warning); operations freezes (disputes) and posts
    # repayments received through other channels.
    Role.RISK_OFFICER: frozenset(
        {
            Permission.FRAUD_LIST_MANAGE,
            Permission.LINE_MANAGE,
            Permission.LINE_REDUCE,
            Permission.STRATEGY_READ,
            Permission.MODEL_READ,
            # Risk officers propose; a second risk officer (or an approver) approves.
            Permission.STRATEGY_MANAGE,
            Permission.STRATEGY_APPROVE,
            Permission.MODEL_MANAGE,
            Permission.MODEL_APPROVE,
            Permission.COLLECTIONS_READ,
            Permission.COLLECTIONS_WORK,
            Permission.COLLECTIONS_ASSIGN,
            Permission.WRITE_OFF_DECIDE,
            Permission.CONCENTRATION_READ,
            Permission.ALERT_READ,
            Permission.ALERT_MANAGE,
            Permission.TASK_WORK,
            Permission.REPORT_READ,
            Permission.LEDGER_READ,
            Permission.PROSPECT_READ,
            Permission.VOUCHER_READ,
            Permission.CORE_MANAGE,
            Permission.GUARANTEE_READ,
            Permission.GUARANTEE_MANAGE,
            Permission.LOAN_CHANGE_REQUEST,
            Permission.LOAN_CHANGE_APPROVE,
        }
        | _STAFF_READ
    ),
    # Operations runs the collection desks: works and hands out cases, never decides write-offs.
    Role.OPERATIONS: frozenset(
        {Permission.LINE_MANAGE, Permission.REPAY, Permission.REPORT_READ, Permission.LEDGER_READ}
        | {Permission.SUSPENSE_MANAGE}
        | {Permission.COLLECTIONS_READ, Permission.COLLECTIONS_WORK, Permission.COLLECTIONS_ASSIGN}
        | {Permission.PROSPECT_READ, Permission.PROSPECT_MANAGE}
        | {Permission.VOUCHER_READ, Permission.VOUCHER_FINANCE_APPROVE, Permission.VOUCHER_SETTLE}
        | {Permission.GUARANTEE_READ, Permission.GUARANTEE_OPERATE}
        | {Permission.NOTIFICATION_MANAGE}
        | _STAFF_READ
    ),
    Role.ADMIN: frozenset(
        {
            Permission.USER_MANAGE,
            Permission.API_KEY_MANAGE,
            Permission.FRAUD_LIST_MANAGE,
            Permission.STRATEGY_READ,
            Permission.MODEL_READ,
            Permission.AUDIT_READ,
            Permission.PROSPECT_READ,
            Permission.PROSPECT_MANAGE,
            Permission.NOTIFICATION_MANAGE,
        }
        | _STAFF_READ
    ),
    Role.AUDITOR: frozenset(
        {
            Permission.AUDIT_READ,
            Permission.STRATEGY_READ,
            Permission.MODEL_READ,
            Permission.COLLECTIONS_READ,
            Permission.CONCENTRATION_READ,
            Permission.ALERT_READ,
            Permission.REPORT_READ,
            Permission.LEDGER_READ,
            Permission.PROSPECT_READ,
            Permission.VOUCHER_READ,
            Permission.GUARANTEE_READ,
        }
        | _STAFF_READ
    ),
    Role.PARTNER: frozenset(
        {
            Permission.APPLICATION_CREATE,
            Permission.APPLICATION_READ,
            Permission.APPLICATION_LIST,
            Permission.APPLICATION_ASSESS,
        }
        | {Permission.LINE_READ}
    ),
}
PRIVILEGED_ROLES = frozenset({Role.APPROVER, Role.ADMIN})
"""Roles a user gets only when a second admin approves (four eyes): they decide credit or
grant access, so one admin alone must not be able to hold them through an account of theirs."""
PARTNER_SCOPES = ROLE_PERMISSIONS[Role.PARTNER]
"""What an API key may be scoped to: a subset of the partner role's permissions."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. ``scopes`` narrows a partner's API key below its role."""

    user_id: str
    role: Role
    partner_id: str | None = None
    scopes: frozenset[Permission] | None = field(default=None)

    @property
    def permissions(self) -> frozenset[Permission]:
        granted = ROLE_PERMISSIONS[self.role]
        return granted if self.scopes is None else granted & self.scopes

    @property
    def is_staff(self) -> bool:
        return self.role not in (Role.APPLICANT, Role.PARTNER)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def audit_name(self) -> str:
        return f"{self.role.value}:{self.user_id}"


SYSTEM = Principal(user_id="system", role=Role.ADMIN)
"""The platform itself (batch jobs, the demo): acts with admin rights, audited as system."""


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"role {principal.role.value} may not {permission.value}",
            details={"permission": permission.value, "role": principal.role.value},
        )
