"""Security services: Argon2id passwords, JWT expiry, API key scopes, one-time codes, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from origination_fakes import PHONE, fast_hasher
from origination_wiring import Wired

from puhui.domain.errors import Conflict, InvalidInput
from puhui.domain.origination.errors import Forbidden, RateLimited, Unauthenticated
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Permission, Principal, Role

PASSWORD = "correct horse battery"


def test_passwords_are_stored_as_argon2id_and_verified() -> None:
    hasher = fast_hasher()
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, PASSWORD + "!")
    assert not hasher.verify(None, PASSWORD)
    with pytest.raises(InvalidInput):
        hasher.hash("short")


def test_login_issues_a_token_that_expires(fake: Wired) -> None:
    accounts.create_user(
        fake.security, actor=SYSTEM, username="Ops1", password=PASSWORD, role=Role.OPERATIONS
    )
    token = accounts.login(fake.security, username="ops1", password=PASSWORD, client="c")
    principal = accounts.authenticate_token(fake.security, token.access_token)
    assert principal.role is Role.OPERATIONS
    assert token.expires_in_seconds == 15 * 60
    fake.clock.advance(timedelta(minutes=16))
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(fake.security, token.access_token)


def test_a_tampered_token_is_refused(fake: Wired) -> None:
    accounts.create_user(
        fake.security, actor=SYSTEM, username="ops1", password=PASSWORD, role=Role.OPERATIONS
    )
    token = accounts.login(fake.security, username="ops1", password=PASSWORD, client="c")
    head, body, sig = token.access_token.split(".")
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(fake.security, f"{head}.{body}.{sig[::-1]}")


def test_only_admins_create_users_and_usernames_are_unique(fake: Wired) -> None:
    ops = Principal("u1", Role.OPERATIONS)
    with pytest.raises(Forbidden):
        accounts.create_user(
            fake.security, actor=ops, username="x", password=PASSWORD, role=Role.ADMIN
        )
    accounts.create_user(
        fake.security, actor=SYSTEM, username="x", password=PASSWORD, role=Role.ADMIN
    )
    with pytest.raises(Conflict):
        accounts.create_user(
            fake.security, actor=SYSTEM, username="X", password=PASSWORD, role=Role.ADMIN
        )


def test_failed_logins_slow_that_address_down_without_locking_the_account(fake: Wired) -> None:
    accounts.create_user(
        fake.security, actor=SYSTEM, username="ops1", password=PASSWORD, role=Role.OPERATIONS
    )
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            accounts.login(fake.security, username="ops1", password="wrong-password", client="c")
    with pytest.raises(RateLimited) as refused:
        accounts.login(fake.security, username="ops1", password=PASSWORD, client="c")
    assert refused.value.details["retry_after_seconds"] == 30
    # The owner, elsewhere, is not locked out by the guesser.
    assert accounts.login(fake.security, username="ops1", password=PASSWORD, client="d")
    fake.clock.advance(timedelta(seconds=30))
    with pytest.raises(Unauthenticated):
        accounts.login(fake.security, username="ops1", password="wrong-password", client="c")
    with pytest.raises(RateLimited) as doubled:
        accounts.login(fake.security, username="ops1", password=PASSWORD, client="c")
    assert doubled.value.details["retry_after_seconds"] == 60
    fake.clock.advance(timedelta(seconds=60))
    assert accounts.login(fake.security, username="ops1", password=PASSWORD, client="c")


def test_one_time_codes_are_rate_limited_and_single_use(fake: Wired) -> None:
    for _ in range(3):
        accounts.request_code(fake.security, phone=PHONE, client="c")
    with pytest.raises(RateLimited):
        accounts.request_code(fake.security, phone=PHONE, client="c")
    code = fake.sender.sent[-1][1]
    assert accounts.verify_code(fake.security, phone=PHONE, code=code)
    with pytest.raises(Unauthenticated):
        accounts.verify_code(fake.security, phone=PHONE, code=code)


def test_a_one_time_code_dies_after_five_wrong_attempts_or_expiry(fake: Wired) -> None:
    accounts.request_code(fake.security, phone=PHONE, client="c")
    code = fake.sender.sent[-1][1]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            accounts.verify_code(fake.security, phone=PHONE, code=wrong)
    with pytest.raises(Unauthenticated):
        accounts.verify_code(fake.security, phone=PHONE, code=code)
    fake.clock.advance(timedelta(minutes=11))
    accounts.request_code(fake.security, phone=PHONE, client="c")
    fake.clock.advance(timedelta(minutes=6))
    with pytest.raises(Unauthenticated):
        accounts.verify_code(fake.security, phone=PHONE, code=fake.sender.sent[-1][1])


def test_api_keys_are_stored_hashed_and_scoped(fake: Wired, store: object) -> None:
    issued = accounts.issue_api_key(
        fake.security,
        actor=SYSTEM,
        partner_id="channel-7",
        scopes=[Permission.APPLICATION_CREATE, Permission.APPLICATION_READ],
    )
    principal = accounts.authenticate_api_key(fake.security, issued.api_key)
    assert principal.role is Role.PARTNER
    assert principal.partner_id == "channel-7"
    assert principal.can(Permission.APPLICATION_CREATE)
    assert not principal.can(Permission.APPLICATION_ASSESS)
    # The key is pk_<key id>_<secret>; the secret itself may contain "_" (URL-safe base64).
    secret = issued.api_key.removeprefix(f"pk_{issued.key_id}_")
    assert len(secret) >= 40
    assert secret not in repr(store)
    with pytest.raises(Unauthenticated):
        accounts.authenticate_api_key(fake.security, issued.api_key[:-1] + "x")
    with pytest.raises(InvalidInput):
        accounts.issue_api_key(
            fake.security, actor=SYSTEM, partner_id="p", scopes=[Permission.USER_MANAGE]
        )


def test_evicting_stale_counts_keeps_each_limiters_own_window() -> None:
    from datetime import UTC, datetime

    from puhui.domain.clock import FixedClock
    from puhui.services.security.rate_limit import MemoryWindowCounter, RateLimit, RateLimiter

    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    counter = MemoryWindowCounter()
    counter._MAX_KEYS = 2  # evict on the third key
    login = RateLimiter(
        RateLimit(1, timedelta(minutes=15)), clock=clock, name="login", counter=counter
    )
    code = RateLimiter(
        RateLimit(5, timedelta(minutes=10)), clock=clock, name="code", counter=counter
    )
    login.hit("user:a")
    clock.advance(timedelta(minutes=11))
    code.hit("phone:1")
    code.hit("phone:2")  # eviction: the code limiter's 10 minutes must not end login's 15
    with pytest.raises(RateLimited):
        login.hit("user:a")


def test_the_client_address_is_read_through_trusted_proxies_only() -> None:
    from puhui.domain.errors import ConfigurationError
    from puhui.services.security.network import client_address, parse_networks

    trusted = parse_networks(["10.0.0.0/8", " ", "2001:db8::/32"])
    # Nobody trusted, or an untrusted peer: the header is the client's own words.
    assert client_address("198.51.100.9", "192.0.2.1", ()) == "198.51.100.9"
    assert client_address("198.51.100.9", "192.0.2.1", trusted) == "198.51.100.9"
    # Through our proxies: the rightmost address that is not one of them.
    assert client_address("10.0.0.2", "192.0.2.1, 203.0.113.5", trusted) == "203.0.113.5"
    assert client_address("10.0.0.2", "203.0.113.5, 10.1.1.1", trusted) == "203.0.113.5"
    assert client_address("2001:db8::1", "2001:db8::7, 192.0.2.8", trusted) == "192.0.2.8"
    # A malformed hop ends the walk at the last address a trusted proxy vouched for.
    assert client_address("10.0.0.2", "203.0.113.5, junk, 10.1.1.1", trusted) == "10.1.1.1"
    assert client_address("10.0.0.2", "", trusted) == "10.0.0.2"
    assert client_address("testclient", "192.0.2.1", trusted) == "testclient"
    with pytest.raises(ConfigurationError):
        parse_networks(["10.0.0.0/33"])


def test_progressive_delays_double_up_to_their_cap() -> None:
    from puhui.services.security.rate_limit import DelayPolicy

    policy = DelayPolicy(
        free_failures=3,
        base_delay=timedelta(seconds=30),
        max_delay=timedelta(minutes=15),
        forget_after=timedelta(hours=24),
    )
    assert [policy.delay(n).total_seconds() for n in range(2, 9)] == [
        0,
        30,
        60,
        120,
        240,
        480,
        900,
    ]
    assert policy.delay(10_000) == timedelta(minutes=15)
