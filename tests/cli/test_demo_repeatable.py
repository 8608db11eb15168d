"""Two runs of the demo on the same market give the same book: a bank replaying the demo, and
the monitoring backtests that read it, see the same applications, loans, repayments and
partner arrangements every time. Only what must differ may differ: elapsed times, the random
ids of the registry's model, the log and work paths, and the federated exchange's fresh keys
and port."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.main import app

runner = CliRunner()

_VARYING = (
    (re.compile(r"\d+(\.\d+)? ?s\b"), "<seconds>"),
    (re.compile(r"\b[a-z]+_[0-9A-HJKMNP-TV-Z]{26}\b"), "<id>"),
    (re.compile(r"demo-\d{8}-\d{6}\.log"), "<log>"),
    (re.compile(r"https://127\.0\.0\.1:\d+"), "<owner node>"),
    (re.compile(r"[\d,]+ bytes exchanged"), "<bytes> exchanged"),
)


def _run(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("PUHUI_DATABASE_URL", f"sqlite:///{home / 'puhui.db'}")
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_MODEL_REGISTRY_DIR", str(home / "models"))
    result = runner.invoke(
        app,
        [
            "demo",
            "--enterprises",
            "3000",
            "--months",
            "4",
            "--workdir",
            str(home / "work"),
            "--no-serve",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = []
    for printed in result.stdout.replace(str(home), "<home>").splitlines():
        line = printed
        for pattern, placeholder in _VARYING:
            line = pattern.sub(placeholder, line)
        lines.append(line)
    return lines


def test_two_runs_of_a_market_lend_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(tmp_path, "first", monkeypatch)
    second = _run(tmp_path, "second", monkeypatch)
    # What the comparison covers: the book, the partners, the trial balance.
    shown = "\n".join(first)
    for section in ("== Portfolio", "joint-lending partner", "renewals offered", "trial balance"):
        assert section in shown
    differing = [(a, b) for a, b in zip(first, second, strict=True) if a != b]
    assert differing == []
