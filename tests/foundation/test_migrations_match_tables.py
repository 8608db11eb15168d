"""The migrations build exactly the schema the code's table definitions describe."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import puhui.adapters.db.collections.tables
import puhui.adapters.db.features.tables
import puhui.adapters.db.guarantees.tables
import puhui.adapters.db.loan_changes.tables
import puhui.adapters.db.origination.tables
import puhui.adapters.db.outbox
import puhui.adapters.db.partners.tables
import puhui.adapters.db.post_loan.tables
import puhui.adapters.db.prospects.tables
import puhui.adapters.db.servicing.tables
import puhui.adapters.db.strategies.tables
import puhui.adapters.db.supply_chain.tables  # noqa: F401 - registers its tables on the metadata
from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.tables import metadata

EXPRESSION_INDEXES = {"ix_service_requests_receipt_id"}


def _not_expression_index(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_upgrading_to_head_gives_the_tables_the_code_declares(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection, warnings.catch_warnings():
            # The expression index on the request log's receipt id is written per dialect by
            # migration 0008 (SQLite cannot reflect it, PostgreSQL reflects it as foreign to
            # the metadata); tests/statements/test_statement_indexes.py checks that it is used.
            warnings.simplefilter("ignore")
            context = MigrationContext.configure(
                connection, opts={"include_object": _not_expression_index}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
