"""Migration 0045 adds the repayments held in suspense; the downgrade removes them."""

from __future__ import annotations

from sqlalchemy import inspect

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine


def test_the_suspense_table_is_added_and_removed_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0044")
        assert "repayment_suspense" not in inspect(engine).get_table_names()
        migrate.upgrade(engine, "0045")
        found = inspect(engine)
        assert "repayment_suspense" in found.get_table_names()
        indexes = {i["name"] for i in found.get_indexes("repayment_suspense")}
        assert {"ix_repayment_suspense_value_date", "ix_repayment_suspense_status"} <= indexes
        unique = {
            tuple(u["column_names"]) for u in found.get_unique_constraints("repayment_suspense")
        }
        assert {("order_id",), ("repayment_key",)} <= unique
        (key,) = found.get_foreign_keys("repayment_suspense")
        assert key["referred_table"] == "repayment_reconciliations"
        migrate.downgrade(engine, "0044")
        assert "repayment_suspense" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
