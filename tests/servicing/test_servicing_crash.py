"""Crash safety: a process killed between a draw and its ledger posting leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, text

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.ids import CreditLineId
from puhui.services.servicing.lines import draw

DRAWN_ON = date(2026, 1, 10)
MATURITY = date(2026, 7, 10)
AMOUNT_FEN = 150_000_00
KEY = "draw-crash-1"

# The child draws on the line with the ledger's `post` replaced by an immediate process exit:
# the receipt row and the line's new balance are written, the posting never happens.
CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, date, datetime
    from puhui.adapters.db.database import Database
    from puhui.adapters.db.servicing import repositories
    from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
    from puhui.domain.clock import FixedClock
    from puhui.services.servicing.lines import draw

    def crash(self, entry):
        os._exit(137)

    repositories.SqlLedger.post = crash
    clock = FixedClock(datetime(2026, 1, 10, 2, tzinfo=UTC))
    key = sys.argv[3].encode()
    database = Database(sys.argv[1], clock=clock, audit_key=key)
    draw(
        lambda: ServicingUnitOfWork(database.engine, clock=clock, audit_key=key),
        sys.argv[2],
        amount_fen=int(sys.argv[4]),
        on=date(2026, 1, 10),
        maturity_date=date(2026, 7, 10),
        idempotency_key=sys.argv[5],
        actor="crash-test",
    )
    os._exit(0)
    """
)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_a_draw_killed_before_its_posting_leaves_nothing_and_retries_once(
    database_url: str,
    servicing_platform: Platform,
    uow_factory: Callable[[], ServicingUnitOfWork],
    line_id: CreditLineId,
    engine: Engine,
    snapshot: Callable[[], dict[str, list[tuple[object, ...]]]],
) -> None:
    before = snapshot()
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            database_url,
            line_id,
            servicing_platform.audit_key.decode(),
            str(AMOUNT_FEN),
            KEY,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
        timeout=120,
    )
    assert child.returncode == 137, child.stderr
    assert snapshot() == before  # no receipt, no balance change, no request record, no audit

    first = draw(
        uow_factory,
        line_id,
        amount_fen=AMOUNT_FEN,
        on=DRAWN_ON,
        maturity_date=MATURITY,
        idempotency_key=KEY,
        actor="retry",
    )
    again = draw(
        uow_factory,
        line_id,
        amount_fen=AMOUNT_FEN,
        on=DRAWN_ON,
        maturity_date=MATURITY,
        idempotency_key=KEY,
        actor="retry",
    )
    assert not first.replayed
    assert again.replayed
    assert again.receipt_id == first.receipt_id
    assert count(engine, "loans") == 1
    entries_after = count(engine, "journal_entries")
    assert entries_after == len(before["journal_entries"]) + 1
