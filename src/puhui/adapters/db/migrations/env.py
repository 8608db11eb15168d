"""Alembic environment: runs migrations on the connection the platform hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from puhui.adapters.db import outbox as _outbox  # noqa: F401

# Every table module registers on the shared metadata; import them all so that Alembic's
# comparison sees the whole schema.
from puhui.adapters.db.collections import tables as _collection_tables  # noqa: F401
from puhui.adapters.db.features import tables as _feature_tables  # noqa: F401
from puhui.adapters.db.guarantees import tables as _guarantee_tables  # noqa: F401
from puhui.adapters.db.loan_changes import tables as _loan_change_tables  # noqa: F401
from puhui.adapters.db.origination import tables as _origination_tables  # noqa: F401
from puhui.adapters.db.partners import tables as _partner_tables  # noqa: F401
from puhui.adapters.db.post_loan import tables as _post_loan_tables  # noqa: F401
from puhui.adapters.db.prospects import tables as _prospect_tables  # noqa: F401
from puhui.adapters.db.reporting import tables as _reporting_tables  # noqa: F401
from puhui.adapters.db.servicing import tables as _servicing_tables  # noqa: F401
from puhui.adapters.db.strategies import tables as _strategy_tables  # noqa: F401
from puhui.adapters.db.supply_chain import tables as _supply_chain_tables  # noqa: F401
from puhui.adapters.db.tables import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through `puhui db upgrade`, which supplies the connection"
        )
    run_migrations(connection)


_main()
