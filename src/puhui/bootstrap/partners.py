"""The partner-lending service wired to the configured platform (the API, the CLI)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from puhui.adapters.db.partners.unit_of_work import PartnerUnitOfWork
from puhui.bootstrap.container import Platform
from puhui.domain.clock import Clock
from puhui.services.partners.use_cases import PartnerService

if TYPE_CHECKING:
    from sqlalchemy import Engine


def partner_service_on(engine: Engine, *, clock: Clock, audit_key: bytes) -> PartnerService:
    return PartnerService(
        units=partial(PartnerUnitOfWork, engine, clock=clock, audit_key=audit_key), clock=clock
    )


def partner_service(platform: Platform) -> PartnerService:
    return partner_service_on(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
    )
