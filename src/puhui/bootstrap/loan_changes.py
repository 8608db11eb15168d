"""Loan changes (extension, restructuring, renewal) wired to an engine or a built platform."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap.container import Platform
from puhui.domain.clock import Clock
from puhui.services import strategies
from puhui.services.loan_changes.access import LoanChangeAccess

if TYPE_CHECKING:
    from sqlalchemy import Engine


def loan_changes_on(engine: Engine, *, clock: Clock, audit_key: bytes) -> LoanChangeAccess:
    return LoanChangeAccess(
        units=partial(LoanChangesUnitOfWork, engine, clock=clock, audit_key=audit_key),
        clock=clock,
    )


def loan_changes(platform: Platform) -> LoanChangeAccess:
    """Renewals decided by the renewal mode of the platform's active strategy version."""
    return replace(
        loan_changes_on(
            platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
        ),
        renewal_rules=partial(
            strategies.active_renewal_rules, platform.strategy_reader, platform.settings.strategy
        ),
    )
