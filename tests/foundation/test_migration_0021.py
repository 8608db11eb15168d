"""Migration 0021 adds the prospect tables and takes them away again."""

from __future__ import annotations

from sqlalchemy import inspect

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine

TABLES = {
    "prospect_runs",
    "prospects",
    "prospect_events",
    "prospect_territories",
    "notification_outbox",
    "marketing_opt_outs",
}


def test_the_prospect_tables_come_with_the_upgrade_and_go_with_the_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0021")
        assert set(inspect(engine).get_table_names()) >= TABLES
        migrate.downgrade(engine, "0020")
        assert not set(inspect(engine).get_table_names()) & TABLES
        migrate.upgrade(engine, "0021")
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
