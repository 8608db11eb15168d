"""``puhui user`` and ``puhui apikey``: a bank runs the API without the demo."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.web import server

runner = CliRunner()
SHOWN = re.compile(r"\(shown once\): (\S+)")


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return sqlite_url


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def secret_of(output: str) -> str:
    found = SHOWN.search(output)
    assert found is not None, output
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code


def test_operators_manage_users_and_keys_with_four_eyes_for_privileged_roles(env: str) -> None:
    # The first two admins need nobody's approval: there is nobody to ask yet.
    code, out = run("user", "create", "--username", "root1", "--role", "admin")
    assert code == 0, out
    root1 = secret_of(out)
    code, out = run(
        "user", "create", "--username", "root2", "--role", "admin", "--password-stdin",
        stdin="second admin password\n",
    )  # fmt: skip
    assert code == 0, out
    assert "shown once" not in out
    code, out = run("user", "create", "--username", "root3", "--role", "admin")
    assert code != 0
    assert "four_eyes_violation" in out

    # An approver: one admin asks, another approves; the same admin cannot do both.
    code, out = run(
        "user", "create", "--username", "appr", "--role", "approver",
        "--requested-by", "root1", "--approved-by", "root1",
    )  # fmt: skip
    assert code != 0
    assert "four_eyes_violation" in out
    code, out = run("user", "grants")
    grant_id = out.split()[0]
    assert grant_id.startswith("grt_"), out
    code, out = run("user", "approve-grant", grant_id, "--approved-by", "root2")
    assert code == 0, out
    approver_password = secret_of(out)
    code, out = run("user", "create", "--username", "appr2", "--role", "approver")
    assert code != 0

    code, out = run("user", "create", "--username", "ops1", "--role", "operations")
    assert code == 0, out
    ops_password = secret_of(out)

    code, out = run(
        "apikey", "create", "--partner", "channel-3",
        "--scopes", "applications:read,applications:create",
    )  # fmt: skip
    assert code == 0, out
    key = secret_of(out)
    key_id = key.split("_")[1]
    code, out = run("apikey", "create", "--partner", "p", "--scopes", "users:manage")
    assert code != 0

    client = TestClient(server.app_from_settings(), raise_server_exceptions=False)
    assert sign_in(client, "root1", root1) == 200
    assert sign_in(client, "root2", "second admin password") == 200
    assert sign_in(client, "appr", approver_password) == 200
    assert sign_in(client, "ops1", ops_password) == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200

    assert run("user", "disable", "ops1")[0] == 0
    assert sign_in(client, "ops1", ops_password) == 401
    assert run("user", "enable", "ops1")[0] == 0
    assert sign_in(client, "ops1", ops_password) == 200
    assert run("user", "disable", "nobody")[0] != 0

    code, out = run("apikey", "rotate", key_id)
    assert code == 0, out
    rotated = secret_of(out)
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    assert client.get("/api/v1/me", headers={"X-API-Key": rotated}).status_code == 200
    assert run("apikey", "revoke", key_id)[0] == 0
    assert client.get("/api/v1/me", headers={"X-API-Key": rotated}).status_code == 401

    code, out = run("audit", "search", "--entity", "role_grant")
    assert "role_grant.approved" in out
    assert "role_grant.requested" in out


def test_a_second_admin_rejects_a_grant_with_a_reason_read_back_by_grants_decided(
    env: str,
) -> None:
    assert run("user", "create", "--username", "root1", "--role", "admin")[0] == 0
    assert run("user", "create", "--username", "root2", "--role", "admin")[0] == 0
    assert run("user", "create", "--username", "ops1", "--role", "operations")[0] == 0
    code, out = run("user", "elevate", "ops1", "--role", "approver", "--requested-by", "root1")
    assert code == 0, out
    grant_id = out.split()[-1]
    assert grant_id.startswith("grt_"), out
    code, out = run("user", "reject-grant", grant_id, "--rejected-by", "root2", "--reason", " ")
    assert code != 0
    assert "grant_reason_invalid" in out
    code, out = run("user", "reject-grant", grant_id, "--rejected-by", "ops1", "--reason", "no")
    assert code != 0
    assert "ops1 is not an admin" in out
    assert grant_id in run("user", "grants")[1]  # still waiting
    code, out = run(
        "user", "reject-grant", grant_id, "--rejected-by", "root2",
        "--reason", "ops1 is new: in a year",
    )  # fmt: skip
    assert code == 0, out
    assert f"rejected {grant_id}: ops1 does not become approver" in out
    assert grant_id not in run("user", "grants")[1]
    code, out = run("user", "grants", "--decided")
    assert code == 0, out
    (line,) = [row for row in out.splitlines() if row.startswith(grant_id)]
    assert "rejected by usr_" in line
    assert line.endswith(": ops1 is new: in a year")
