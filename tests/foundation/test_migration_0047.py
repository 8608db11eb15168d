"""Migration 0047 lets a suspense item wait for its transfer to another loan to be approved;
the downgrade holds such items again and loses none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DataError, IntegrityError

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine

_RUN = "rcn_" + "0" * 26
_AT = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
_HELD = "sus_" + "1" * 26
_REFUND = "sus_" + "2" * 26
_COLUMNS = {
    "transfer_loan_id",
    "transfer_requested_by",
    "transfer_requested_at",
    "rejected_request",
    "rejected_reason",
    "rejected_by",
    "rejected_at",
}


def _seed(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO repayment_reconciliations (run_id, value_date, file_sha256, "
            "reconciled_by, reconciled_at, matched, matched_fen, ours_count, ours_fen, "
            "theirs_count, theirs_fen, breaks_count) VALUES (:run, :day, :sha, 'ops', :at, "
            "0, 0, 0, 0, 2, 20000, 2)"
        ),
        {"run": _RUN, "day": date(2026, 1, 1), "sha": "0" * 64, "at": _AT},
    )
    for n, (item, status) in enumerate(((_HELD, "held"), (_REFUND, "refund_requested"))):
        connection.execute(
            text(
                "INSERT INTO repayment_suspense (item_id, order_id, loan_id, amount_fen, "
                "value_date, channel_ref, run_id, status, held_on, held_by, held_at, reason, "
                "version) VALUES (:item, :order, 'loan-1', 10000, :day, 'REF', :run, :status, "
                ":on, 'ops', :at, :reason, 1)"
            ),
            {
                "item": item,
                "order": f"ORDER-{n}",
                "run": _RUN,
                "status": status,
                "day": date(2026, 1, 1),
                "on": date(2026, 1, 2),
                "at": _AT,
                "reason": None if status == "held" else "paid twice",
            },
        )


def _statuses(engine: Engine) -> dict[str, tuple[str, str | None, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT item_id, status, reason, version FROM repayment_suspense")
        )
        return {row.item_id: (row.status, row.reason, row.version) for row in rows}


def test_an_item_may_wait_for_its_transfer_and_is_held_again_on_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0046")
        with engine.begin() as connection:
            _seed(connection)
        migrate.upgrade(engine, "0047")
        columns = {c["name"] for c in inspect(engine).get_columns("repayment_suspense")}
        assert columns >= _COLUMNS
        before = {_HELD: ("held", None, 1), _REFUND: ("refund_requested", "paid twice", 1)}
        assert _statuses(engine) == before  # the items are untouched
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE repayment_suspense SET status = 'transfer_requested', reason = "
                    "'wrong loan', transfer_loan_id = 'loan-2', transfer_requested_by = 'ops', "
                    "transfer_requested_at = :at, version = 2 WHERE item_id = :item"
                ),
                {"item": _HELD, "at": _AT},
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE repayment_suspense SET status = 'moving'"))

        migrate.downgrade(engine, "0046")
        columns = {c["name"] for c in inspect(engine).get_columns("repayment_suspense")}
        assert not columns & _COLUMNS
        # The transfer is not made; the refund waiting for its approval still waits.
        assert _statuses(engine) == {**before, _HELD: ("held", None, 3)}
        # Refused by the check (SQLite) or already by the column's length (PostgreSQL).
        with pytest.raises((IntegrityError, DataError)), engine.begin() as connection:
            connection.execute(text("UPDATE repayment_suspense SET status = 'transfer_requested'"))
    finally:
        engine.dispose()
