"""Migration 0046 lets a suspense item wait for a refund's approval; the downgrade holds such
items again and loses none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DataError, IntegrityError

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine

_RUN = "rcn_" + "0" * 26
_ITEM = "sus_" + "1" * 26
_AT = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


def _seed(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO repayment_reconciliations (run_id, value_date, file_sha256, "
            "reconciled_by, reconciled_at, matched, matched_fen, ours_count, ours_fen, "
            "theirs_count, theirs_fen, breaks_count) VALUES (:run, :day, :sha, 'ops', :at, "
            "0, 0, 0, 0, 1, 10000, 1)"
        ),
        {"run": _RUN, "day": date(2026, 1, 1), "sha": "0" * 64, "at": _AT},
    )
    connection.execute(
        text(
            "INSERT INTO repayment_suspense (item_id, order_id, loan_id, amount_fen, value_date, "
            "channel_ref, run_id, status, held_on, held_by, held_at, version) VALUES (:item, "
            "'ORDER-1', 'loan-1', 10000, :day, 'REF-1', :run, 'held', :on, 'ops', :at, 1)"
        ),
        {"item": _ITEM, "run": _RUN, "day": date(2026, 1, 1), "on": date(2026, 1, 2), "at": _AT},
    )


def _status(engine: Engine) -> tuple[str, str | None, int]:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, reason, version FROM repayment_suspense WHERE item_id = :item"),
            {"item": _ITEM},
        ).one()
    return row.status, row.reason, row.version


def test_an_item_may_wait_for_its_refund_and_is_held_again_on_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0045")
        with engine.begin() as connection:
            _seed(connection)
        migrate.upgrade(engine, "0046")
        columns = {c["name"] for c in inspect(engine).get_columns("repayment_suspense")}
        assert {"refund_requested_by", "refund_requested_at", "posted_fen"} <= columns
        assert _status(engine) == ("held", None, 1)  # the item held before is untouched
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE repayment_suspense SET status = 'refund_requested', reason = 'paid "
                    "twice', refund_requested_by = 'ops', refund_requested_at = :at, "
                    "version = 2 WHERE item_id = :item"
                ),
                {"item": _ITEM, "at": _AT},
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE repayment_suspense SET status = 'waiting'"))

        migrate.downgrade(engine, "0045")
        columns = {c["name"] for c in inspect(engine).get_columns("repayment_suspense")}
        assert not columns & {"refund_requested_by", "refund_requested_at", "posted_fen"}
        assert _status(engine) == ("held", None, 3)
        # Refused by the check (SQLite) or already by the column's length (PostgreSQL).
        with pytest.raises((IntegrityError, DataError)), engine.begin() as connection:
            connection.execute(text("UPDATE repayment_suspense SET status = 'refund_requested'"))
    finally:
        engine.dispose()
