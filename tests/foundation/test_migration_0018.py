"""Migration 0018 adds the channel and branch of an application; earlier rows keep neither."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine


def test_channel_and_branch_are_added_empty_and_removed_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0017")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO origination_applications (application_id, application_no, "
                    "uscc, id_number_enc, id_number_index, phone_enc, phone_index, status, "
                    "created_at, updated_at, version) VALUES ('app_1', 'A1', "
                    "'91350100M000100Y43', 'x', 'x', 'x', 'x', 'created', :at, :at, 1)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        migrate.upgrade(engine, "0018")
        columns = {c["name"] for c in inspect(engine).get_columns("origination_applications")}
        assert {"channel", "branch_code"} <= columns
        indexes = {i["name"] for i in inspect(engine).get_indexes("origination_applications")}
        assert "ix_origination_applications_branch_code" in indexes
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT channel, branch_code FROM origination_applications")
            ).one()
        assert tuple(row) == (None, None)

        migrate.downgrade(engine, "0017")
        columns = {c["name"] for c in inspect(engine).get_columns("origination_applications")}
        assert not {"channel", "branch_code"} & columns
    finally:
        engine.dispose()
