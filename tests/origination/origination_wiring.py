"""Wiring of origination services for tests: on fakes or on a migrated database."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from origination_fakes import (
    FakeDataSource,
    FakeLineOpener,
    ScriptedAssessor,
    fast_hasher,
    fixed_signer,
)
from sqlalchemy import Engine

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.domain.clock import FixedClock
from puhui.services.origination.use_cases import Origination
from puhui.services.security import accounts
from puhui.services.security.accounts import Security, SecurityConfig
from puhui.services.security.permissions import Principal

DATA_KEY = b"d" * 32
AUDIT_KEY = b"a" * 32


@dataclass
class CapturingSender:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, code: str) -> None:
        self.sent.append((phone, code))


@dataclass
class Wired:
    origination: Origination
    security: Security
    assessor: ScriptedAssessor
    data_source: FakeDataSource
    opener: FakeLineOpener
    sender: CapturingSender
    clock: FixedClock

    def applicant(self, phone: str) -> Principal:
        accounts.request_code(self.security, phone=phone, client="test")
        code = next(c for p, c in reversed(self.sender.sent) if p == phone)
        token = accounts.verify_code(self.security, phone=phone, code=code)
        return accounts.authenticate_token(self.security, token.access_token)


def wire(
    uow_factory: object,
    clock: FixedClock,
    reader_factory: object = None,
    *,
    decide_in_one_transaction: bool = False,
) -> Wired:
    assessor, data_source, opener = ScriptedAssessor(), FakeDataSource(), FakeLineOpener()
    sender = CapturingSender()
    origination = Origination(
        uow_factory=uow_factory,  # type: ignore[arg-type]
        clock=clock,
        assessor=assessor,
        data_source=data_source,
        line_opener=opener,
        signer=fixed_signer(),
        request_hash_key=b"r" * 32,
        reader_factory=reader_factory,  # type: ignore[arg-type]
        decide_in_one_transaction=decide_in_one_transaction,
    )
    config = SecurityConfig(
        jwt_secret=b"j" * 32, otp_key=b"o" * 32, token_lifetime=timedelta(minutes=15)
    )
    security = Security(
        uow_factory=uow_factory,  # type: ignore[arg-type]
        clock=clock,
        config=config,
        otp_sender=sender,
        hasher=fast_hasher(),
    )
    return Wired(origination, security, assessor, data_source, opener, sender, clock)


_templates: dict[str, Path] = {}


def _sqlite_template() -> Path:
    """One migrated SQLite file per test process, copied for each test (migrating is slow)."""
    if "sqlite" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="puhui-origination-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        _templates["sqlite"] = path
    return _templates["sqlite"]


def migrated_engine(url: str) -> Engine:
    """An engine on a database migrated to the latest revision."""
    if url.startswith("sqlite:///"):
        shutil.copyfile(_sqlite_template(), url.removeprefix("sqlite:///"))
        return make_engine(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine
