"""Migration 0043 (SQLite and PostgreSQL): a loan called in before it existed gets its recall
date from the audit trail, unless a loan change was approved after the recall."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from puhui.adapters.db import migrate
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.ids import CreditLineId, ProductId
from puhui.services.audit import record
from puhui.services.servicing.lines import accelerate_line, draw
from puhui.services.servicing.term_loans import accelerate_term_loan, disburse_term_loan

Factory = Callable[[], ServicingUnitOfWork]
ON = date(2026, 1, 5)


def _term_loan(uow_factory: Factory, product_id: ProductId, key: str) -> str:
    return disburse_term_loan(
        uow_factory,
        enterprise_id="91350100M000100Y43",
        product_id=product_id,
        principal_fen=100_000_00,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=ON,
        idempotency_key=key,
        actor="ops",
    ).loan_id


def _called_in(engine: Engine) -> dict[str, date | None]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT loan_id, called_in_on FROM loans")).all()
    return {
        str(loan_id): None if day is None else date.fromisoformat(str(day)[:10])
        for loan_id, day in rows
    }


def test_the_upgrade_finds_each_recall_in_the_audit_trail(
    uow_factory: Factory,
    engine: Engine,
    line_id: CreditLineId,
    term_product_id: ProductId,
) -> None:
    receipt = draw(
        uow_factory,
        line_id,
        amount_fen=50_000_00,
        on=ON,
        maturity_date=ON + timedelta(days=180),
        idempotency_key="draw",
        actor="c",
    ).receipt_id
    called, restructured, running = (_term_loan(uow_factory, term_product_id, k) for k in "abc")
    assert accelerate_line(uow_factory, line_id, on=ON, actor="risk", reason="task")
    for loan_id in (called, restructured):
        assert accelerate_term_loan(uow_factory, loan_id, on=ON, actor="risk", reason="task")
    with uow_factory() as uow:  # a restructuring approved after the recall replaced it
        record(
            uow,
            actor="approver",
            action="loan_change.restructuring_approved",
            entity="loan",
            entity_id=restructured,
            payload={},
        )
        uow.commit()
    expected = {receipt: ON, called: ON, restructured: ON, running: None}
    assert _called_in(engine) == expected

    migrate.downgrade(engine, "0042")
    with engine.connect() as connection:
        columns = set(connection.execute(text("SELECT * FROM loans")).keys())
    assert "called_in_on" not in columns
    migrate.upgrade(engine, "0043")

    assert _called_in(engine) == {**expected, restructured: None}
