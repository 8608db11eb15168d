"""A one-statement unit of work reads in one round trip on PostgreSQL (autocommit) and hands
its pooled connection back as transactional as it found it."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, select, update

from puhui.adapters.db.tables import audit_head
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import FixedClock

KEY = b"o" * 32


def test_a_one_statement_unit_reads_without_a_transaction_on_postgresql(
    engine: Engine, clock: FixedClock
) -> None:
    with SqlUnitOfWork(
        engine, clock=clock, audit_key=KEY, read_only=True, one_statement=True
    ) as uow:
        assert uow.connection.execute(select(audit_head.c.seq)).all() == [(0,)]
        driver: Any = uow.connection.connection.driver_connection
        if engine.dialect.name == "postgresql":
            # The read ran and left no transaction open: no BEGIN before it, no ROLLBACK due.
            assert driver.autocommit is True
            assert driver.info.transaction_status is TransactionStatus.IDLE
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY, read_only=True) as uow:
        uow.connection.execute(select(audit_head.c.seq)).all()
        driver = uow.connection.connection.driver_connection
        if engine.dialect.name == "postgresql":  # an ordinary read-only unit: a transaction
            assert driver.info.transaction_status is TransactionStatus.INTRANS


def test_the_connection_after_a_one_statement_unit_is_transactional_again(
    engine: Engine, clock: FixedClock
) -> None:
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY, read_only=True, one_statement=True):
        pass
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
        driver: Any = uow.connection.connection.driver_connection
        if engine.dialect.name == "postgresql":
            assert driver.autocommit is False
        uow.connection.execute(update(audit_head).values(seq=7))
        uow.rollback()  # not committed: nothing stays
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY, read_only=True) as uow:
        assert uow.connection.execute(select(audit_head.c.seq)).all() == [(0,)]


def test_a_writing_unit_cannot_be_one_statement(engine: Engine, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="only reads"):
        SqlUnitOfWork(engine, clock=clock, audit_key=KEY, one_statement=True)
