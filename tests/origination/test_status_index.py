"""Applications are read by status through the index on (status, created_at) alone
(migration 0039 dropped the status's own index, which only cost writes), on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from alembic import command
from origination_fakes import OWNER_ID
from origination_wiring import Wired
from sqlalchemy import Engine, event, text, update

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination.tables import applications
from puhui.domain.identity import uscc_check_char
from puhui.domain.origination.application import ApplicationStatus
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Principal, Role

INDEX = "ix_origination_applications_status_created_at"
DROPPED = "ix_origination_applications_status"


def _uscc(n: int) -> str:
    first17 = f"91350100M{n:08d}"
    return first17 + uscc_check_char(first17)


def test_a_status_queue_is_newest_first_and_read_by_the_status_and_time_index(
    db: Wired, engine: Engine, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    manager = Principal("usr_manager", Role.ACCOUNT_MANAGER)
    made = []
    for n in range(5):
        application = uc.create_application(
            db.origination,
            actor=manager,
            request=uc.NewApplication(
                uscc=_uscc(n),
                id_number=OWNER_ID,
                phone=f"1391234{n:04d}",
                requested_amount_fen=10_000_000,
            ),
        )
        made.append(application.application_id)
        db.clock.advance(timedelta(hours=1))
    with engine.begin() as connection:
        connection.execute(
            update(applications)
            .where(applications.c.application_id.in_([made[0], made[2], made[3]]))
            .values(status=ApplicationStatus.CONSENTED.value)
        )

    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    reader = Principal("usr_risk", Role.RISK_OFFICER)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        consented = uc.list_applications(
            db.origination, actor=reader, status=ApplicationStatus.CONSENTED
        )
        created = uc.list_applications(
            db.origination, actor=reader, status=ApplicationStatus.CREATED
        )
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    assert [a.application_id for a in consented] == [made[3], made[2], made[0]]
    assert [a.application_id for a in created] == [made[4], made[1]]
    pages = [
        (sql, p)
        for sql, p in statements
        if "FROM origination_applications" in sql and "status =" in sql
    ]
    assert len(pages) == 2, [sql for sql, _ in statements]
    for sql, parameters in pages:
        plan = query_plan(engine, sql, parameters)
        assert INDEX in plan, plan


def test_the_status_index_goes_with_the_upgrade_and_comes_back_with_the_downgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        assert _status_indexes(engine) == {INDEX}
        with engine.connect() as connection:
            config = migrate._config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0038")
            connection.commit()
        assert _status_indexes(engine) == {INDEX, DROPPED}
    finally:
        engine.dispose()


def _status_indexes(engine: Engine) -> set[str]:
    catalogue = (
        "SELECT name FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'origination_applications'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'origination_applications'"
    )
    with engine.connect() as connection:
        names = connection.execute(text(catalogue)).scalars()
        return {name for name in names if name.startswith(DROPPED)}
