"""SQLite writers queue on one lock per database file, across engines and processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from puhui.adapters.db.origination.unit_of_work import SqliteWriterLock


def test_a_second_holder_of_the_same_file_waits_until_the_first_releases(tmp_path: Path) -> None:
    # Two locks on one path stand for two server processes: flock excludes separate opens.
    first = SqliteWriterLock(str(tmp_path / "puhui.db"))
    second = SqliteWriterLock(str(tmp_path / "puhui.db"))
    order: list[str] = []
    first.acquire()

    def contender() -> None:
        second.acquire()
        order.append("second")
        second.release()

    thread = threading.Thread(target=contender)
    thread.start()
    time.sleep(0.2)
    order.append("first releases")
    first.release()
    thread.join(timeout=5)
    assert order == ["first releases", "second"]
    assert (tmp_path / "puhui.db-writer.lock").exists()


def test_an_in_memory_database_needs_no_lock_file(tmp_path: Path) -> None:
    lock = SqliteWriterLock(None)
    lock.acquire()
    lock.release()
    assert list(tmp_path.iterdir()) == []
