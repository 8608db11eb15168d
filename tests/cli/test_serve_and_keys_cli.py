"""``puhui serve`` refuses the published development secrets; ``puhui keys rotate``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from puhui.adapters.db.encryption import FieldCipher
from puhui.cli.main import app

runner = CliRunner()
REAL = {
    "PUHUI_AUDIT_KEY": "a" * 40,
    "PUHUI_DATA_KEY": "d" * 40,
    "PUHUI_JWT_SECRET": "j" * 40,
    "PUHUI_SIGNING_KEY": "s" * 40,
}


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for the server: records that it would have started, starts nothing."""
    from puhui.web import server

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(server, "run", lambda **kwargs: calls.append(kwargs))
    for name in (*REAL, "PUHUI_ENVIRONMENT", "PUHUI_INDEX_KEY", "PUHUI_RETIRED_DATA_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return calls


def _one_sentence(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize(
    ("environment", "host"),
    [("dev", "0.0.0.0"), ("dev", "192.168.1.20"), ("test", "127.0.0.1"), ("test", "::")],
)
def test_serve_refuses_development_secrets_off_dev_loopback(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, environment: str, host: str
) -> None:
    monkeypatch.setenv("PUHUI_ENVIRONMENT", environment)
    result = runner.invoke(app, ["serve", "--host", host, "--port", "8123"])
    assert result.exit_code == 2
    assert started == []
    line = _one_sentence(result.output)
    assert line.startswith("refusing to serve: PUHUI_AUDIT_KEY, PUHUI_DATA_KEY")
    assert f"host is {host}" in line


def test_serve_names_one_leftover_development_secret(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in REAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PUHUI_JWT_SECRET")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert started == []
    assert "PUHUI_JWT_SECRET" in result.output
    assert "PUHUI_DATA_KEY" not in result.output


def test_serve_in_production_names_every_placeholder(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "production")
    monkeypatch.setenv("PUHUI_DATA_KEY", REAL["PUHUI_DATA_KEY"])
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert started == []
    line = _one_sentence(result.output)
    for name in ("PUHUI_AUDIT_KEY", "PUHUI_JWT_SECRET", "PUHUI_SIGNING_KEY"):
        assert name in line
    assert "PUHUI_DATA_KEY" not in line


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_serve_starts_on_dev_loopback_or_with_real_secrets(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    result = runner.invoke(app, ["serve", "--host", host, "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert started == [{"host": host, "port": 8123, "workers": 1}]
    for name, value in REAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "production")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert started[-1]["host"] == "0.0.0.0"


def test_keys_rotate_re_encrypts_once_and_reports_counts(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_DATA_KEY", "o" * 32)
    for name in ("PUHUI_DATA_KEY_ID", "PUHUI_INDEX_KEY", "PUHUI_RETIRED_DATA_KEYS"):
        monkeypatch.delenv(name, raising=False)
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    old = FieldCipher(b"o" * 32)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for n, phone in enumerate(("13800138000", "13900139000", "13700137000")):
                connection.execute(
                    text(
                        "INSERT INTO security_users (user_id, username, role, phone_enc, "
                        "phone_index, disabled, created_at) VALUES (:id, :name, 'applicant', "
                        ":enc, :idx, false, :at)"
                    ),
                    {
                        "id": f"usr_{n}",
                        "name": f"applicant-{n}",
                        "enc": old.encrypt("phone", phone),
                        "idx": old.blind_index("phone", phone),
                        "at": datetime(2026, 1, 1, tzinfo=UTC),
                    },
                )
        # The new key encrypts; the old one is retired and still fixes the blind index.
        monkeypatch.setenv("PUHUI_DATA_KEY", "n" * 32)
        monkeypatch.setenv("PUHUI_DATA_KEY_ID", "2")
        monkeypatch.setenv("PUHUI_RETIRED_DATA_KEYS", "1:" + "o" * 32)
        monkeypatch.setenv("PUHUI_INDEX_KEY", "o" * 32)
        dry = runner.invoke(app, ["keys", "rotate", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "total: would re-encrypt 3, skipped 0" in dry.output
        first = runner.invoke(app, ["keys", "rotate", "--batch-size", "2"])
        assert first.exit_code == 0, first.output
        assert "current data key: 2" in first.output
        assert "total: re-encrypted 3, skipped 0" in first.output
        second = runner.invoke(app, ["keys", "rotate"])
        assert "total: re-encrypted 0, skipped 0" in second.output
        assert "security_users.phone_enc" in second.output
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT phone_enc FROM security_users")).scalars()
            assert {FieldCipher.key_id_of(v) for v in stored} == {"2"}
    finally:
        engine.dispose()


def test_the_demo_server_and_the_server_entry_refuse_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from puhui.bootstrap import Settings
    from puhui.domain.errors import ConfigurationError
    from puhui.web import server

    for name in (*REAL, "PUHUI_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", _env_file=None)  # type: ignore[call-arg]
    platform = SimpleNamespace(settings=settings)
    with pytest.raises(ConfigurationError, match="PUHUI_JWT_SECRET"):
        server.serve_demo(
            platform,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            host="0.0.0.0",
            port=8123,
            echo=lambda _: None,
        )
    with pytest.raises(ConfigurationError, match=r"host is 0\.0\.0\.0"):
        server.run(host="0.0.0.0", port=8123)
