"""Token revocation and rate limits shared by API processes (one database, two processes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from origination_fakes import fast_hasher
from origination_wiring import AUDIT_KEY, DATA_KEY, CapturingSender, Wired
from sqlalchemy import Engine, select

from puhui.adapters.db import tables as audit_tables
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.adapters.db.security import tables as t
from puhui.adapters.db.security.sessions import SqlWindowCounter
from puhui.domain.clock import FixedClock
from puhui.domain.errors import NotFound
from puhui.domain.origination.errors import Forbidden, RateLimited, Unauthenticated
from puhui.services.security import accounts
from puhui.services.security.accounts import Security, SecurityConfig
from puhui.services.security.permissions import SYSTEM, Principal, Role

PASSWORD = "correct horse battery"


def process(engine: Engine, clock: FixedClock) -> Security:
    """The security services of one API process over the shared database."""
    units = OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=FieldCipher(DATA_KEY))
    return Security(
        uow_factory=units.writer,
        reader_factory=units.reader,
        clock=clock,
        config=SecurityConfig(jwt_secret=b"j" * 32, otp_key=b"o" * 32),
        otp_sender=CapturingSender(),
        hasher=fast_hasher(),
        counter=SqlWindowCounter(units.writer),
    )


def staff_token(sec: Security, name: str = "ops1") -> str:
    accounts.create_user(sec, actor=SYSTEM, username=name, password=PASSWORD, role=Role.OPERATIONS)
    return accounts.login(sec, username=name, password=PASSWORD, client="c").access_token


def test_a_logged_out_token_is_refused_and_the_other_sessions_stay(fake: Wired) -> None:
    sec = fake.security
    first = staff_token(sec)
    second = accounts.login(sec, username="ops1", password=PASSWORD, client="c").access_token
    accounts.logout(sec, first)
    with pytest.raises(Unauthenticated, match="revoked"):
        accounts.authenticate_token(sec, first)
    assert accounts.authenticate_token(sec, second).role is Role.OPERATIONS


def test_revoking_a_user_voids_every_token_issued_before_and_none_after(
    engine: Engine, clock: FixedClock
) -> None:
    sec = process(engine, clock)
    token = staff_token(sec)
    user_id = accounts.authenticate_token(sec, token).user_id
    admin = Principal("admin-1", Role.ADMIN)

    with pytest.raises(Forbidden):
        accounts.revoke_user_tokens(sec, actor=Principal("x", Role.OPERATIONS), user_id=user_id)
    with pytest.raises(NotFound):
        accounts.revoke_user_tokens(sec, actor=admin, user_id="usr_nobody")
    accounts.revoke_user_tokens(sec, actor=admin, user_id=user_id)

    with pytest.raises(Unauthenticated, match="revoked"):
        accounts.authenticate_token(sec, token)
    clock.advance(timedelta(seconds=1))
    fresh = accounts.login(sec, username="ops1", password=PASSWORD, client="c").access_token
    assert accounts.authenticate_token(sec, fresh).user_id == user_id
    with engine.connect() as c:
        actions = c.execute(select(audit_tables.audit_events.c.action)).scalars().all()
    assert "user.tokens_revoked" in actions


def test_another_process_refuses_a_revoked_token_once_its_copy_is_refreshed(
    engine: Engine, clock: FixedClock
) -> None:
    a, b = process(engine, clock), process(engine, clock)
    token = staff_token(a)
    user_id = accounts.authenticate_token(b, token).user_id
    accounts.logout(a, token)

    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(a, token)
    # B read the revocations a moment ago; its copy may be this old before it reads again.
    clock.advance(b.config.revocation_refresh)
    with pytest.raises(Unauthenticated, match="revoked"):
        accounts.authenticate_token(b, token)
    with engine.connect() as c:
        stored = c.execute(select(t.revoked_tokens.c.user_id)).scalars().all()
    assert stored == [user_id]


def test_login_attempts_count_across_processes_and_keys_are_not_stored_in_clear(
    engine: Engine, clock: FixedClock
) -> None:
    a, b = process(engine, clock), process(engine, clock)
    staff_token(a)
    # Failures from one address count across processes; the account itself is never locked.
    limit = a.config.login_delay.free_failures
    for attempt in range(limit):
        sec = a if attempt % 2 == 0 else b
        with pytest.raises(Unauthenticated):
            accounts.login(sec, username="ops1", password="wrong password", client="c")
    for sec in (a, b):
        with pytest.raises(RateLimited) as refused:
            accounts.login(sec, username="ops1", password=PASSWORD, client="c")
        assert refused.value.details["retry_after_seconds"] > 0
    with engine.connect() as c:
        keys = c.execute(select(t.rate_limits.c.key_hash)).scalars().all()
    # Usernames, phones and addresses are keys: stored only as keyed hashes.
    assert keys
    assert all(len(k) == 64 and set(k) <= set("0123456789abcdef") for k in keys)

    clock.advance(a.config.login_delay.base_delay)
    token = accounts.login(b, username="ops1", password=PASSWORD, client="c").access_token
    assert accounts.authenticate_token(a, token).role is Role.OPERATIONS
