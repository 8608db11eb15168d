"""``puhui market`` refuses bad input with a clear message and writes a market."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.market import app

runner = CliRunner()
BASE = ["generate", "--months", "6", "--seed", "3", "--start", "2023-01"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--enterprises", "-5"], "--enterprises must be between 1"),
        (["--enterprises", "0"], "--enterprises must be between 1"),
        (["--enterprises", "10", "--start", "2023-13"], "YYYY-MM"),
        (["--enterprises", "10", "--start", "23-01"], "YYYY-MM"),
        (["--enterprises", "10", "--profile", "boom"], "unknown profile 'boom'"),
        (["--enterprises", "10", "--workers", "0"], "--workers must be between"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    args: list[str], message: str, tmp_path: Path
) -> None:
    base = BASE[:-2] if "--start" in args else BASE
    argv = [*base, "--out", str(tmp_path / "m"), *args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.output


def test_a_non_empty_out_folder_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "m"
    argv = [*BASE, "--enterprises", "40", "--out", str(out)]
    assert runner.invoke(app, argv).exit_code == 0
    again = runner.invoke(app, argv)
    assert again.exit_code == 2
    assert "--overwrite" in again.output
    assert runner.invoke(app, [*argv, "--overwrite"]).exit_code == 0


def test_overwrite_never_deletes_a_folder_that_is_not_a_market(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    result = runner.invoke(app, [*BASE, "--enterprises", "40", "--out", str(out), "--overwrite"])
    assert result.exit_code == 2
    assert "holds no market" in result.output
    assert (out / "thesis.txt").read_text() == "keep me"


def test_generate_then_report(tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = runner.invoke(app, [*BASE, "--enterprises", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "content hash" in result.output
    report = runner.invoke(app, ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert (out / "report" / "calibration.md").is_file()


def test_report_of_a_folder_without_market_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "no generated market" in result.output
