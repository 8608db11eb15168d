"""Security hardening over HTTP: no account lockout, code allowances behind a carrier NAT,
trusted proxies, disabled users, revoked and rotated API keys, four-eyes role grants, JWT key
rotation, absurd token claims, the auditor and the audit search."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from api_support import PASSWORD, Api, build_api
from fastapi.testclient import TestClient

from puhui.bootstrap.api import ApiLimits
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role
from puhui.services.security.rate_limit import RateLimit
from puhui.services.security.tokens import key_id

ATTACKER = ("198.51.100.9", 40000)
OWNER = ("203.0.113.5", 40001)
PROXY = ("10.0.0.2", 40002)
JWT_SECRET = b"j" * 32


def client_at(api: Api, address: tuple[str, int]) -> TestClient:
    return TestClient(api.client.app, client=address, raise_server_exceptions=False)


def login(client: TestClient, username: str, password: str, **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, headers=headers
    )


def bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_id(api: Api, headers: dict[str, str]) -> str:
    return str(api.client.get("/api/v1/me", headers=headers).json()["user_id"])


@pytest.fixture
def behind_proxy(sqlite_url: str, clock: FixedClock) -> Iterator[Api]:
    limits = ApiLimits(
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
        otp_client_send=RateLimit(5, timedelta(minutes=10)),
    )
    built, engine = build_api(sqlite_url, clock, limits=limits)
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


# -- Login: progressive delays per (account, address), never a locked account ---------------


def test_wrong_passwords_slow_the_guesser_but_never_lock_the_admin_out(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    api.staff_headers(Role.ADMIN, "admin")
    attacker, owner = client_at(api, ATTACKER), client_at(api, OWNER)
    for _ in range(5):
        assert login(attacker, "admin", "wrong password").status_code == 401
    refused = login(attacker, "admin", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "30"
    # The owner, from their own address, signs in while the guesser waits.
    assert login(owner, "admin", PASSWORD).status_code == 200

    api.clock.advance(timedelta(seconds=30))
    assert login(attacker, "admin", "wrong password").status_code == 401
    doubled = login(attacker, "admin", "wrong password")
    assert doubled.status_code == 429
    assert doubled.headers["Retry-After"] == "60"


# -- One-time codes: per phone, and per address with room for a carrier NAT -----------------


def test_many_subscribers_behind_one_carrier_address_all_get_codes(api: Api) -> None:
    nat = client_at(api, ("100.64.0.1", 5000))
    for i in range(40):
        sent = nat.post("/api/v1/auth/otp", json={"phone": f"139{i:08d}"})
        assert sent.status_code == 202, (i, sent.text)
    # Each phone keeps its own small allowance.
    for _ in range(2):
        assert nat.post("/api/v1/auth/otp", json={"phone": "13900000000"}).status_code == 202
    limited = nat.post("/api/v1/auth/otp", json={"phone": "13900000000"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def test_the_per_address_code_allowance_still_ends(behind_proxy: Api) -> None:
    api = behind_proxy
    one = client_at(api, ("198.51.100.20", 5000))
    for i in range(5):
        assert one.post("/api/v1/auth/otp", json={"phone": f"137{i:08d}"}).status_code == 202
    refused = one.post("/api/v1/auth/otp", json={"phone": "13700000099"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"


# -- Client addresses: X-Forwarded-For only from trusted proxies ------------------------------


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_delay(
    behind_proxy: Api,
) -> None:
    api = behind_proxy
    api.staff_headers(Role.OPERATIONS, "ops1")
    attacker = client_at(api, ATTACKER)
    for i in range(5):
        wrong = login(attacker, "ops1", "wrong password", **{"X-Forwarded-For": f"192.0.2.{i}"})
        assert wrong.status_code == 401
    forged = login(attacker, "ops1", PASSWORD, **{"X-Forwarded-For": "192.0.2.77"})
    assert forged.status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_count(behind_proxy: Api) -> None:
    api = behind_proxy
    api.staff_headers(Role.OPERATIONS, "ops1")
    proxy = client_at(api, PROXY)
    # The client forges a left-hand entry; the proxy appends the address it saw.
    guesser = {"X-Forwarded-For": "203.0.113.5, 198.51.100.9"}
    for _ in range(5):
        assert login(proxy, "ops1", "wrong password", **guesser).status_code == 401
    assert login(proxy, "ops1", PASSWORD, **guesser).status_code == 429
    # The owner behind the same proxy is a different client, not locked out.
    assert login(proxy, "ops1", PASSWORD, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 200


def test_the_server_leaves_forwarded_headers_to_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from puhui.web import server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(server, "build_platform", lambda settings: object())
    monkeypatch.setattr(server, "check_schema", lambda platform: None)
    monkeypatch.setattr(server, "app_from_settings", lambda settings, platform: object())
    monkeypatch.setattr(server, "settle_heap", lambda: None)

    class FakeServer:
        def __init__(self, config: Any) -> None:
            seen["config"] = config
            self.started = True

        def run(self, sockets: Any) -> None:
            seen["sockets"] = sockets

    monkeypatch.setattr(server.uvicorn, "Server", FakeServer)
    monkeypatch.setattr(server, "listening_socket", lambda host, port: (host, port))
    server.run()
    assert seen["sockets"] == [("127.0.0.1", 8000)]
    assert seen["config"].proxy_headers is False


# -- Disabling users ---------------------------------------------------------------------------


def test_a_disabled_user_loses_their_tokens_at_once_and_can_be_enabled(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    admin = api.staff_headers(Role.ADMIN, "admin1")
    ops = api.staff_headers(Role.OPERATIONS, "ops1")
    ops_id = user_id(api, ops)

    assert api.client.post(f"/api/v1/users/{ops_id}/disable", headers=ops).status_code == 403
    disabled = api.client.post(f"/api/v1/users/{ops_id}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    assert api.client.get("/api/v1/me", headers=ops).status_code == 401
    assert login(api.client, "ops1", PASSWORD).status_code == 401

    api.clock.advance(timedelta(seconds=1))
    enabled = api.client.post(f"/api/v1/users/{ops_id}/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    assert api.client.get("/api/v1/me", headers=ops).status_code == 401  # old tokens stay dead
    assert api.client.get("/api/v1/me", headers=bearer(login(api.client, "ops1", PASSWORD)))

    admin_id = user_id(api, admin)
    itself = api.client.post(f"/api/v1/users/{admin_id}/disable", headers=admin)
    assert itself.status_code == 409
    assert api.client.post("/api/v1/users/usr_none/disable", headers=admin).status_code == 404


def test_a_disabled_applicant_cannot_sign_in_with_a_code(api: Api) -> None:
    admin = api.staff_headers(Role.ADMIN, "admin1")
    applicant = api.applicant_headers()
    applicant_id = user_id(api, applicant)
    api.client.post(f"/api/v1/users/{applicant_id}/disable", headers=admin)
    assert api.client.get("/api/v1/me", headers=applicant).status_code == 401
    api.clock.advance(timedelta(minutes=11))
    api.client.post("/api/v1/auth/otp", json={"phone": "13812345678"})
    code = api.sender.sent[-1][1]
    refused = api.client.post(
        "/api/v1/auth/otp/verify", json={"phone": "13812345678", "code": code}
    )
    assert refused.status_code == 401


# -- API keys: revocation and rotation ---------------------------------------------------------


def test_api_keys_are_revoked_and_rotated_at_once(api_on_each_database: Api) -> None:
    api = api_on_each_database
    admin = api.staff_headers(Role.ADMIN, "admin1")
    issued = api.client.post(
        "/api/v1/api-keys",
        json={"partner_id": "channel-9", "scopes": ["applications:read", "applications:list"]},
        headers=admin,
    ).json()
    old = {"X-API-Key": issued["api_key"]}
    assert api.client.get("/api/v1/me", headers=old).status_code == 200

    rotated = api.client.post(f"/api/v1/api-keys/{issued['key_id']}/rotation", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()
    assert new_key["key_id"] == issued["key_id"]
    assert new_key["scopes"] == issued["scopes"]
    assert new_key["api_key"] != issued["api_key"]
    assert api.client.get("/api/v1/me", headers=old).status_code == 401
    new = {"X-API-Key": new_key["api_key"]}
    me = api.client.get("/api/v1/me", headers=new).json()
    assert me["partner_id"] == "channel-9"

    partner = api.client.post(f"/api/v1/api-keys/{issued['key_id']}/revocation", headers=new)
    assert partner.status_code == 403
    revoked = api.client.post(f"/api/v1/api-keys/{issued['key_id']}/revocation", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.client.get("/api/v1/me", headers=new).status_code == 401
    again = api.client.post(f"/api/v1/api-keys/{issued['key_id']}/rotation", headers=admin)
    assert again.status_code == 409
    assert api.client.post("/api/v1/api-keys/nope/revocation", headers=admin).status_code == 404


# -- Four eyes on approver and admin roles -----------------------------------------------------


def test_an_admin_alone_cannot_create_an_approver(api_on_each_database: Api) -> None:
    api = api_on_each_database
    admin = api.staff_headers(Role.ADMIN, "admin1")
    for role in ("approver", "admin"):
        direct = api.client.post(
            "/api/v1/users",
            json={"username": f"my-{role}", "password": PASSWORD, "role": role},
            headers=admin,
        )
        assert direct.status_code == 403, direct.text
        assert direct.json()["code"] == "four_eyes_violation"
    requested = api.client.post(
        "/api/v1/role-grants", json={"role": "approver", "username": "my-approver"}, headers=admin
    )
    assert requested.status_code == 202, requested.text
    grant_id = requested.json()["grant_id"]
    assert requested.json()["status"] == "pending"
    assert login(api.client, "my-approver", PASSWORD).status_code == 401

    own = api.client.post(f"/api/v1/role-grants/{grant_id}/approval", headers=admin)
    assert own.status_code == 403
    assert own.json()["code"] == "four_eyes_violation"

    second = api.staff_headers(Role.ADMIN, "admin2")
    pending = api.client.get("/api/v1/role-grants", headers=second).json()
    assert [g["grant_id"] for g in pending] == [grant_id]
    approved = api.client.post(f"/api/v1/role-grants/{grant_id}/approval", headers=second)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["user"]["role"] == "approver"
    assert body["grant"]["decided_by"] == user_id(api, second)
    approver = bearer(login(api.client, "my-approver", body["password"]))
    assert api.client.get("/api/v1/me", headers=approver).json()["role"] == "approver"
    twice = api.client.post(f"/api/v1/role-grants/{grant_id}/approval", headers=second)
    assert twice.status_code == 409

    auditor = api.staff_headers(Role.AUDITOR, "auditor1")
    trail = api.client.get(
        "/api/v1/audit/events", params={"entity": "role_grant"}, headers=auditor
    ).json()
    assert [e["action"] for e in trail] == ["role_grant.approved", "role_grant.requested"]


def test_elevation_needs_a_second_admin_and_resets_the_password(api: Api) -> None:
    admin = api.staff_headers(Role.ADMIN, "admin1")
    second = api.staff_headers(Role.ADMIN, "admin2")
    ops = api.staff_headers(Role.OPERATIONS, "ghost")
    ghost_id = user_id(api, ops)
    grant = api.client.post(
        "/api/v1/role-grants", json={"role": "approver", "user_id": ghost_id}, headers=admin
    ).json()
    # The grantee cannot be its own second pair of eyes, even as an admin.
    approved = api.client.post(f"/api/v1/role-grants/{grant['grant_id']}/approval", headers=second)
    assert approved.status_code == 200
    assert api.client.get("/api/v1/me", headers=ops).status_code == 401  # old role's token
    assert login(api.client, "ghost", PASSWORD).status_code == 401  # the requester's password
    api.clock.advance(timedelta(seconds=1))
    new = bearer(login(api.client, "ghost", approved.json()["password"]))
    assert api.client.get("/api/v1/me", headers=new).json()["role"] == "approver"

    rejected = api.client.post(
        "/api/v1/role-grants", json={"role": "admin", "user_id": ghost_id}, headers=admin
    ).json()
    withdrawn = api.client.post(
        f"/api/v1/role-grants/{rejected['grant_id']}/rejection", headers=admin
    )
    assert withdrawn.json()["status"] == "rejected"
    bad = api.client.post(
        "/api/v1/role-grants", json={"role": "operations", "username": "x1"}, headers=admin
    )
    assert bad.status_code == 422


# -- Tokens: absurd claims are 401, signing keys rotate --------------------------------------


def forged(**claims: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "sub": "usr_forged",
        "role": "admin",
        "iss": "puhui",
        "iat": 1_772_415_000,
        "exp": 1_772_415_000 + 900,
        "jti": "tok_forged",
    }
    base.update(claims)
    token = jwt.encode(base, JWT_SECRET, algorithm="HS256", headers={"kid": key_id(JWT_SECRET)})
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 298_765_432_100},  # the year 11476
        {"exp": 1_772_415_000 + 10 * 365 * 86_400},  # ten years
        {"exp": "soon"},
        {"exp": True},
        {"iat": 1_772_415_000.5},
        {"iat": -5},
        {"sub": 42},
        {"jti": ["a"]},
        {"pid": {"x": 1}},
        {"role": "root"},
    ],
    ids=lambda c: "-".join(f"{k}={v!r}" for k, v in c.items()),
)
def test_absurd_or_malformed_claims_are_401_never_500(api: Api, claims: dict[str, Any]) -> None:
    headers = forged(**claims)
    for method, path in (("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/me")):
        response = api.client.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "unauthenticated"


def test_a_sane_forged_token_shows_the_check_above_is_not_vacuous(api: Api) -> None:
    assert api.client.get("/api/v1/me", headers=forged()).status_code == 200


def test_signing_keys_rotate_through_a_list_of_previous_keys(
    sqlite_url: str, clock: FixedClock
) -> None:
    old_secret, new_secret = b"o" * 32, b"n" * 32
    before, engine = build_api(sqlite_url, clock, jwt_secret=old_secret)
    old_token = before.staff_headers(Role.OPERATIONS, "ops1")
    from puhui.bootstrap.api import ApiKeys, build_api_dependencies
    from puhui.web.app import create_app

    def serving(previous: tuple[bytes, ...]) -> TestClient:
        deps = build_api_dependencies(
            engine=engine,  # type: ignore[arg-type]
            clock=clock,
            keys=ApiKeys(
                audit_key=b"a" * 32,
                data_key=b"d" * 32,
                jwt_secret=new_secret,
                signing_key_seed=bytes(range(32)),
                jwt_previous_secrets=previous,
            ),
            assessor=before.assessor,
            data_source=before.deps.origination.data_source,
            line_opener=before.opener,
            otp_sender=before.sender,
            hasher=before.deps.security.hasher,
        )
        return TestClient(create_app(deps), raise_server_exceptions=False)

    rotated = serving((old_secret,))
    assert rotated.get("/api/v1/me", headers=old_token).status_code == 200
    new_token = bearer(login(rotated, "ops1", PASSWORD))
    header = jwt.get_unverified_header(new_token["Authorization"].removeprefix("Bearer "))
    assert header["kid"] == key_id(new_secret)
    assert before.client.get("/api/v1/me", headers=new_token).status_code == 401

    retired = serving(())
    assert retired.get("/api/v1/me", headers=old_token).status_code == 401
    assert retired.get("/api/v1/me", headers=new_token).status_code == 200
    engine.dispose()  # type: ignore[attr-defined]


# -- The auditor and the audit search ----------------------------------------------------------


def test_auditors_read_the_trail_and_change_nothing(api_on_each_database: Api) -> None:
    api = api_on_each_database
    admin = api.staff_headers(Role.ADMIN, "admin1")
    auditor = api.staff_headers(Role.AUDITOR, "auditor1")
    ops = api.staff_headers(Role.OPERATIONS, "ops1")
    ops_id = user_id(api, ops)
    api.client.post(f"/api/v1/users/{ops_id}/disable", headers=admin)

    found = api.client.get(
        "/api/v1/audit/events",
        params={"entity": "user", "entity_id": ops_id, "action": "user."},
        headers=auditor,
    )
    assert found.status_code == 200, found.text
    events = found.json()
    assert [e["action"] for e in events] == ["user.disabled", "user.created"]
    assert events[0]["actor"].startswith("admin:")
    assert set(events[0]) == {
        "seq",
        "occurred_at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "payload_digest",
    }
    page = api.client.get(
        "/api/v1/audit/events", params={"limit": 1, "offset": 1}, headers=admin
    ).json()
    assert len(page) == 1
    window = api.client.get(
        "/api/v1/audit/events",
        params={"from": "2026-03-02T00:00:00+00:00", "to": "2026-03-03T00:00:00+00:00"},
        headers=auditor,
    )
    assert len(window.json()) >= 3
    naive = api.client.get(
        "/api/v1/audit/events", params={"from": "2026-03-02T00:00:00"}, headers=auditor
    )
    assert naive.status_code == 422
    backwards = api.client.get(
        "/api/v1/audit/events",
        params={"from": "2026-03-03T00:00:00+00:00", "to": "2026-03-02T00:00:00+00:00"},
        headers=auditor,
    )
    assert backwards.status_code == 422
    risk = api.staff_headers(Role.RISK_OFFICER, "risk1")
    assert api.client.get("/api/v1/audit/events", headers=risk).status_code == 403
    assert api.client.get("/api/v1/audit/events").status_code == 401
    assert api.client.get("/api/v1/applications", headers=auditor).status_code == 200
    refused = api.client.post(f"/api/v1/users/{ops_id}/enable", headers=auditor)
    assert refused.status_code == 403
