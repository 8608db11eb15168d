"""Logging set-up for entry points: text in development, JSON lines in production.

Every record passes through a filter that masks resident ID numbers and mobile numbers, so
that a careless ``logger.info("%s", applicant)`` cannot leak personal data.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from puhui.domain.privacy import mask_text


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes each record to ``sys.stderr`` as it is when the record is emitted.

    A plain ``StreamHandler(sys.stderr)`` keeps the stream it was given. When something
    swaps ``sys.stderr`` (a test runner capturing output, a CLI command run in-process) and
    later closes it, every record after that fails with "I/O operation on closed file", and
    logging prints a traceback for each one instead of the record. The standard library's own
    last-resort handler resolves the stream late for the same reason.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def _formatted(handler: logging.Handler, fmt: Literal["text", "json"]) -> logging.Handler:
    handler.addFilter(PersonalDataFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    return handler


def _install(handler: logging.Handler, level: str) -> None:
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration step at INFO, matplotlib every axis it guesses, httpx
    # every request with its full address (an SMS platform's query may hold a token);
    # operators need only their warnings.
    for chatty in ("alembic", "matplotlib", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.getLevelName(level), logging.WARNING))


def configure_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    _install(_formatted(CurrentStderrHandler(), fmt), level)


@contextmanager
def logging_to_file(
    path: Path, level: str = "INFO", fmt: Literal["text", "json"] = "text"
) -> Iterator[Path]:
    """Send every log record to ``path`` (created with its folder) instead of the terminal.

    Python warnings (a library's deprecation, a missing font glyph) go there too. On exit the
    file is closed and the handlers that were installed before come back.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    before, before_level = list(root.handlers), root.level
    handler = _formatted(logging.FileHandler(path, encoding="utf-8"), fmt)
    _install(handler, level)
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()
        for existing in before:
            root.addHandler(existing)
        root.setLevel(before_level)
