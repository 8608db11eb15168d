"""The interest cycles a line's statement page offers."""

from __future__ import annotations

from datetime import date

from puhui.services.servicing.statements import statement_periods


def test_cycles_run_from_today_back_to_the_first_newest_first() -> None:
    # The 21st opens the next month's cycle (settlement on the 20th).
    assert statement_periods(date(2025, 1, 25), date(2025, 4, 21), settlement_day=20, limit=12) == [
        "2025-05",
        "2025-04",
        "2025-03",
        "2025-02",
    ]
    assert statement_periods(date(2025, 1, 20), date(2025, 1, 20), settlement_day=20, limit=12) == [
        "2025-01"
    ]


def test_at_most_the_limit_and_never_none() -> None:
    assert (
        len(statement_periods(date(2015, 1, 1), date(2025, 1, 1), settlement_day=20, limit=12))
        == 12
    )
    # A line dated after today still offers today's cycle.
    assert statement_periods(date(2025, 3, 1), date(2025, 2, 1), settlement_day=20, limit=12) == [
        "2025-02"
    ]
