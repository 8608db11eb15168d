"""Errors on the command line: one clear sentence and an exit code, the traceback on --debug.

Commands turn the errors they expect into :func:`puhui.cli.context.fail`; whatever escapes
them reaches :class:`PuhuiGroup`, the root command group, which says in one sentence what
went wrong: a platform rule (every :class:`PuhuiError`), a file that cannot be read or
written, a database that cannot be reached, a value that does not parse, or, for anything
else, that an unexpected error happened and ``--debug`` shows where. Output whose reader went
away (``| head``) is not an error: the command stops quietly.
"""

from __future__ import annotations

import os
import select
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from puhui.domain.errors import PuhuiError

EXIT_UNEXPECTED = 1
"""A defect (or an interruption): not the user's doing."""
EXIT_USAGE = 2
"""The user's input, files, settings or database: what they can fix (also every PuhuiError)."""
EXIT_READER_GONE = 141
"""What a shell reports for a tool stopped by SIGPIPE: the reader of the output went away
(``puhui decision show … | head``)."""
DEBUG_KEY = "puhui.debug"


@dataclass(frozen=True, slots=True)
class Explained:
    code: str
    message: str
    exit_code: int = EXIT_USAGE

    def line(self) -> str:
        return f"error [{self.code}]: {self.message}"


def debug_enabled() -> bool:
    """Whether ``puhui --debug`` was given (tracebacks wanted)."""
    # Typer keeps the context stack of the Click it ships (Click itself before 0.2x).
    try:
        from typer._click.globals import get_current_context  # noqa: PLC0415
    except ImportError:  # pragma: no cover - older Typer
        from click import get_current_context  # type: ignore[no-redef]  # noqa: PLC0415

    ctx = get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(DEBUG_KEY))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's or a driver's connection/operational errors (named, not imported here)."""
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".")[0]
        if module in {"sqlalchemy", "psycopg", "psycopg2", "sqlite3"} and cls.__name__ in {
            "OperationalError",
            "InterfaceError",
            "DatabaseError",
        }:
            return True
    return False


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    # SQLAlchemy prefixes the driver's class: "(sqlite3.OperationalError) unable to open ...".
    if line.startswith("(") and ") " in line:
        line = line.split(") ", 1)[1]
    return line.rstrip(".")


def _file_error(exc: OSError) -> Explained:
    if isinstance(exc, FileNotFoundError):
        return Explained("file_not_found", f"no such file or folder: {exc.filename}")
    if isinstance(exc, PermissionError):
        return Explained("permission_denied", f"not allowed to use {exc.filename}")
    if isinstance(exc, IsADirectoryError):
        return Explained("io_error", f"{exc.filename} is a folder, a file was expected")
    where = f" ({exc.filename})" if exc.filename else ""
    return Explained("io_error", f"{exc.strerror or exc}{where}")


def explain(exc: BaseException) -> Explained:
    """The one sentence (and exit code) for an error that escaped a command."""
    if isinstance(exc, PuhuiError):
        return Explained(exc.code, exc.message)
    for link in _chain(exc):
        if _is_database_error(link):
            orig: Any = getattr(link, "orig", None) or link
            return Explained(
                "database_unavailable",
                f"the database cannot be used: {_first_line(str(orig))} "
                "(check PUHUI_DATABASE_URL; a new database needs `puhui db upgrade`)",
            )
    if isinstance(exc, OSError):
        return _file_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return Explained("invalid_file", f"the file is not UTF-8 text ({exc.reason})")
    if isinstance(exc, ValueError):
        return Explained("invalid_input", _first_line(str(exc)) or type(exc).__name__)
    return Explained(
        "internal_error",
        f"unexpected {type(exc).__name__}: {_first_line(str(exc)) or 'no message'}; "
        "run again with --debug for the traceback",
        EXIT_UNEXPECTED,
    )


def _passes_through(exc: Exception) -> bool:
    """Exits, aborts and usage errors of the CLI framework: it reports those itself."""
    return isinstance(exc, typer.Exit | typer.Abort) or (
        hasattr(exc, "exit_code") and not isinstance(exc, PuhuiError)
    )


class PuhuiGroup(TyperGroup):
    """The root group: no traceback reaches the user unless ``--debug`` asked for it."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, BrokenPipeError) and _stdout_reader_gone():
                # Not an error of the command: the rest of its output has no reader. Quiet,
                # as other tools are; stdout goes to /dev/null so the flush at exit is too.
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, sys.stdout.fileno())
                os.close(null)
                raise typer.Exit(EXIT_READER_GONE) from None
            if _passes_through(exc) or ctx.meta.get(DEBUG_KEY):
                raise
            explained = explain(exc)
            typer.echo(explained.line(), err=True)
            raise typer.Exit(explained.exit_code) from None


def _stdout_reader_gone() -> bool:
    """True when stdout is a pipe whose reading end is closed (the write end polls as an
    error): a broken pipe elsewhere (a socket) is an error of the command and is reported."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):  # no file descriptor (a test's captured output)
        return False


def print_traceback_when_debugging() -> None:
    """On ``--debug``, the traceback of the exception being handled (if any), on stderr."""
    if debug_enabled() and sys.exc_info()[0] is not None:
        traceback.print_exc(file=sys.stderr)
