"""Migration 0044 adds the recorded repayment reconciliations; the downgrade removes them."""

from __future__ import annotations

from sqlalchemy import inspect

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine

TABLES = {"repayment_reconciliations", "repayment_reconciliation_breaks"}


def test_reconciliation_tables_are_added_and_removed_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0043")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(engine, "0044")
        found = inspect(engine)
        assert set(found.get_table_names()) >= TABLES
        indexes = {i["name"] for i in found.get_indexes("repayment_reconciliations")}
        assert "ix_repayment_reconciliations_value_date" in indexes
        (key,) = found.get_foreign_keys("repayment_reconciliation_breaks")
        assert key["referred_table"] == "repayment_reconciliations"
        migrate.downgrade(engine, "0043")
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
