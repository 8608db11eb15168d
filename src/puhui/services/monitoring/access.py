"""Who works post-loan alerts and tasks: the collaborators and the platform-role mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from puhui.domain.monitoring import DuePolicy, StaffRole
from puhui.domain.origination.errors import Forbidden
from puhui.services.monitoring.ports import MonitoringUnits
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.ports import ServicingUnitOfWork

STAFF_ROLES: dict[Role, StaffRole] = {
    Role.ACCOUNT_MANAGER: StaffRole.ACCOUNT_MANAGER,
    Role.SUPERVISOR: StaffRole.SUPERVISOR,
    Role.RISK_OFFICER: StaffRole.RISK_OFFICER,
}
"""The post-loan role each platform role works tasks as; other roles do not work them."""


def staff_role(principal: Principal) -> StaffRole:
    role = STAFF_ROLES.get(principal.role)
    if role is None:
        raise Forbidden(
            f"role {principal.role.value} does not work post-loan tasks",
            details={"role": principal.role.value},
        )
    return role


@dataclass
class MonitoringAccess:
    """The collaborators of the monitoring API; built once by the composition root."""

    units: MonitoringUnits
    servicing_uow: Callable[[], ServicingUnitOfWork]
    today: Callable[[], dt.date]
    policy: DuePolicy = field(default_factory=DuePolicy)
    hand_over: Callable[[str, str, str], int] | None = None
    """Collections' hand-over (customer id, actor, reason -> cases handed): a task's
    ``hand_to_collections`` outcome puts the customer's open collection cases in the queue
    with the reason; None where collections are not wired (the hand-off row still records it)."""
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    """The clock's instant (a notice's time in the outbox); the platform's clock when wired."""
    borrower_phone: Callable[[str], str | None] | None = None
    """The phone the bank's notices to a customer go to (customer id -> phone; None when none
    is on file): a ``recall_early`` outcome writes its notice to the outbox; None where
    origination is not wired (no notice, and the task's action says so)."""
