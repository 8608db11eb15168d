"""The guarantee service wired to an engine or to the configured platform (API, CLI, demo)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from puhui.adapters.db.guarantees.unit_of_work import GuaranteeUnitOfWork
from puhui.bootstrap.container import Platform
from puhui.domain.clock import Clock
from puhui.services.guarantees.use_cases import GuaranteeService

if TYPE_CHECKING:
    from sqlalchemy import Engine


def guarantee_service_on(engine: Engine, *, clock: Clock, audit_key: bytes) -> GuaranteeService:
    return GuaranteeService(
        units=partial(GuaranteeUnitOfWork, engine, clock=clock, audit_key=audit_key),
        clock=clock,
        # The coverage read on every decision: one statement.
        readers=partial(
            GuaranteeUnitOfWork,
            engine,
            clock=clock,
            audit_key=audit_key,
            read_only=True,
            one_statement=True,
        ),
    )


def guarantee_service(platform: Platform) -> GuaranteeService:
    return guarantee_service_on(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
    )
