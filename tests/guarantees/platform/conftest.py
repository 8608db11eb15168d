"""Fixtures of the guarantee platform tests: a migrated platform, a line, a service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, update

from puhui.adapters.db.servicing.tables import loans
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.guarantees import guarantee_service_on
from puhui.domain.clock import FixedClock
from puhui.domain.guarantees.agreements import FeeMode
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.services.guarantees.use_cases import AgreementTerms, GuaranteeService
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product

OPENED_ON = date(2026, 1, 5)
DRAWN_ON = date(2026, 2, 2)
MATURITY = date(2026, 8, 2)
AGENCY_USCC = "91110000MA00GUAR01"

Factory = Callable[[], ServicingUnitOfWork]


@pytest.fixture
def guarantee_platform(database_url: str, clock: FixedClock) -> Iterator[Platform]:
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade()
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def servicing(guarantee_platform: Platform) -> Factory:
    p = guarantee_platform
    return lambda: ServicingUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)


@pytest.fixture
def service(guarantee_platform: Platform) -> GuaranteeService:
    p = guarantee_platform
    return guarantee_service_on(p.database.engine, clock=p.clock, audit_key=p.audit_key)


def open_line(servicing: Factory, enterprise_id: str) -> CreditLineId:
    product = LoanProduct(
        code=f"SUI-{enterprise_id}",
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
    product_id = create_product(servicing, product, actor="ops")
    return open_credit_line(
        servicing,
        enterprise_id=enterprise_id,
        product_id=product_id,
        limit_fen=5_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=date(2027, 1, 4),
        actor="ops",
    )


def draw_loan(servicing: Factory, line_id: CreditLineId, amount_fen: int, key: str) -> str:
    return draw(
        servicing,
        line_id,
        amount_fen=amount_fen,
        on=DRAWN_ON,
        maturity_date=MATURITY,
        idempotency_key=key,
        actor="customer",
    ).receipt_id


def set_past_due(
    platform: Platform, loan_id: str, days: int, *, interest_billed_fen: int = 0
) -> None:
    """Arrange the loan as servicing's end of day would have left it ``days`` past due."""
    set_past_due_on(
        platform.database.engine, loan_id, days, interest_billed_fen=interest_billed_fen
    )


def set_past_due_on(
    engine: Engine, loan_id: str, days: int, *, interest_billed_fen: int = 0
) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(loans)
            .where(loans.c.loan_id == loan_id)
            .values(days_past_due=days, interest_billed_fen=interest_billed_fen)
        )


def terms(agency_id: str, **overrides: object) -> AgreementTerms:
    values: dict[str, object] = {
        "agency_id": agency_id,
        "coverage_share": Decimal("0.8"),
        "fee_rate": Decimal("0.01"),
        "fee_mode": FeeMode.AT_DRAW,
        "borrower_cap_fen": 300_000_00,
        "portfolio_cap_fen": 1_000_000_00,
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2027, 12, 31),
        "counter_guarantee_waived": True,
    }
    values.update(overrides)
    return AgreementTerms(**values)  # type: ignore[arg-type]
