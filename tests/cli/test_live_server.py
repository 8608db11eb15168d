"""A real ``puhui serve`` process on a free loopback port, spoken to over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

import puhui
from puhui.bootstrap.settings import DEV_JWT_SECRET
from puhui.services.origination.graph_check import NOT_CONFIGURED

SECRETS = {
    "PUHUI_AUDIT_KEY": "live-audit-" + "a" * 32,
    "PUHUI_DATA_KEY": "live-data-" + "d" * 32,
    "PUHUI_JWT_SECRET": "live-jwt-" + "j" * 32,
    "PUHUI_SIGNING_KEY": "live-signing-" + "s" * 32,
}
START_TIMEOUT_SECONDS = 90

GRAPH_MISSING = NOT_CONFIGURED.health.to_dict()
"""What the health check says of the graph when no PUHUI_GRAPH_DIR is set."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _puhui(*args: str) -> list[str]:
    return [sys.executable, "-c", "from puhui.cli.main import main; main()", *args]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PUHUI_")},
        **SECRETS,
        "PUHUI_ENVIRONMENT": "production",
        "PUHUI_DATABASE_URL": f"sqlite:///{tmp_path / 'puhui.db'}",
        "PUHUI_DATA_DIR": str(tmp_path),
        "PUHUI_MODEL_REGISTRY_DIR": str(tmp_path / "models"),
        "PUHUI_LOG_LEVEL": "WARNING",
        # The code under test, wherever the process starts (PYTHONPATH may be relative).
        "PYTHONPATH": str(Path(puhui.__file__).resolve().parents[1]),
    }
    subprocess.run(_puhui("db", "upgrade"), env=env, cwd=tmp_path, check=True, timeout=120)
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        _puhui("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"puhui serve exited: {(tmp_path / 'server.log').read_text()}")
            try:
                status, _ = _request(port, "GET", "/api/v1/health")
            except OSError:
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail("puhui serve did not answer /api/v1/health in time")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
    finally:
        connection.close()


def _announce_body(port: int, path: str, length: int) -> tuple[int, dict[str, object]]:
    """Send only the headers of a large body and read the answer.

    The server refuses by the declared length, before reading a byte; writing the body too
    would race its early close (a reset on the client's side, now and then).
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
    finally:
        connection.close()


def test_a_served_api_limits_bodies_and_refuses_the_development_key(server: int) -> None:
    status, body = _request(server, "GET", "/api/v1/health")
    assert (status, body) == (200, {"status": "ok", "graph": GRAPH_MISSING})

    status, body = _announce_body(server, "/api/v1/auth/otp", 2 * 1024 * 1024)
    assert status == 413
    assert body["code"] == "request_too_large"

    status, body = _request(server, "GET", "/api/v1/applications")
    assert status == 401
    assert set(body) == {"code", "message", "details"}

    # A token signed with the published development key is worth nothing here.
    now = datetime.now(UTC)
    forged = jwt.encode(
        {
            "sub": "usr_forged",
            "role": "admin",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "jti": "forged",
        },
        DEV_JWT_SECRET,
        algorithm="HS256",
    )
    status, body = _request(
        server, "GET", "/api/v1/applications", headers={"Authorization": f"Bearer {forged}"}
    )
    assert status == 401

    status, body = _request(
        server, "POST", "/api/v1/auth/otp", b'{"phone": 5}', {"Content-Type": "application/json"}
    )
    assert status == 422
