"""A small book under watch for the monitoring tests: lines, receipts, DPD, end of day."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, update

from puhui.adapters.db.servicing.tables import eod_runs, loans
from puhui.bootstrap import Platform
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.run import RunSetup
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import disburse_term_loan

AS_OF = date(2026, 3, 31)
OPENED_ON = date(2026, 1, 5)


def product(platform: Platform) -> ProductId:
    return create_product(
        platform.servicing_uow,
        LoanProduct(
            code="SUI-E-RONG",
            name="随e融 revolving",
            method=RepaymentMethod.DAILY_REVOLVING,
            min_annual_rate=Decimal("0.03"),
            max_annual_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=12,
            min_amount_fen=100_00,
            max_amount_fen=10_000_000_00,
            penalty_uplift=Decimal("0.5"),
        ),
        actor="ops",
    )


def uscc(n: int) -> str:
    return f"9135010000000{n:04d}X"


@dataclass
class Book:
    platform: Platform
    lines: dict[str, CreditLineId] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)
    term_product: ProductId | None = None

    def setup(self, source: object = None, *, chunk_size: int = 2) -> RunSetup:
        return RunSetup(
            units=self.platform.monitoring_uow,
            strategies_uow=self.platform.strategy_uow,
            source=source or self.platform.signal_source(),  # type: ignore[arg-type]
            clock=self.platform.clock,
            chunk_size=chunk_size,
        )

    def access(self, today: date = AS_OF) -> MonitoringAccess:
        return MonitoringAccess(
            units=self.platform.monitoring_uow,
            servicing_uow=self.platform.servicing_uow,
            today=lambda: today,
        )

    def set_dpd(self, customer: str, days: int) -> None:
        with self.platform.database.engine.begin() as connection:
            connection.execute(
                update(loans)
                .where(loans.c.loan_id == self.receipts[customer])
                .values(days_past_due=days)
            )

    def close_day(self, day: date) -> None:
        with self.platform.database.engine.begin() as connection:
            connection.execute(
                insert(eod_runs).values(
                    as_of=day,
                    status="completed",
                    started_at=datetime(2026, 4, 1, tzinfo=UTC),
                    finished_at=datetime(2026, 4, 1, tzinfo=UTC),
                )
            )


def build_book(
    platform: Platform, customers: int = 5, *, dpd: dict[int, int] | None = None
) -> Book:
    """``customers`` enterprises with a line and one receipt each; ``dpd`` by index."""
    platform.migrate()
    book = Book(platform)
    product_id = product(platform)
    for n in range(customers):
        customer = uscc(n)
        line = open_credit_line(
            platform.servicing_uow,
            enterprise_id=customer,
            product_id=product_id,
            limit_fen=1_000_000_00,
            annual_rate=Decimal("0.0435"),
            opened_on=OPENED_ON,
            expiry_date=date(2027, 1, 4),
            actor="ops",
        )
        book.lines[customer] = line
        drawn = draw(
            platform.servicing_uow,
            line,
            amount_fen=100_000_00,
            on=date(2026, 1, 10),
            maturity_date=date(2026, 12, 10),
            idempotency_key=f"draw-{n}",
            actor="owner",
        )
        book.receipts[customer] = drawn.receipt_id
    for index, days in (dpd or {}).items():
        book.set_dpd(uscc(index), days)
    return book


def record_origination(book: Book, customer: str, *, account_manager: str, pd: str) -> None:
    """The application that opened the customer's line: its account manager and decided PD.

    Written straight to the tables (the encrypted columns hold placeholders): the run reads
    only the owner, the line and the decision's PD.
    """
    from puhui.adapters.db.origination.tables import applications, decision_records

    moment = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    application_id = f"app_{customer[-6:]}"
    with book.platform.database.engine.begin() as connection:
        connection.execute(
            insert(applications).values(
                application_id=application_id,
                application_no=f"NO{customer[-6:]}",
                uscc=customer,
                id_number_enc="sealed",
                id_number_index="0" * 64,
                phone_enc="sealed",
                phone_index="0" * 64,
                status="accepted",
                account_manager_id=account_manager,
                credit_line_id=book.lines[customer],
                created_at=moment,
                updated_at=moment,
                version=1,
            )
        )
        connection.execute(
            insert(decision_records).values(
                application_id=application_id,
                decided_at=moment,
                as_of=date(2026, 1, 5),
                strategy_name="mse-online-credit",
                strategy_version=1,
                arm="champion",
                outcome="approved",
                feature_source="store",
                record_json=json.dumps({"pd": pd}),
            )
        )


def add_term_borrower(
    book: Book, customer: str, *, days_past_due: int, accrued_through: date | None = None
) -> str:
    """A customer with a term loan only (no credit line), disbursed on 2 March; returns its id.

    As for the book's receipts, the end of day is written, not run: the loan is accrued
    through ``accrued_through`` (default the day before ``AS_OF``) and ``days_past_due`` late.
    """
    platform = book.platform
    if book.term_product is None:
        book.term_product = create_product(
            platform.servicing_uow,
            LoanProduct(
                code="TERM-EI",
                name="term loan",
                method=RepaymentMethod.EQUAL_INSTALMENT,
                min_annual_rate=Decimal("0.03"),
                max_annual_rate=Decimal("0.18"),
                min_term_months=1,
                max_term_months=36,
                min_amount_fen=100_00,
                max_amount_fen=10_000_000_00,
            ),
            actor="ops",
        )
    loan = disburse_term_loan(
        platform.servicing_uow,
        enterprise_id=customer,
        product_id=book.term_product,
        principal_fen=100_000_00,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=date(2026, 3, 2),
        idempotency_key=f"term-{customer}",
        actor="ops",
    )
    with platform.database.engine.begin() as connection:
        connection.execute(
            update(loans)
            .where(loans.c.loan_id == loan.loan_id)
            .values(
                accrued_through=accrued_through or AS_OF - timedelta(days=1),
                days_past_due=days_past_due,
            )
        )
    return loan.loan_id
