"""The collaborators of the prospect use cases, and who may work which prospect."""

from __future__ import annotations

from dataclasses import dataclass

from puhui.domain.clock import Clock
from puhui.domain.origination.errors import Forbidden
from puhui.services.prospects.ports import ApplicationOutcomes, ProspectRecord, ProspectUnits
from puhui.services.security.permissions import Permission, Principal, Role, require


@dataclass
class ProspectAccess:
    """Built once by the composition root (the API, the CLI, the tests)."""

    units: ProspectUnits
    clock: Clock
    outcomes: ApplicationOutcomes | None = None
    """Origination's applications (fast-track and conversion); None: not wired."""
    readers: ProspectUnits | None = None
    """Read-only units for one-statement checks that usually find nothing to change (no
    write lock; on PostgreSQL one round trip); None: ``units``."""


def require_worker(actor: Principal, record: ProspectRecord) -> None:
    """An account manager works the prospects assigned to them and the unassigned ones of
    the queue; supervisors work any (they cover an absent manager)."""
    require(actor, Permission.PROSPECT_WORK)
    if actor.role is not Role.ACCOUNT_MANAGER:
        return
    if record.assigned_to not in (None, actor.user_id):
        raise Forbidden(
            "the prospect is assigned to another account manager",
            details={"prospect_id": record.prospect_id},
        )


def taker(actor: Principal) -> str | None:
    """Who takes an unassigned prospect by working it: an account manager, not a supervisor."""
    return actor.user_id if actor.role is Role.ACCOUNT_MANAGER else None
