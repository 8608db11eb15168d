"""``puhui prosperity build`` and ``show``: outputs, JSON, and bad input exiting 2 unwritten."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from puhui.cli.main import app

runner = CliRunner()


def test_build_writes_indices_report_and_chart_and_show_reads_a_cell(
    prosperity_market: Path, tmp_path: Path
) -> None:
    out = tmp_path / "index"
    built = runner.invoke(
        app,
        ["prosperity", "build", "--market", str(prosperity_market), "--out", str(out), "--json"],
    )
    assert built.exit_code == 0, built.output
    report = json.loads(built.stdout)
    assert report["min_cell"] == 10
    assert report["first_month"] == "2024-01-01"
    assert report["last_month"] == "2025-12-01"
    names = {p.name for p in out.iterdir()}
    assert {"indices.parquet", "indices.csv", "report.json", "prosperity.png"} <= names
    assert (out / "prosperity.png").read_bytes()[:4] == b"\x89PNG"

    shown = runner.invoke(
        app, ["prosperity", "show", "--index", str(out), "--industry", "manufacturing", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert len(rows) == 24
    assert {r["cell"] for r in rows} == {"manufacturing"}
    assert all(r["index"] is not None and not r["suppressed"] for r in rows)


def test_show_marks_suppressed_months_without_an_index(
    prosperity_market: Path, tmp_path: Path
) -> None:
    out = tmp_path / "index"
    args = ["prosperity", "build", "--market", str(prosperity_market), "--out", str(out)]
    assert runner.invoke(app, [*args, "--min-cell", "1000"]).exit_code == 0
    shown = runner.invoke(app, ["prosperity", "show", "--index", str(out), "--json"])
    rows = json.loads(shown.stdout)
    assert rows
    assert all(r["suppressed"] and r["index"] is None for r in rows)
    text = runner.invoke(app, ["prosperity", "show", "--index", str(out)])
    assert "suppressed" in text.stdout


def test_bad_input_exits_2_and_writes_nothing(prosperity_market: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    cases = [
        (["--market", str(tmp_path / "missing")], "market_not_found"),
        (["--market", str(prosperity_market), "--from", "2030-01"], "no_prosperity_data"),
        (["--market", str(prosperity_market), "--to", "2023-12"], "no_prosperity_data"),
        (["--market", str(prosperity_market), "--min-cell", "0"], "invalid_min_cell"),
    ]
    for args, code in cases:
        result = runner.invoke(app, ["prosperity", "build", *args, "--out", str(out)])
        assert result.exit_code == 2, (args, result.output)
        assert f"error [{code}]" in result.stderr
        assert not out.exists()


def test_show_of_a_missing_index_or_unknown_cell_exits_2(
    prosperity_market: Path, tmp_path: Path
) -> None:
    missing = runner.invoke(app, ["prosperity", "show", "--index", str(tmp_path / "none")])
    assert missing.exit_code == 2
    out = tmp_path / "index"
    runner.invoke(
        app, ["prosperity", "build", "--market", str(prosperity_market), "--out", str(out)]
    )
    unknown = runner.invoke(app, ["prosperity", "show", "--index", str(out), "--region", "999999"])
    assert unknown.exit_code == 2
    assert "prosperity_index_not_found" in unknown.stderr
