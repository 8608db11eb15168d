"""Fixtures of the loan-change tests: a migrated platform, its unit of work, a term loan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import disburse_term_loan

Factory = Callable[[], LoanChangesUnitOfWork]
START = date(2026, 1, 2)
ENTERPRISE = "91350100M000100Y43"


@pytest.fixture
def changes_platform(database_url: str, clock: FixedClock) -> Iterator[Platform]:
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade("heads")
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def uow_factory(changes_platform: Platform) -> Factory:
    p = changes_platform
    return lambda: LoanChangesUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)


def term_product(method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALMENT) -> LoanProduct:
    return LoanProduct(
        code=f"TERM-{method.value}",
        name="term loan",
        method=method,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=60,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
        early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
    )


@pytest.fixture
def product_id(uow_factory: Factory) -> ProductId:
    return create_product(uow_factory, term_product(), actor="ops")


@pytest.fixture
def disburse(uow_factory: Factory, product_id: ProductId) -> Callable[..., LoanId]:
    counter = iter(range(1, 1_000))

    def make(principal_fen: int = 120_000_00, term_months: int = 12, on: date = START) -> LoanId:
        result = disburse_term_loan(
            uow_factory,
            enterprise_id=ENTERPRISE,
            product_id=product_id,
            principal_fen=principal_fen,
            annual_rate=Decimal("0.0435"),
            term_months=term_months,
            on=on,
            idempotency_key=f"loan-{next(counter)}",
            actor="ops",
        )
        return LoanId(result.loan_id)

    return make


def close_days(platform: Platform, clock: FixedClock, first: date, last: date) -> None:
    """Run end of day for every day from ``first`` to ``last``."""
    store = SqlEndOfDayStore(platform.database.engine, clock=clock)
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)
