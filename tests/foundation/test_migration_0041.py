"""Migration 0041: the decision's record and the assessment are compressed with LZ4 on
PostgreSQL, values written before stay readable, and the downgrade restores the default."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine

COLUMNS = {
    ("origination_decisions", "record_json"),
    ("origination_applications", "assessment_json"),
}


def compression(connection: Connection) -> dict[tuple[str, str], str]:
    rows = connection.execute(
        text(
            "SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relname IN ('origination_decisions', 'origination_applications') "
            "AND a.attname IN ('record_json', 'assessment_json')"
        )
    ).all()
    return {(str(table), str(column)): str(method) for table, column, method in rows}


def insert_decision(connection: Connection, application_id: str, record_json: str) -> None:
    connection.execute(
        text(
            "INSERT INTO origination_decisions (application_id, decided_at, as_of, "
            "strategy_name, strategy_version, arm, outcome, feature_source, record_json) "
            "VALUES (:a, now(), current_date, 'standard', 1, 'champion', 'offered', "
            "'store', :r)"
        ),
        {"a": application_id, "r": record_json},
    )


@pytest.mark.postgres
def test_decision_records_are_compressed_with_lz4_and_old_ones_stay_readable(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    before = '{"inputs": [' + ", ".join(f'{{"feature_{n}": {n / 7:.12f}}}' for n in range(400))
    after = before.replace("feature", "characteristic")
    try:
        migrate.upgrade(engine, "0040")
        with engine.begin() as connection:
            assert set(compression(connection).values()) == {""}  # the server's default
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # no FKs
            insert_decision(connection, "APP-BEFORE", before)
        migrate.upgrade(engine, "0041")
        with engine.begin() as connection:
            assert compression(connection) == dict.fromkeys(COLUMNS, "l")
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            insert_decision(connection, "APP-AFTER", after)
            stored = dict(
                connection.execute(
                    text(
                        "SELECT application_id, pg_column_compression(record_json) "
                        "FROM origination_decisions"
                    )
                ).all()
            )
            assert stored == {"APP-BEFORE": "pglz", "APP-AFTER": "lz4"}
            read = dict(
                connection.execute(
                    text("SELECT application_id, record_json FROM origination_decisions")
                ).all()
            )
            assert read == {"APP-BEFORE": before, "APP-AFTER": after}
        migrate.downgrade(engine, "0040")
        with engine.connect() as connection:
            assert set(compression(connection).values()) == {""}
            assert (
                connection.execute(
                    text(
                        "SELECT record_json FROM origination_decisions "
                        "WHERE application_id = 'APP-AFTER'"
                    )
                ).scalar_one()
                == after
            )
    finally:
        engine.dispose()


def test_the_upgrade_leaves_sqlite_as_it_was(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        migrate.upgrade(engine, "0040")
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT sql FROM sqlite_master ORDER BY name")).all()
        migrate.upgrade(engine, "0041")
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT sql FROM sqlite_master ORDER BY name")).all()
                == schema
            )
        migrate.downgrade(engine, "0040")
    finally:
        engine.dispose()
