"""End of day cannot start while a unit of work that found the day open is still running."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork

DAY = date(2026, 3, 2)


def test_end_of_day_waits_for_a_change_that_checked_the_day_was_open(
    uow_factory: Callable[[], ServicingUnitOfWork], eod_store: SqlEndOfDayStore
) -> None:
    # PostgreSQL: the business-day advisory lock; SQLite: BEGIN IMMEDIATE (one writer).
    started = threading.Event()

    def start_end_of_day() -> None:
        eod_store.start(DAY)
        started.set()

    with uow_factory() as uow:
        assert uow.business_days.last_closed() is None  # "the day is open": a reversal goes on
        closer = threading.Thread(target=start_end_of_day)
        closer.start()
        waited = not started.wait(timeout=1.0)
        uow.commit()
    closer.join(timeout=30)
    assert waited, "end of day started while a change that saw the day open was in flight"
    assert started.is_set()
    with uow_factory() as uow:
        assert uow.business_days.last_closed() == DAY
