"""PostgreSQL guarantees: unbalanced entries fail at commit; concurrent repayments lose nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from puhui.adapters.db import migrate
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.product import LoanProduct
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import RepaymentResult, repay

pytestmark = pytest.mark.postgres
DAY = date(2026, 2, 2)
SERVICING_REVISION = "heads"  # the audit trail needs its latest schema too


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url, pool_size=20, max_overflow=40)
    migrate.upgrade(engine, SERVICING_REVISION)
    try:
        yield engine
    finally:
        engine.dispose()


def _insert_entry(engine: Engine, amounts: list[tuple[str, int]]) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO journal_entries (entry_id, idempotency_key, posted_on, description,"
                " created_at) VALUES ('je_x', 'manual', :d, 'direct insert', :t)"
            ),
            {"d": DAY, "t": datetime(2026, 2, 2, tzinfo=UTC)},
        )
        for number, (account, amount) in enumerate(amounts, start=1):
            connection.execute(
                text(
                    "INSERT INTO journal_lines (entry_id, line_no, account, amount_fen)"
                    " VALUES ('je_x', :n, :a, :v)"
                ),
                {"n": number, "a": account, "v": amount},
            )


@pytest.mark.parametrize(
    "amounts",
    [
        [("1303", 100), ("1002", -99)],
        [("1303", 100)],
        [],
        [("1132", 100), ("1002", -100), ("7001", 5)],
    ],
    ids=["debits-exceed-credits", "one-sided", "no-lines", "memo-unbalanced"],
)
def test_postgres_refuses_to_commit_an_unbalanced_entry(
    pg_engine: Engine, amounts: list[tuple[str, int]]
) -> None:
    with pytest.raises(DBAPIError, match="does not balance"):
        _insert_entry(pg_engine, amounts)
    with pg_engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar_one() == 0
        assert connection.execute(text("SELECT COUNT(*) FROM journal_lines")).scalar_one() == 0


def test_postgres_commits_a_balanced_entry_inserted_directly(pg_engine: Engine) -> None:
    _insert_entry(pg_engine, [("1303", 100), ("1002", -100)])
    with pg_engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM journal_lines")).scalar_one() == 2


def test_fifty_concurrent_repayments_lose_no_update_and_post_nothing_twice(
    pg_engine: Engine, revolving_product: Callable[..., LoanProduct]
) -> None:
    clock = FixedClock(datetime(2026, 2, 2, 3, tzinfo=UTC))

    def uow_factory() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(pg_engine, clock=clock, audit_key=b"test-key")

    product_id = create_product(uow_factory, revolving_product(), actor="ops")
    line_id = open_credit_line(
        uow_factory,
        enterprise_id="91350100M000100Y43",
        product_id=product_id,
        limit_fen=1_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=date(2026, 1, 5),
        expiry_date=date(2027, 1, 4),
        actor="ops",
    )
    receipt_id = ReceiptId(
        draw(
            uow_factory,
            line_id,
            amount_fen=100_000_00,
            on=DAY,
            maturity_date=date(2026, 8, 2),
            idempotency_key="draw",
            actor="c",
        ).receipt_id
    )
    # 40 distinct payments plus 10 racing replays of one key: 41 payments in all.
    keys = [f"pay-{n}" for n in range(40)] + ["pay-shared"] * 10

    def pay(key: str) -> RepaymentResult:
        return repay(
            uow_factory, receipt_id, amount_fen=1_000_00, on=DAY, idempotency_key=key, actor="c"
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(pay, keys))

    assert sum(1 for r in results if not r.replayed) == 41
    assert len({r.outstanding_principal_fen for r in results if not r.replayed}) == 41
    with uow_factory() as uow:
        receipt = uow.loans.get(receipt_id)
        line = uow.lines.get(line_id)
    assert receipt is not None
    assert line is not None
    assert receipt.outstanding_principal_fen == 100_000_00 - 41 * 1_000_00
    assert line.drawn_fen == receipt.outstanding_principal_fen
    with pg_engine.connect() as connection:
        posted = connection.execute(
            text("SELECT COUNT(*) FROM journal_entries WHERE idempotency_key LIKE 'repay:%'")
        ).scalar_one()
    assert posted == 41
    balance = trial_balance(uow_factory, as_of=DAY)
    assert balance.balances_fen[Account.PRINCIPAL_RECEIVABLE] == receipt.outstanding_principal_fen
    assert balance.balanced
