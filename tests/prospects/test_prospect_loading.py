"""Loading runs on the database: all or nothing, re-runs keep the work, assignment by region."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prospect_support import META, MONTH, managers, row, uscc
from sqlalchemy import func, select

from puhui.adapters.db.prospects.tables import prospect_runs, prospects
from puhui.adapters.db.prospects.unit_of_work import ProspectsUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.errors import InvalidInput
from puhui.domain.prospects import ProspectStatus, penetration
from puhui.services.prospects import loading, queue
from puhui.services.prospects.ports import ProspectQuery
from puhui.services.security.permissions import SYSTEM, Principal, Role

SUPERVISOR = Principal(user_id="usr_lead", role=Role.SUPERVISOR)


def _count(platform: Platform, table: object) -> int:
    with platform.database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _by_uscc(platform: Platform) -> dict[str, object]:
    found = queue.list_prospects(
        platform.prospect_access(), actor=SUPERVISOR, query=ProspectQuery(month=MONTH, limit=200)
    )
    return {r.row.uscc: r for r in found}


def test_a_run_with_a_bad_row_loads_nothing_and_names_every_problem(platform: Platform) -> None:
    rows = [row(0), row(1), row(1), row(2, month=MONTH.replace(month=1))]
    with pytest.raises(InvalidInput) as caught:
        loading.load_run(
            platform.prospect_access(), actor=SYSTEM, month=MONTH, rows=rows, meta=META
        )
    assert caught.value.details["bad_rows"] == 2
    assert "listed twice" in caught.value.message
    assert "2026-01" in caught.value.message
    assert _count(platform, prospects) == 0
    assert _count(platform, prospect_runs) == 0


def test_a_load_that_fails_in_the_database_leaves_the_previous_list(platform: Platform) -> None:
    access = platform.prospect_access()
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)

    def dying() -> ProspectsUnitOfWork:
        """The real unit of work, whose process dies after writing, before committing."""
        uow = platform.prospects_uow()

        def crash() -> None:
            raise RuntimeError("the batch was killed")

        uow.commit = crash  # type: ignore[method-assign]
        return uow

    with pytest.raises(RuntimeError, match="killed"):
        loading.load_run(
            replace(access, units=dying), actor=SYSTEM, month=MONTH, rows=[row(2)], meta=META
        )
    assert sorted(_by_uscc(platform)) == [uscc(0), uscc(1)]
    assert _count(platform, prospect_runs) == 1


def test_a_rerun_keeps_the_work_done_and_expires_what_it_drops(platform: Platform) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    first = loading.load_run(
        access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1), row(2)], meta=META
    )
    assert (first.rows_new, first.rows_kept, first.rows_expired) == (3, 0, 0)
    before = _by_uscc(platform)
    worked = before[uscc(0)]
    queue.move_prospect(
        access,
        actor=manager,
        prospect_id=worked.prospect_id,  # type: ignore[attr-defined]
        status=ProspectStatus.CONTACTED,
        note="met the owner",
    )
    rerun = [replace(row(0), limit_fen=20_000_000), row(1), row(3)]
    second = loading.load_run(access, actor=SYSTEM, month=MONTH, rows=rerun, meta=META)
    assert (second.rows_new, second.rows_kept, second.rows_expired) == (1, 2, 1)
    after = _by_uscc(platform)
    kept = after[uscc(0)]
    assert kept.prospect_id == worked.prospect_id  # type: ignore[attr-defined]
    assert kept.status is ProspectStatus.CONTACTED  # type: ignore[attr-defined]
    assert kept.assigned_to == manager.user_id  # type: ignore[attr-defined]
    assert "met the owner" in kept.notes  # type: ignore[attr-defined]
    assert kept.row.limit_fen == 20_000_000  # type: ignore[attr-defined]
    assert after[uscc(2)].status is ProspectStatus.EXPIRED  # type: ignore[attr-defined]
    assert after[uscc(3)].status is ProspectStatus.NEW  # type: ignore[attr-defined]
    # The same run again changes nothing but the run it belongs to.
    third = loading.load_run(access, actor=SYSTEM, month=MONTH, rows=rerun, meta=META)
    assert (third.rows_new, third.rows_kept, third.rows_expired) == (0, 3, 0)
    assert {u: r.status for u, r in _by_uscc(platform).items()} == {  # type: ignore[attr-defined]
        u: r.status  # type: ignore[attr-defined]
        for u, r in after.items()
    }


def test_prospects_go_round_robin_to_the_managers_of_their_region(platform: Platform) -> None:
    access = platform.prospect_access()
    a, b = managers(platform, "li", "zhao")
    (c,) = managers(platform, "qian")
    queue.set_territory(access, actor=SYSTEM, region_code="3301", user_ids=[a.user_id, b.user_id])
    queue.set_territory(access, actor=SYSTEM, region_code="330106", user_ids=[c.user_id])
    rows = [row(n) for n in range(4)] + [row(10, region="330106"), row(11, region="440101")]
    report = loading.load_run(access, actor=SYSTEM, month=MONTH, rows=rows, meta=META)
    assert (report.assigned, report.unassigned) == (5, 1)
    found = _by_uscc(platform)
    assert [found[uscc(n)].assigned_to for n in range(4)] == [  # type: ignore[attr-defined]
        a.user_id,
        b.user_id,
        a.user_id,
        b.user_id,
    ]
    assert found[uscc(10)].assigned_to == c.user_id  # type: ignore[attr-defined]
    assert found[uscc(11)].assigned_to is None  # type: ignore[attr-defined]


def test_only_account_managers_cover_a_region(platform: Platform) -> None:
    with pytest.raises(InvalidInput) as caught:
        queue.set_territory(
            platform.prospect_access(), actor=SYSTEM, region_code="3301", user_ids=["usr_nobody"]
        )
    assert caught.value.details["not_managers"] == ["usr_nobody"]


def test_customer_counts_outside_a_park_are_stored_and_read_back(platform: Platform) -> None:
    customers = {
        ("330102", "manufacturing", None): 3,
        ("330102", "manufacturing", "滨江园区"): 2,
        ("330106", "retail", None): 1,
    }
    access = platform.prospect_access()
    report = loading.load_run(
        access,
        actor=SYSTEM,
        month=MONTH,
        rows=[row(0)],
        meta=replace(META, customers=customers),
    )
    with platform.prospects_uow() as uow:
        stored = uow.prospects.run(report.run_id)
    assert stored is not None
    assert stored.meta.customers == customers


@pytest.mark.parametrize(
    ("customers", "prospects", "expected"),
    [(3, 1, "0.7500"), (0, 4, "0.0000"), (1, 2, "0.3333"), (2, 1, "0.6667"), (0, 0, None)],
)
def test_penetration_is_customers_over_customers_and_prospects(
    customers: int, prospects: int, expected: str | None
) -> None:
    value = penetration(customers, prospects)
    assert (None if value is None else str(value)) == expected


def test_a_prospect_listed_again_gets_back_the_status_it_had_when_dropped(
    platform: Platform,
) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    ids = {u: r.prospect_id for u, r in _by_uscc(platform).items()}  # type: ignore[attr-defined]
    for n, status in ((0, ProspectStatus.NOT_INTERESTED), (1, ProspectStatus.CONTACTED)):
        queue.move_prospect(
            access, actor=manager, prospect_id=ids[uscc(n)], status=status, note=f"call {n}"
        )
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[], meta=META)
    assert {r.status for r in _by_uscc(platform).values()} == {ProspectStatus.EXPIRED}  # type: ignore[attr-defined]
    relisted = loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    assert (relisted.rows_new, relisted.rows_kept) == (0, 2)
    after = _by_uscc(platform)
    assert after[uscc(0)].status is ProspectStatus.NOT_INTERESTED  # type: ignore[attr-defined]
    assert after[uscc(1)].status is ProspectStatus.CONTACTED  # type: ignore[attr-defined]
    assert "call 0" in after[uscc(0)].notes  # type: ignore[attr-defined]
    assert after[uscc(1)].assigned_to == manager.user_id  # type: ignore[attr-defined]


def test_an_empty_rerun_is_loaded_and_expires_the_months_list(platform: Platform) -> None:
    access = platform.prospect_access()
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    report = loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[], meta=META)
    assert (report.rows_loaded, report.rows_expired) == (0, 2)
    assert _count(platform, prospect_runs) == 2
    assert {r.status for r in _by_uscc(platform).values()} == {ProspectStatus.EXPIRED}  # type: ignore[attr-defined]
