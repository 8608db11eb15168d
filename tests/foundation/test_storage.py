"""Migrations, unit of work and the audit trail on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect, text

from puhui.adapters.db.database import Database
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.services import audit
from puhui.services.audit import verify_audit_chain
from puhui.services.platform import summarise_platform

KEY = b"test-key-test-key-test-key-test-key"


def test_migrations_run_up_from_an_empty_database(database_url: str, clock: FixedClock) -> None:
    database = Database(database_url, clock=clock, audit_key=KEY)
    try:
        before = database.status()
        assert before.current is None
        assert before.pending
        after = database.upgrade()
        assert after.up_to_date
        assert after.current == after.head
        tables = set(inspect(database.engine).get_table_names())
        assert {"audit_events", "audit_head", "alembic_version"} <= tables
        assert database.upgrade().current == after.current  # a second upgrade is a no-op
    finally:
        database.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_url: str, clock: FixedClock) -> None:
    database = Database(sqlite_url, clock=clock, audit_key=KEY)
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()


def append_events(platform: Platform, n: int) -> None:
    with platform.uow() as uow:
        for i in range(n):
            audit.record(
                uow,
                actor="ops",
                action="test.touched",
                entity="thing",
                entity_id=f"t{i}",
                payload={"i": i},
            )
        uow.commit()


def test_audit_events_chain_and_verify(platform: Platform) -> None:
    append_events(platform, 4)
    report = verify_audit_chain(platform.uow, key=platform.audit_key)
    assert report.ok
    assert report.events_checked == 4
    assert summarise_platform(platform.uow).audit_events == 4


def test_uncommitted_work_leaves_nothing(platform: Platform) -> None:
    with pytest.raises(RuntimeError), platform.uow() as uow:
        audit.record(uow, actor="ops", action="x", entity="thing", entity_id="1", payload={})
        raise RuntimeError("failure half-way")
    with platform.uow() as uow:
        assert uow.audit.count() == 0
        head = uow.audit.head()
        assert head is not None
        assert head.seq == 0


def test_an_edited_row_is_reported(platform: Platform) -> None:
    append_events(platform, 5)
    with platform.database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    report = verify_audit_chain(platform.uow, key=platform.audit_key)
    assert report.first_break is not None
    assert report.first_break.seq == 3
    assert report.events_checked == 2


def test_a_deleted_row_is_reported(platform: Platform) -> None:
    append_events(platform, 5)
    with platform.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    report = verify_audit_chain(platform.uow, key=platform.audit_key)
    assert report.first_break is not None
    assert report.first_break.seq == 5


def test_concurrent_appends_keep_one_unbroken_chain(platform: Platform) -> None:
    def worker(_: int) -> None:
        append_events(platform, 5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))
    report = verify_audit_chain(platform.uow, key=platform.audit_key)
    assert report.ok, report.first_break
    assert report.events_checked == 40


def test_reset_erases_a_database_whose_rows_reference_each_other(
    platform: Platform, clock: FixedClock
) -> None:
    from puhui.decision.strategy import shipped_strategy_text
    from puhui.services import strategies

    platform.migrate()
    text_v2 = shipped_strategy_text("mse-online-credit").replace(
        "\nversion: 1\n", "\nversion: 2\n", 1
    )
    uow = platform.strategy_uow
    strategies.create_draft(uow, text=text_v2, actor="alice", clock=clock)
    strategies.submit(uow, "mse-online-credit", 2, actor="alice", clock=clock)
    strategies.approve(uow, "mse-online-credit", 2, actor="bob", clock=clock)
    # A challenger row references its strategy version: a child row the reset must not trip on.
    strategies.start_challenger(
        uow,
        "mse-online-credit",
        2,
        mode=strategies.ChallengerMode.SHADOW,
        share_bp=0,
        actor="carol",
        clock=clock,
    )
    platform.database.reset()
    assert inspect(platform.database.engine).get_table_names() == []
    assert platform.database.status().current is None
    platform.migrate()
    versions = strategies.list_versions(platform.strategy_uow, "mse-online-credit")
    assert [v.version for v in versions] == [1]
    # The seedings (the strategy, the trigger rules, the concentration limits), nothing older.
    assert summarise_platform(platform.uow).audit_events == 3
