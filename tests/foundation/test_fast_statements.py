"""Prebuilt statements on the DBAPI cursor give what ``Connection.execute`` gives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, event, select, text
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast, migrate
from puhui.adapters.db.engine import checkpoint_in_background, make_engine
from puhui.adapters.db.origination import tables as t
from puhui.adapters.db.tables import audit_head

OFFERS = t.offers
INSERT_OFFER = OFFERS.insert()
OFFER_BY_ID = select(OFFERS).where(OFFERS.c.offer_id == bindparam("b_id"))
SHORTEN = OFFERS.update().where(OFFERS.c.grade == bindparam("b_grade")).values(term_months=6)
HEAD = select(audit_head.c.seq).where(audit_head.c.id == 1)  # a literal, not a parameter
RETURNING = OFFERS.update().values(grade="A").returning(OFFERS.c.offer_id)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    migrate.upgrade(built)
    with built.begin() as c:
        c.execute(
            t.applications.insert(),
            [
                {
                    "application_id": f"app_{n}",
                    "application_no": f"PH{n}",
                    "uscc": "91350100M000100Y43",
                    "id_number_enc": "x",
                    "id_number_index": "x",
                    "phone_enc": "x",
                    "phone_index": "x",
                    "status": "offered",
                    "created_at": datetime(2026, 3, 2, tzinfo=UTC),
                    "updated_at": datetime(2026, 3, 2, tzinfo=UTC),
                    "version": 1,
                }
                for n in (1, 2, 3)
            ],
        )
    yield built
    built.dispose()


def _offer(offer_id: str, grade: str, application_id: str) -> dict[str, object]:
    return {
        "offer_id": offer_id,
        "application_id": application_id,
        "limit_fen": 30_000_000,
        "annual_rate": Decimal("0.0435"),
        "term_months": 12,
        "grade": grade,
        "made_at": datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC),
        "expires_at": datetime(2026, 3, 9, 9, 30, tzinfo=UTC),
    }


def test_rows_written_and_read_either_way_are_the_same(engine: Engine) -> None:
    with engine.begin() as c:
        fast.execute(c, INSERT_OFFER, _offer("ofr_fast", "B", "app_1"))
        c.execute(INSERT_OFFER, _offer("ofr_core", "B", "app_2"))
    with engine.begin() as c:
        for offer_id in ("ofr_fast", "ofr_core"):
            quick = fast.execute(c, OFFER_BY_ID, {"b_id": offer_id}).one()
            core = c.execute(OFFER_BY_ID, {"b_id": offer_id}).one()
            assert tuple(quick) == tuple(core)
            assert quick.made_at == datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
            assert quick.annual_rate == Decimal("0.0435")
        assert fast.execute(c, OFFER_BY_ID, {"b_id": "nothing"}).one_or_none() is None
        assert fast.execute(c, HEAD).scalar_one() == 0
        assert fast.execute(c, SHORTEN, {"b_grade": "B"}).rowcount == 2
        assert fast.execute(c, SHORTEN, {"b_grade": "Z"}).rowcount == 0


def test_a_duplicate_raises_what_sqlalchemy_raises_and_the_transaction_decides(
    engine: Engine,
) -> None:
    with engine.begin() as c:
        fast.execute(c, INSERT_OFFER, _offer("ofr_1", "B", "app_1"))
    with pytest.raises(IntegrityError), engine.begin() as c:
        fast.execute(c, INSERT_OFFER, _offer("ofr_2", "C", "app_2"))
        fast.execute(c, INSERT_OFFER, _offer("ofr_1", "C", "app_3"))
    with engine.connect() as c:
        # The failed transaction rolled back the row written before the duplicate.
        assert c.execute(select(OFFERS.c.offer_id)).scalars().all() == ["ofr_1"]


def _driver_cursors(engine: Engine) -> list[object]:
    """The driver cursor each statement ran on (SQLAlchemy's listener sees fast's too)."""
    seen: list[object] = []
    event.listen(engine, "before_cursor_execute", lambda _c, cursor, *_: seen.append(cursor))
    return seen


def test_statements_on_one_connection_share_one_cursor_until_it_is_invalidated(
    engine: Engine,
) -> None:
    seen = _driver_cursors(engine)
    with engine.connect() as c, c.begin():
        fast.execute(c, INSERT_OFFER, _offer("ofr_1", "B", "app_1"))
        assert fast.execute(c, OFFER_BY_ID, {"b_id": "ofr_1"}).one().grade == "B"
        assert fast.execute(c, SHORTEN, {"b_grade": "B"}).rowcount == 1
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]
    with engine.connect() as c:
        c.invalidate()  # the driver connection is closed; the pool opens a new one
    with engine.connect() as c, c.begin():
        # A cursor of the closed connection would fail; the new connection has its own.
        assert fast.execute(c, OFFER_BY_ID, {"b_id": "ofr_1"}).one().term_months == 6
    assert seen[-1] is not seen[0]


def test_the_shared_cursor_runs_the_next_statement_after_one_failed(engine: Engine) -> None:
    with engine.connect() as c:
        with pytest.raises(IntegrityError), c.begin():
            fast.execute(c, INSERT_OFFER, _offer("ofr_1", "B", "app_1"))
            fast.execute(c, INSERT_OFFER, _offer("ofr_1", "C", "app_2"))
        with c.begin():
            fast.execute(c, INSERT_OFFER, _offer("ofr_2", "C", "app_2"))
            assert fast.execute(c, OFFER_BY_ID, {"b_id": "ofr_1"}).one_or_none() is None
            assert fast.execute(c, OFFER_BY_ID, {"b_id": "ofr_2"}).one().grade == "C"


def test_statements_it_cannot_run_go_through_sqlalchemy(engine: Engine) -> None:
    with engine.begin() as c:
        fast.execute(c, INSERT_OFFER, _offer("ofr_1", "B", "app_1"))
        returned = fast.execute(c, RETURNING)
    assert returned.scalars() == ["ofr_1"]


def test_wal_checkpoints_move_from_commits_to_a_background_thread(tmp_path: Path) -> None:
    database = tmp_path / "puhui.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert checkpoint_in_background(engine, every_seconds=0.05)
        assert not checkpoint_in_background(engine)  # one thread per engine
        with engine.begin() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
            c.exec_driver_sql("CREATE TABLE filler (x BLOB)")
            for _ in range(600):  # ~2.4 MB: far past the 1,000-page default
                c.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))
        # The pages reach the database file only when a checkpoint copies them there.
        deadline = time.monotonic() + 30
        while database.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert database.stat().st_size >= 2_000_000
    finally:
        engine.dispose()


def test_only_sqlite_files_get_a_checkpointer() -> None:
    assert not checkpoint_in_background(make_engine("sqlite:///:memory:"))
