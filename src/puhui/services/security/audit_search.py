"""The audit trail as security exposes it (auditor and admin roles)."""

from __future__ import annotations

from puhui.domain.audit import AuditEvent
from puhui.services import audit
from puhui.services.ports import AuditQuery
from puhui.services.security.context import Security
from puhui.services.security.permissions import (
    Permission,
    Principal,
    require,
)


def search_audit_events(
    security: Security, *, actor: Principal, query: AuditQuery
) -> list[AuditEvent]:
    """Audit search for auditors and admins (read-only)."""
    require(actor, Permission.AUDIT_READ)
    return audit.search_audit(security.reader_factory, query)
