"""What one application costs the database: statements, transactions and connection checkouts.

The HTTP benchmark on PostgreSQL is bound by round trips to the server, so the number of
statements and transaction commands of each step is the figure to keep down. Counted with
SQLAlchemy's events on the thread that runs the step (a server's audit sealer works on its
own thread and its own connections), deterministic, not timed: a change that adds a round
trip to create, consent or decide fails here and must say why in the budget below.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flow_scenarios import ALL_SCOPES, new
from origination_fakes import EVIDENCE, PHONE
from origination_wiring import AUDIT_KEY, Wired
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event

from puhui.adapters.db.audit_sealer import seal_in_background
from puhui.adapters.db.engine import one_statement_cursor
from puhui.domain.origination.application import ApplicationStatus
from puhui.services.origination import use_cases as uc

KINDS = ("statements", "transactions", "savepoints", "checkouts")

BUDGET: dict[str, dict[str, dict[str, int]]] = {
    # PostgreSQL: the audit events of a step take their numbers in one statement and go in
    # with one more (the chain is sealed after commit by the server's sealer thread). Create:
    # the applicant, the enterprise's open application, the insert, the event. Consent: the
    # application, the consent, the move, the two events. Decide reads the application, its
    # consents, the screening (velocity counts and fraud lists in one statement) and the
    # enterprise's earlier applications, then writes the application, the two events, the
    # decision record and the offer, all in one transaction.
    "postgresql": {
        "create": {"statements": 5, "transactions": 1, "savepoints": 0, "checkouts": 1},
        "consent": {"statements": 5, "transactions": 1, "savepoints": 0, "checkouts": 1},
        "decide": {"statements": 9, "transactions": 1, "savepoints": 0, "checkouts": 1},
    },
    # SQLite: the chain is linked as events are written: the head is moved once per
    # transaction from where this process last left it (the update checks it in the write
    # lock), and the events inserted. The process's first write (create, here) has no such
    # guess and reads the head first. Decide reads on a snapshot and assesses outside the
    # writer lock; the writing transaction only writes (its versioned update is the check
    # that the application did not move meanwhile).
    "sqlite": {
        "create": {"statements": 6, "transactions": 1, "savepoints": 0, "checkouts": 1},
        "consent": {"statements": 5, "transactions": 1, "savepoints": 0, "checkouts": 1},
        "decide": {"statements": 9, "transactions": 2, "savepoints": 0, "checkouts": 2},
    },
}


@contextmanager
def counting(engine: Engine) -> Iterator[Counter[str]]:
    """Statements, transactions begun, savepoints and pool checkouts of this thread."""
    me = threading.get_ident()
    counts: Counter[str] = Counter()

    def on(kind: str) -> Callable[..., None]:
        def listener(*_args: Any, **_kwargs: Any) -> None:
            if threading.get_ident() == me:
                counts[kind] += 1

        return listener

    listeners = [
        (engine, "before_cursor_execute", on("statements")),
        (engine, "begin", on("transactions")),
        (engine, "savepoint", on("savepoints")),
        (engine.pool, "checkout", on("checkouts")),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counts
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


def test_create_consent_and_decide_stay_within_their_statement_budget(
    db: Wired, engine: Engine
) -> None:
    # As a server runs: a sealer thread links the audit chain (PostgreSQL; a no-op on SQLite).
    seal_in_background(engine, key=AUDIT_KEY)
    db.assessor.evidence = EVIDENCE  # the decision record is stored, as with the real assessor
    o = db.origination
    owner = db.applicant(PHONE)
    steps: dict[str, dict[str, int]] = {}
    with counting(engine) as counts:
        app = uc.create_application(o, actor=owner, request=new())
    steps["create"] = {kind: counts[kind] for kind in KINDS}
    with counting(engine) as counts:
        uc.give_consent(
            o, actor=owner, application_id=app.application_id, scopes=ALL_SCOPES, purpose="credit"
        )
    steps["consent"] = {kind: counts[kind] for kind in KINDS}
    with counting(engine) as counts:
        view = uc.assess_application(o, actor=owner, application_id=app.application_id)
    steps["decide"] = {kind: counts[kind] for kind in KINDS}

    assert view.application.status is ApplicationStatus.OFFERED
    assert view.offer is not None
    with o.reading() as uow:
        assert uow.decisions.get(app.application_id) is not None
    assert steps == BUDGET[engine.dialect.name], steps
    if engine.dialect.name == "postgresql":
        # What the design promises there: each step one writing transaction, no savepoints.
        for step, measured in steps.items():
            assert (measured["transactions"], measured["savepoints"]) == (1, 0), step


def test_a_one_statement_read_sends_no_transaction_commands(engine: Engine) -> None:
    # The feature row and the governed setup's stamp are read this way on every decision.
    with one_statement_cursor(engine) as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
        if engine.dialect.name == "postgresql":
            # Autocommit: no BEGIN before it, nothing for the pool to roll back after it.
            assert cursor.connection.info.transaction_status == TransactionStatus.IDLE
    if engine.dialect.name == "postgresql":
        pooled = engine.raw_connection()
        try:
            assert pooled.driver_connection.autocommit is False  # type: ignore[union-attr]
        finally:
            pooled.close()
