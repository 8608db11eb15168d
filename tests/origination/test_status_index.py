"""Applications are read by status through the index on (status, created_at) alone
(migration 0039 dropped the status's own index, which only cost writes), on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from origination_fakes import OWNER_ID, numbered_uscc
from origination_wiring import Wired
from sqlalchemy import Engine, update

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination.tables import applications
from puhui.domain.origination.application import ApplicationStatus
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Principal, Role

INDEX = "ix_origination_applications_status_created_at"
DROPPED = "ix_origination_applications_status"


def test_a_status_queue_is_newest_first_and_read_by_the_status_and_time_index(
    db: Wired,
    engine: Engine,
    query_plan: Callable[[Engine, str, Any], str],
    statements: Callable[[Engine], Any],
) -> None:
    manager = Principal("usr_manager", Role.ACCOUNT_MANAGER)
    made = []
    for n in range(5):
        application = uc.create_application(
            db.origination,
            actor=manager,
            request=uc.NewApplication(
                uscc=numbered_uscc(n),
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

    reader = Principal("usr_risk", Role.RISK_OFFICER)
    with statements(engine) as captured:
        consented = uc.list_applications(
            db.origination, actor=reader, status=ApplicationStatus.CONSENTED
        )
        created = uc.list_applications(
            db.origination, actor=reader, status=ApplicationStatus.CREATED
        )

    assert [a.application_id for a in consented] == [made[3], made[2], made[0]]
    assert [a.application_id for a in created] == [made[4], made[1]]
    pages = [
        (sql, p)
        for sql, p in captured
        if "FROM origination_applications" in sql and "status =" in sql
    ]
    assert len(pages) == 2, [sql for sql, _ in captured]
    for sql, parameters in pages:
        plan = query_plan(engine, sql, parameters)
        assert INDEX in plan, plan


def test_the_status_index_goes_with_the_upgrade_and_comes_back_with_the_downgrade(
    database_url: str, table_indexes: Callable[[Engine, str], set[str]]
) -> None:
    def status_indexes() -> set[str]:
        names = table_indexes(engine, "origination_applications")
        return {n for n in names if n.startswith(DROPPED)}

    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        assert status_indexes() == {INDEX}
        migrate.downgrade(engine, "0038")
        assert status_indexes() == {INDEX, DROPPED}
    finally:
        engine.dispose()
