"""Shared plumbing of CLI commands: settings, logging, the platform, error exits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.logging import configure_logging
from puhui.cli.errors import EXIT_USAGE, print_traceback_when_debugging
from puhui.domain.errors import PuhuiError

__all__ = ["EXIT_USAGE", "echo_err", "fail", "load_settings", "platform"]


def fail(message: str, *, code: str = "error", exit_code: int = EXIT_USAGE) -> typer.Exit:
    """Say what went wrong in one line on stderr; the caller raises the returned exit.

    Called while handling an exception and with ``puhui --debug``, its traceback comes first.
    """
    print_traceback_when_debugging()
    typer.echo(f"error [{code}]: {message}", err=True)
    return typer.Exit(exit_code)


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PUHUI_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise fail(f"invalid settings: {problems}", code="configuration_error") from None
    configure_logging(settings.log_level, settings.effective_log_format)
    return settings


@contextmanager
def platform() -> Iterator[Platform]:
    """Build the platform for one command; turn platform errors into a clear exit."""
    settings = load_settings()
    built = None
    try:
        built = build_platform(settings)
        yield built
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    finally:
        if built is not None:
            built.close()


def echo_err(message: str) -> None:
    print(message, file=sys.stderr)
