"""Collections refuse a promise with a grace beyond a month and a write-off reason too long
for its column, before anything is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from puhui.domain.clock import FixedClock
from puhui.domain.errors import InvalidInput
from puhui.services.collections import cases, write_offs


def _no_database() -> object:
    raise AssertionError("nothing may be read or stored for a refused request")


CLOCK = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize("grace", [-1, 31, 999])
def test_a_promise_grace_is_zero_to_thirty_days(grace: int) -> None:
    with pytest.raises(InvalidInput, match="grace days are 0 to 30"):
        cases.promise_to_pay(
            _no_database,  # type: ignore[arg-type]
            "case_1",
            amount_fen=10_000,
            promised_on=date(2026, 3, 9),
            grace_days=grace,
            actor="collector",
            idempotency_key="k-promise-0001",
            clock=CLOCK,
        )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 401])
def test_a_write_off_reason_fits_its_column(reason: str) -> None:
    with pytest.raises(InvalidInput, match="1 to 400 characters"):
        write_offs.propose(
            _no_database,  # type: ignore[arg-type]
            "rcpt_1",
            reason=reason,
            actor="collector",
            idempotency_key="k-writeoff-0001",
            clock=CLOCK,
        )
