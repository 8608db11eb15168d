"""The command line as people use it: progress only on a terminal, one-sentence errors."""

from __future__ import annotations

import inspect
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from puhui.cli import progress as cli_progress
from puhui.cli.errors import EXIT_READER_GONE, EXIT_UNEXPECTED, EXIT_USAGE, explain
from puhui.cli.main import app
from puhui.cli.progress import TerminalProgress, progress_bar, terminal_bars
from puhui.domain.errors import InvalidDate
from puhui.domain.progress import NO_PROGRESS

runner = CliRunner()
BAR_GLYPHS = ("━", "\r", "\x1b[")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'puhui.db'}"
    monkeypatch.setenv("PUHUI_DATABASE_URL", url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    return url


# --- progress ----------------------------------------------------------------------------


def test_no_progress_is_drawn_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bar() as progress:
        assert progress is NO_PROGRESS


def test_no_progress_is_drawn_for_json_output_even_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    with progress_bar(as_json=True) as progress:
        assert progress is NO_PROGRESS
    assert cli_progress.draws_progress() is True


def test_terminal_progress_shows_the_task_its_stage_the_count_and_the_time_left() -> None:
    screen = io.StringIO()
    bars = terminal_bars(Console(file=screen, force_terminal=True, width=120))
    with bars:
        drawn = TerminalProgress(bars)
        drawn.start(10, "lending, day by day")
        drawn.stage("2025-01-03")
        drawn.advance(3)
        bars.refresh()
        running = screen.getvalue()
        drawn.start(None, "charts")
        drawn.close()
    assert "lending, day by day: 2025-01-03" in running
    assert "3/10" in running
    assert "eta" in running
    finished = bars.tasks[0]
    assert finished.completed == finished.total == 10
    assert finished.description == "lending, day by day"


def test_market_generation_piped_prints_no_progress_bar(tmp_path: Path) -> None:
    out = tmp_path / "market"
    argv = ["market", "generate", "--enterprises", "40", "--months", "3"]
    argv += ["--start", "2023-01", "--seed", "3", "--out", str(out), "--chunk-size", "10"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "written to" in result.stdout
    assert not any(glyph in result.output for glyph in BAR_GLYPHS)


def test_end_of_day_json_stays_pure_json(sqlite_env: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["eod", "run", "--as-of", "2024-01-01", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["as_of"] == "2024-01-01"
    assert not any(glyph in result.output for glyph in BAR_GLYPHS)


# --- errors ------------------------------------------------------------------------------


def test_an_unreachable_database_is_one_sentence_and_exit_2(sqlite_env: str) -> None:
    # The database file exists but was never migrated: `puhui db upgrade` is the fix.
    result = runner.invoke(app, ["eod", "run", "--as-of", "2024-01-01"])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith("error [database_unavailable]: the database cannot be used")
    assert "puhui db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_bad_date_is_one_sentence_and_debug_adds_the_traceback(sqlite_env: str) -> None:
    plain = runner.invoke(app, ["eod", "run", "--as-of", "2024-13-01"])
    assert plain.exit_code == EXIT_USAGE
    assert plain.stderr.strip() == "error [invalid_date]: not a date (YYYY-MM-DD): '2024-13-01'"
    debugged = runner.invoke(app, ["--debug", "eod", "run", "--as-of", "2024-13-01"])
    assert debugged.exit_code == EXIT_USAGE
    assert "Traceback (most recent call last)" in debugged.stderr
    assert "ValueError" in debugged.stderr
    assert debugged.stderr.strip().endswith("not a date (YYYY-MM-DD): '2024-13-01'")


def test_an_unexpected_error_names_itself_and_points_to_debug(
    sqlite_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk is haunted")

    monkeypatch.setattr("puhui.cli.eod.run_end_of_day", broken)
    result = runner.invoke(app, ["eod", "run", "--as-of", "2024-01-01"])
    assert result.exit_code == EXIT_UNEXPECTED
    assert result.stderr.strip() == (
        "error [internal_error]: unexpected RuntimeError: the disk is haunted; "
        "run again with --debug for the traceback"
    )


def test_debug_shows_the_traceback_of_an_escaped_error(tmp_path: Path) -> None:
    """A real process: the interpreter prints the traceback the group lets through.

    (Without ``--debug`` the same error is one sentence: see the test above.)
    """
    env = {
        **os.environ,
        "PUHUI_DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}",
        "PUHUI_ENVIRONMENT": "test",
    }
    command = [sys.executable, "-c", "from puhui.cli.main import main; main()"]
    argv = ["eod", "run", "--as-of", "2024-01-01"]
    loud = subprocess.run(
        [*command, "--debug", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loud.returncode != 0
    assert "Traceback (most recent call last)" in loud.stderr
    assert "OperationalError" in loud.stderr


def test_output_whose_reader_went_away_stops_quietly() -> None:
    """``puhui … | head``: the reader closes the pipe before the output is written. The
    command stops with the shell's code for SIGPIPE and says nothing (no "error [io_error]",
    no "Exception ignored" from the interpreter's last flush)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes its first line
    argv = ["loan", "schedule", "--principal", "100000", "--annual-rate", "0.0435"]
    argv += ["--months", "360", "--method", "equal-instalment", "--start", "2026-01-01"]
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from puhui.cli.main import main; main()", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_READER_GONE
    assert done.stderr == ""


def test_a_broken_pipe_that_is_not_the_output_is_reported(
    sqlite_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(*_args: object, **_kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # a socket, say: stdout is fine

    monkeypatch.setattr("puhui.cli.eod.run_end_of_day", lost)
    result = runner.invoke(app, ["eod", "run", "--as-of", "2024-01-01"])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.strip() == "error [io_error]: Broken pipe"


def test_explanations_of_common_errors() -> None:
    assert explain(InvalidDate("2024-02-30 is not a date")).line() == (
        "error [invalid_date]: 2024-02-30 is not a date"
    )
    missing = explain(FileNotFoundError(2, "No such file or directory", "strategy.yaml"))
    assert missing.line() == "error [file_not_found]: no such file or folder: strategy.yaml"
    assert missing.exit_code == EXIT_USAGE
    assert explain(PermissionError(13, "Permission denied", "/etc/shadow")).code == (
        "permission_denied"
    )
    assert explain(ValueError("Invalid isoformat string: 'x'")).code == "invalid_input"
    assert explain(KeyError("x")).exit_code == EXIT_UNEXPECTED


def _commands(group: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """Every command under ``group`` with its full name (Typer builds on its own click; the
    root loads each sub-command's module when asked for it)."""
    if not hasattr(group, "list_commands"):
        return
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        yield " ".join((*path, name)), command
        yield from _commands(command, (*path, name))


def test_the_root_lists_its_commands_without_importing_them_and_each_summary_is_its_own() -> None:
    # `puhui --help` shows each sub-command's summary without importing its module (they
    # import the platform); the summary kept in main.py is the module's own first line.
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from puhui.cli.main import app\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('puhui.cli.', 'puhui.bootstrap'))))"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert loaded.strip() == "['puhui.cli.errors', 'puhui.cli.main']"
    root = typer.main.get_command(app)
    names = root.list_commands(None)  # type: ignore[attr-defined]
    assert names[:3] == ["demo", "qr", "version"]
    assert len(names) == len(set(names)) == 33
    for name in names:
        command = root.get_command(None, name)  # type: ignore[attr-defined]
        summary = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert summary.replace("\n", " ") in " ".join(listing.output.split()), name
    assert root.get_command(None, "no-such-command") is None  # type: ignore[attr-defined]
    unknown = runner.invoke(app, ["lon", "schedule"])
    assert unknown.exit_code == EXIT_USAGE
    assert "No such command 'lon'" in unknown.output


def test_every_command_lists_with_a_one_line_summary() -> None:
    # A group's list of commands shows each command's first paragraph with its line breaks
    # kept (Typer's rich mode): a summary over two source lines showed broken mid-sentence.
    root = typer.main.get_command(app)
    listed = list(_commands(root, ("puhui",)))
    assert len(listed) > 100
    broken = [
        name
        for name, command in listed
        if "\n" in inspect.cleandoc(command.help or "").split("\n\n")[0]
    ]
    assert broken == []


def test_a_long_summary_lists_unbroken_and_its_detail_stays_in_the_command_help() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["report", "--help"], terminal_width=200)
    assert listed.exit_code == 0
    assert "Rebuild a date's aggregates, replacing them atomically." in listed.output
    assert "The end of day builds them" not in listed.output
    own = runner.invoke(app, ["report", "refresh", "--help"], terminal_width=200)
    assert "The end of day builds them each night." in own.output
