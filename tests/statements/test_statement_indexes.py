"""Migrations 0008 and 0035 and the statement's lookups by receipt: both are index probes."""

from __future__ import annotations

from datetime import date
from typing import Any

from alembic import command
from sqlalchemy import Engine, event, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.repositories import SqlLedger, _json_text
from puhui.adapters.db.servicing.tables import service_requests

STATEMENT_INDEXES = {("service_requests", "ix_service_requests_receipt_id")}


def _indexes(engine: Engine) -> set[tuple[str, str]]:
    # Read from the catalogue: SQLAlchemy's reflection skips expression indexes on SQLite.
    catalogue = (
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
    )
    with engine.connect() as connection:
        return {(str(t), str(n)) for t, n in connection.execute(text(catalogue))}


def test_statement_indexes_come_with_the_upgrade_and_go_with_the_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        assert _indexes(engine) >= STATEMENT_INDEXES
        config = migrate._config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
            connection.commit()
        assert not STATEMENT_INDEXES & _indexes(engine)
    finally:
        engine.dispose()


def test_the_receipt_lookup_of_the_request_log_uses_its_expression_index(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                # An empty table is cheapest to scan: ask whether the index *can* serve.
                connection.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
            receipt = _json_text(connection, service_requests.c.result_json, "receipt_id")
            operations = ["repay", "draw"]
            for query in (
                service_requests.select().where(receipt.in_(["rcpt_a"])),
                service_requests.select().where(receipt.in_(["rcpt_a", "rcpt_b"])),
                # As ``SqlLedger.receipt_events`` asks it.
                service_requests.select()
                .where(service_requests.c.operation.in_(operations))
                .where(receipt.in_(["rcpt_a", "rcpt_b"])),
            ):
                sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
                plan = " ".join(str(row) for row in connection.execute(text(f"{explain} {sql}")))
                assert "ix_service_requests_receipt_id" in plan, plan
    finally:
        engine.dispose()


def test_requests_that_name_no_receipt_stay_out_of_the_receipt_index(database_url: str) -> None:
    """Migration 0035: the index is partial, so a voucher's request writes no entry in it."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        index = "ix_service_requests_receipt_id"
        catalogue = (
            f"SELECT sql FROM sqlite_master WHERE name = '{index}'"
            if engine.dialect.name == "sqlite"
            else f"SELECT indexdef FROM pg_indexes WHERE indexname = '{index}'"
        )
        with engine.connect() as connection:
            definition = str(connection.execute(text(catalogue)).scalar_one())
            assert "WHERE" in definition.upper()
            assert "IS NOT NULL" in definition.upper()
            config = migrate._config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0034")
            connection.commit()
            restored = str(connection.execute(text(catalogue)).scalar_one())
        assert "WHERE" not in restored.upper()
    finally:
        engine.dispose()


def test_a_receipts_accruals_are_probed_day_by_day_on_the_primary_key(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        migrate.upgrade(engine, "heads")
        with engine.connect() as connection:
            statements: list[str] = []
            event.listen(connection, "before_cursor_execute", _capture(statements))
            SqlLedger(connection, clock=None).receipt_accruals(  # type: ignore[arg-type]
                ["rcpt_a", "rcpt_b"],
                since=date(2026, 1, 1),
                daily_from=date(2026, 1, 21),
                through=date(2026, 2, 20),
            )
            queries = [s for s in statements if "accrual_entries" in s[0]]
            assert len(queries) == 2  # the carried sums, then the period's days
            plans = [
                " ".join(
                    str(row)
                    for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
                )
                for sql, parameters in queries
            ]
        for plan in plans:
            assert "SEARCH accrual_entries USING" in plan
            assert "(as_of=? AND loan_id=?" in plan, plan  # the primary key, probed
    finally:
        engine.dispose()


def _capture(into: list[Any]) -> Any:
    def hook(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        into.append((statement, parameters))

    return hook
