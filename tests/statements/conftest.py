"""Fixtures of the statement tests: servicing on a migrated database, a product and a line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helper next to this file is a plain module, not a package.
sys.path.insert(0, str(Path(__file__).parent))

from statement_book import Book, open_book


@pytest.fixture
def book(database_url: str) -> Iterator[Book]:
    built = open_book(database_url)
    try:
        yield built
    finally:
        built.engine.dispose()
