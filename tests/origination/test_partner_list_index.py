"""A partner's page of its applications (with or without a status) is read by the index on
(partner_id, created_at) (migration 0038), on SQLite and PostgreSQL: newest first, only the
partner's, without sorting every application it ever brought or walking every partner's
applications of the status."""

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

INDEX = "ix_origination_applications_partner_id_created_at"


def test_a_partners_pages_are_its_own_newest_first_read_by_its_index(
    db: Wired,
    engine: Engine,
    query_plan: Callable[[Engine, str, Any], str],
    statements: Callable[[Engine], Any],
) -> None:
    partners = {
        name: Principal(f"apikey:{name}", Role.PARTNER, partner_id=name) for name in ("p1", "p2")
    }
    made: dict[str, list[str]] = {"p1": [], "p2": []}
    for n in range(6):
        name = "p1" if n % 3 else "p2"  # p2 brings the 1st and 4th
        application = uc.create_application(
            db.origination,
            actor=partners[name],
            request=uc.NewApplication(
                uscc=numbered_uscc(n),
                id_number=OWNER_ID,
                phone=f"1381234{n:04d}",
                requested_amount_fen=10_000_000,
            ),
        )
        made[name].append(application.application_id)
        db.clock.advance(timedelta(hours=1))
    # Two of p1's have their applicant's consent (the applicant gives it, not the partner).
    with engine.begin() as connection:
        connection.execute(
            update(applications)
            .where(applications.c.application_id.in_([made["p1"][1], made["p1"][3]]))
            .values(status=ApplicationStatus.CONSENTED.value)
        )

    with statements(engine) as captured:
        every = uc.list_applications(db.origination, actor=partners["p1"])
        consented = uc.list_applications(
            db.origination, actor=partners["p1"], status=ApplicationStatus.CONSENTED
        )
        second_page = uc.list_applications(db.origination, actor=partners["p1"], limit=2, offset=2)

    newest_first = list(reversed(made["p1"]))
    assert [a.application_id for a in every] == newest_first
    assert [a.application_id for a in consented] == [made["p1"][3], made["p1"][1]]
    assert [a.application_id for a in second_page] == newest_first[2:]
    pages = [
        (sql, p)
        for sql, p in captured
        if "FROM origination_applications" in sql and "partner_id =" in sql
    ]
    assert len(pages) == 3, [sql for sql, _ in captured]
    for sql, parameters in pages:
        plan = query_plan(engine, sql, parameters)
        assert INDEX in plan, plan


def test_the_partners_index_comes_with_the_upgrade_and_goes_with_the_downgrade(
    database_url: str, table_indexes: Callable[[Engine, str], set[str]]
) -> None:
    def partner_indexes() -> set[str]:
        return {n for n in table_indexes(engine, "origination_applications") if "partner" in n}

    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "heads")
        assert partner_indexes() == {INDEX}
        migrate.downgrade(engine, "0037")
        assert partner_indexes() == {"ix_origination_applications_partner_id"}
    finally:
        engine.dispose()
