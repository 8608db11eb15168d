"""Fixtures of the servicing persistence tests: a servicing unit of work, a product, a line."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.services.servicing.lines import open_credit_line
from puhui.services.servicing.products import create_product

SERVICING_REVISION = "heads"  # the audit trail needs its latest schema too
OPENED_ON = date(2026, 1, 5)
ENTERPRISE = "91350100M000100Y43"


def _revolving_product(code: str = "SUI-E-RONG", **overrides: Any) -> LoanProduct:
    product = LoanProduct(
        code=code,
        name="随e融 revolving",
        method=RepaymentMethod.DAILY_REVOLVING,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=12,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
    )
    return replace(product, **overrides)


@pytest.fixture
def servicing_platform(database_url: str, clock: FixedClock) -> Iterator[Platform]:
    """A platform migrated to the servicing revision only (0001 → 0002), so that other areas'
    migrations, still in progress on the shared tree, cannot break these tests."""
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),
        clock=clock,
    )
    built.database.upgrade(SERVICING_REVISION)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def uow_factory(servicing_platform: Platform) -> Callable[[], ServicingUnitOfWork]:
    p = servicing_platform
    return lambda: ServicingUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)


@pytest.fixture
def product_id(uow_factory: Callable[[], ServicingUnitOfWork]) -> ProductId:
    return create_product(uow_factory, _revolving_product(), actor="ops")


@pytest.fixture
def term_product_id(uow_factory: Callable[[], ServicingUnitOfWork]) -> ProductId:
    """A term-loan product: 等额本息 (equal instalments) up to 36 months, an early repayment
    lowering the instalment."""
    product = _revolving_product(
        "TERM-EI",
        method=RepaymentMethod.EQUAL_INSTALMENT,
        max_term_months=36,
        early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
    )
    return create_product(uow_factory, product, actor="ops")


@pytest.fixture
def line_id(uow_factory: Callable[[], ServicingUnitOfWork], product_id: ProductId) -> CreditLineId:
    return open_credit_line(
        uow_factory,
        enterprise_id=ENTERPRISE,
        product_id=product_id,
        limit_fen=1_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=date(2027, 1, 4),
        actor="ops",
    )


@pytest.fixture
def engine(servicing_platform: Platform) -> Engine:
    return servicing_platform.database.engine


@pytest.fixture
def eod_store(engine: Engine, clock: FixedClock) -> SqlEndOfDayStore:
    return SqlEndOfDayStore(engine, clock=clock)


SNAPSHOT_TABLES = (
    "loans",
    "credit_lines",
    "journal_entries",
    "journal_lines",
    "service_requests",
    "accrual_entries",
    "category_history",
    "eod_runs",
    "eod_steps",
    "audit_events",
)


Snapshot = Callable[[], dict[str, list[tuple[object, ...]]]]


@pytest.fixture
def revolving_product() -> Callable[..., LoanProduct]:
    """Builds the test revolving product (随借随还, 3%-18%, uplift 50%), with overrides."""
    return _revolving_product


@pytest.fixture
def snapshot(engine: Engine) -> Snapshot:
    """Takes every row of the servicing tables and the audit trail, in a stable order."""
    return lambda: _snapshot(engine)


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))),
                key=repr,
            )
            for table in SNAPSHOT_TABLES
        }


EngineFactory = Callable[[], AbstractContextManager[Engine]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_servicing_engine(request: pytest.FixtureRequest, tmp_path: Path) -> EngineFactory:
    """Makes a new database migrated to the servicing revision on each call, for tests (such
    as Hypothesis properties) that need a clean database per example; dropped on exit."""
    if request.param == "sqlite":
        return partial(_sqlite_engine, tmp_path, itertools.count())
    return partial(_postgres_engine, str(request.getfixturevalue("postgres_url")))


@contextmanager
def _sqlite_engine(folder: Path, numbers: Iterator[int]) -> Iterator[Engine]:
    path = folder / f"example-{next(numbers)}.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine, SERVICING_REVISION)
        yield engine
    finally:
        engine.dispose()
        for leftover in folder.glob(f"{path.name}*"):
            leftover.unlink()


@contextmanager
def _postgres_engine(server_url: str) -> Iterator[Engine]:
    """A database of its own on the test's server (``postgres_url`` drops the server's test
    database; each example's database is dropped here)."""
    url = make_url(server_url)
    name = f"puhui_example_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine, SERVICING_REVISION)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
