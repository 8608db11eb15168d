"""``puhui serve`` builds the API from settings and hands it to uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from puhui.bootstrap import Settings, build_platform
from puhui.cli import serve as serve_cli
from puhui.services.origination.graph_check import NOT_CONFIGURED
from puhui.web import server
from puhui.web.transport import OneSendHttpToolsProtocol

# `puhui serve` refuses the published development secrets outside dev on loopback.
REAL_SECRETS = {
    f"PUHUI_{name}": f"serve-test-{name.lower()}-" + "x" * 32
    for name in ("AUDIT_KEY", "DATA_KEY", "JWT_SECRET", "SIGNING_KEY")
}

GRAPH_MISSING = NOT_CONFIGURED.health.to_dict()
"""What the health check says of the graph when no PUHUI_GRAPH_DIR is set."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ran(script: str, port: int) -> subprocess.CompletedProcess[str]:
    """``script`` run to its end with ``port`` as its argument, its output captured."""
    return subprocess.run(
        [sys.executable, "-c", script, str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _migrated(url: str) -> str:
    built = build_platform(Settings(database_url=url, environment="test", _env_file=None))  # type: ignore[call-arg]
    try:
        built.database.upgrade()
    finally:
        built.close()
    return url


def test_serve_binds_host_and_port_and_hands_the_socket_to_uvicorn(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", _migrated(sqlite_url))
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    for name, value in REAL_SECRETS.items():
        monkeypatch.setenv(name, value)
    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, config: Any) -> None:
            seen["config"] = config
            self.started = True

        def run(self, sockets: list[socket.socket]) -> None:
            seen["sockets"] = sockets

    monkeypatch.setattr(server.uvicorn, "Server", FakeServer)
    port = _free_port()
    result = CliRunner().invoke(serve_cli.app, ["--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 0, result.output
    [listener] = seen["sockets"]
    try:
        assert listener.getsockname() == ("127.0.0.1", port)
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        listener.close()
    assert seen["config"].http is OneSendHttpToolsProtocol
    with TestClient(seen["config"].app) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok", "graph": GRAPH_MISSING}
        assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_on_a_taken_port_says_so_and_nothing_else(sqlite_url: str, workers: int) -> None:
    # The refused bind comes before anything is logged as serving, and nothing is started.
    port = _free_port()
    env = {**os.environ, **REAL_SECRETS}
    env.update(PUHUI_DATABASE_URL=_migrated(sqlite_url), PUHUI_ENVIRONMENT="test")
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        refused = subprocess.run(
            [
                sys.executable,
                "-m",
                "puhui",
                "serve",
                "--port",
                str(port),
                "--workers",
                f"{workers}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert refused.returncode != 0
    assert "Address already in use" in refused.stderr
    assert "serving the Puhui API" not in refused.stderr + refused.stdout


def test_serve_refuses_a_database_behind_the_code_and_names_the_fix(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    for name, value in REAL_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(server, "listening_socket", lambda host, port: pytest.fail("bound"))
    empty = CliRunner().invoke(serve_cli.app, ["--port", str(_free_port())])
    assert empty.exit_code != 0
    assert "is at revision (empty) but this version of Puhui needs" in str(empty.exception)
    assert "run `puhui db upgrade` first" in str(empty.exception)
    built = build_platform(Settings(database_url=sqlite_url, environment="test", _env_file=None))  # type: ignore[call-arg]
    try:
        built.database.upgrade("0042")  # one migration behind
    finally:
        built.close()
    behind = CliRunner().invoke(serve_cli.app, ["--port", str(_free_port()), "--workers", "2"])
    assert "is at revision 0042" in str(behind.exception)
    assert "pending: 0043" in str(behind.exception)


def test_production_refuses_to_serve_with_development_secrets(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "production")
    monkeypatch.setenv("PUHUI_AUDIT_KEY", "x" * 40)
    from pydantic import ValidationError

    from puhui.bootstrap import Settings

    with pytest.raises(ValidationError, match="PUHUI_DATA_KEY"):
        server.app_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Neither gone nor a zombie (a dead worker its parent has not reaped yet)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_serve_with_two_workers_answers_on_one_port_and_stops_on_sigterm(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PUHUI_DATABASE_URL": sqlite_url,
        "PUHUI_ENVIRONMENT": "test",
        "PUHUI_LOG_LEVEL": "WARNING",
        **REAL_SECRETS,
    }
    command = [sys.executable, "-c", "from puhui.cli.main import app; app()"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        answers = 0
        while answers < 20 and time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                answers += response.json() == {"status": "ok", "graph": GRAPH_MISSING}
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answers == 20
        assert len(_children(server.pid)) >= 2
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) is not None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_the_demo_prints_one_time_codes_with_the_phone_masked() -> None:
    from puhui.web.server import TerminalOtpSender

    lines: list[str] = []
    TerminalOtpSender(lines.append).send("13812345678", "042917")
    assert lines == ["one-time code for 138****5678: 042917"]


_WORKERS_SCRIPT = """
import os, sys
from fastapi import FastAPI
from puhui.web.server import run_workers

def make_app():
    app = FastAPI()

    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()

    return app

run_workers(make_app, host="127.0.0.1", port=int(sys.argv[1]), workers=3)
"""


_FAILING_WORKERS_SCRIPT = """
import sys
from puhui.web.server import run_workers

def make_app():
    raise RuntimeError("this app cannot start")

run_workers(make_app, host="127.0.0.1", port=int(sys.argv[1]), workers=2)
"""


@pytest.mark.slow
def test_workers_that_cannot_start_are_not_replaced_and_the_supervisor_stops() -> None:
    port = _free_port()
    ended = _ran(_FAILING_WORKERS_SCRIPT, port)
    assert ended.returncode != 0
    assert ended.stderr.count("RuntimeError: this app cannot start") == 2
    assert ended.stderr.count("before it was serving; it is not replaced") == 2
    assert "WorkersEnded: every worker has ended and none could be replaced" in ended.stderr
    with socket.socket() as again:  # the port was given back
        again.bind(("127.0.0.1", port))


def _open(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once (a burst, as a client pool starts: the kernel
    completes them before the server accepts any)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def _pids_of_connections(port: int, count: int) -> list[int]:
    """Open a burst of ``count`` connections, ask on each which worker holds it, close them."""
    connections = _open(port, count)
    try:
        return [_ask_pid(connection) for connection in connections]
    finally:
        for connection in connections:
            connection.close()


def _ask_pid(connection: socket.socket) -> int:
    connection.sendall(b"GET /pid HTTP/1.1\r\nHost: test\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += _received(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    lengths = [
        int(value)
        for name, _, value in (line.partition(b":") for line in head.split(b"\r\n"))
        if name.strip().lower() == b"content-length"
    ]
    assert lengths, head
    while len(body) < lengths[0]:
        body += _received(connection)
    return int(body)


def _received(connection: socket.socket) -> bytes:
    chunk = connection.recv(4096)
    assert chunk, "the server closed the connection"
    return chunk


@pytest.mark.slow
def test_each_new_connection_goes_to_the_worker_with_fewest_and_a_dead_one_is_replaced() -> None:
    port = _free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", _WORKERS_SCRIPT, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while len(_children(parent.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = set(_children(parent.pid))
        assert len(workers) == 3
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/pid", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(1.0)  # that probe's connection has closed and its worker has said so
        # A burst is shared out evenly (one shared listening socket gave one worker 22 of
        # 32; one SO_REUSEPORT socket per worker split them at random).
        held = _open(port, 30)
        pids = [_ask_pid(connection) for connection in held]
        assert sorted(pids.count(pid) for pid in workers) == [10, 10, 10]
        # One worker's clients leave: the next connections all go to it.
        quiet = pids[0]
        for connection, pid in zip(list(held), pids, strict=True):
            if pid == quiet:
                connection.close()
                held.remove(connection)
        time.sleep(1.0)  # the worker sees them close and tells the supervisor
        fresh = _open(port, 9)
        held += fresh
        assert [_ask_pid(connection) for connection in fresh] == [quiet] * 9
        # A second server on the same port is refused.
        second = _ran(_WORKERS_SCRIPT, port)
        assert second.returncode != 0
        assert "Address already in use" in second.stderr
        # A worker that dies gets no new connection: until its replacement serves, the others
        # take them; then the replacement, holding none, takes the next ones.
        dead = quiet
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (
            len(replacements := set(_children(parent.pid)) - workers) != 1
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert len(replacements) == 1, "the dead worker was not replaced"
        assert dead not in _children(parent.pid)  # reaped, not left a zombie
        (replacement,) = replacements
        answered: set[int] = set()
        while replacement not in answered and time.monotonic() < deadline:
            answered |= set(_pids_of_connections(port, 20))
        assert answered <= workers - {dead} | {replacement}
        assert replacement in answered
        workers.add(replacement)
        # Without their supervisor the workers stop: none is left behind serving nothing.
        parent.kill()
        parent.wait(timeout=20)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)]
    finally:
        for connection in held:
            connection.close()
        if parent.poll() is None:
            parent.terminate()
            parent.wait(timeout=20)
        for pid in workers:  # none may outlive the test
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
