"""``puhui serve`` builds the API from settings and hands it to uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from puhui.cli import serve as serve_cli
from puhui.web import server


def test_serve_passes_host_and_port_to_uvicorn(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"] = app
        seen.update(kwargs)

    monkeypatch.setattr(server.uvicorn, "run", fake_run)
    result = CliRunner().invoke(serve_cli.app, ["--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    with TestClient(seen["app"]) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}
        assert client.get("/api/v1/openapi.json").status_code == 200


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
