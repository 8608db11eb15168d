"""Support of API tests: the app on a migrated database, users of every role, tokens."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))

from origination_fakes import (
    PHONE,
    FakeDataSource,
    FakeLineOpener,
    ScriptedAssessor,
    fast_hasher,
)
from origination_wiring import migrated_engine

from puhui.bootstrap.api import ApiKeys, ApiLimits, build_api_dependencies
from puhui.domain.clock import FixedClock
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Permission, Role
from puhui.web.app import create_app
from puhui.web.dependencies import ApiDependencies

PASSWORD = "correct horse battery"
STAFF_ROLES = (
    Role.ACCOUNT_MANAGER,
    Role.APPROVER,
    Role.RISK_OFFICER,
    Role.OPERATIONS,
    Role.ADMIN,
    Role.AUDITOR,
    Role.SUPERVISOR,
)


@dataclass
class CapturingSender:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, code: str) -> None:
        self.sent.append((phone, code))


@dataclass
class Api:
    client: TestClient
    deps: ApiDependencies
    sender: CapturingSender
    assessor: ScriptedAssessor
    opener: FakeLineOpener
    clock: FixedClock
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def applicant_headers(self, phone: str = PHONE) -> dict[str, str]:
        assert self.client.post("/api/v1/auth/otp", json={"phone": phone}).status_code == 202
        code = next(c for p, c in reversed(self.sender.sent) if p == phone)
        response = self.client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def staff_headers(self, role: Role, name: str | None = None) -> dict[str, str]:
        username = name or role.value
        accounts.create_user(
            self.deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
        )
        response = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def partner_headers(
        self, partner_id: str = "channel-1", *, extra: tuple[Permission, ...] = ()
    ) -> dict[str, str]:
        issued = accounts.issue_api_key(
            self.deps.security,
            actor=SYSTEM,
            partner_id=partner_id,
            scopes=[
                Permission.APPLICATION_CREATE,
                Permission.APPLICATION_READ,
                Permission.APPLICATION_LIST,
                Permission.APPLICATION_ASSESS,
                *extra,
            ],
        )
        return {"X-API-Key": issued.api_key}


def build_api(
    url: str, clock: FixedClock, *, limits: ApiLimits | None = None, jwt_secret: bytes = b"j" * 32
) -> tuple[Api, object]:
    engine = migrated_engine(url)
    sender = CapturingSender()
    assessor, opener = ScriptedAssessor(), FakeLineOpener()
    deps = build_api_dependencies(
        engine=engine,
        clock=clock,
        keys=ApiKeys(
            audit_key=b"a" * 32,
            data_key=b"d" * 32,
            jwt_secret=jwt_secret,
            signing_key_seed=bytes(range(32)),
        ),
        assessor=assessor,
        data_source=FakeDataSource(),
        line_opener=opener,
        otp_sender=sender,
        hasher=fast_hasher(),
        limits=limits,
    )
    client = TestClient(create_app(deps), raise_server_exceptions=False)
    return Api(client, deps, sender, assessor, opener, clock), engine


def build_servicing_api(url: str, clock: FixedClock, registry_root: Path) -> tuple[Api, object]:
    """The API with servicing wired: acceptance opens a real line; strategies and models read."""
    from puhui.adapters.db import migrate
    from puhui.adapters.db.engine import make_engine
    from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork, servicing_units
    from puhui.adapters.db.strategies.unit_of_work import StrategyUnitOfWork
    from puhui.decision.concentration import shipped_concentration_text
    from puhui.risk.registry import ModelRegistry
    from puhui.services import strategies
    from puhui.services.origination.line_opening import ServicingLineOpener

    engine = make_engine(url)
    migrate.upgrade(engine, "heads")
    audit_key = b"a" * 32
    servicing = servicing_units(engine, clock=clock, audit_key=audit_key)
    opener = ServicingLineOpener(servicing)
    sender = CapturingSender()
    assessor = ScriptedAssessor()
    deps = build_api_dependencies(
        engine=engine,
        clock=clock,
        keys=ApiKeys(
            audit_key=audit_key,
            data_key=b"d" * 32,
            jwt_secret=b"j" * 32,
            signing_key_seed=bytes(range(32)),
        ),
        assessor=assessor,
        data_source=FakeDataSource(),
        line_opener=opener,
        otp_sender=sender,
        hasher=fast_hasher(),
        servicing_uow_factory=servicing,
        servicing_reader_factory=lambda: ServicingUnitOfWork(
            engine, clock=clock, audit_key=audit_key, read_only=True
        ),
        strategies_uow_factory=lambda: StrategyUnitOfWork(engine, clock=clock, audit_key=audit_key),
        model_registry=ModelRegistry(registry_root),
    )
    # As a migrated deployment has them: the concentration limits in force (version 1).
    strategies.seed_shipped(
        lambda: StrategyUnitOfWork(engine, clock=clock, audit_key=audit_key),
        text=shipped_concentration_text(),
        clock=clock,
        kind=strategies.DocumentKind.CONCENTRATION,
    )
    client = TestClient(create_app(deps), raise_server_exceptions=False)
    return Api(client, deps, sender, assessor, FakeLineOpener(), clock), engine
