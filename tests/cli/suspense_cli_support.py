"""What the suspense CLI tests share (挂账 at the command line): a closed day reconciled through
the CLI with two orders the channel collected and the books never got, and the helpers that run
``puhui ledger`` as an operator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from puhui.bootstrap import Platform
from puhui.cli import ledger_suspense as ledger_cli
from puhui.cli.main import app
from puhui.domain.ids import ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import repay

runner = CliRunner()
OPENED_ON = date(2026, 1, 5)
DRAWN_ON = date(2026, 2, 2)
PAID_ON = date(2026, 2, 10)
OPEN_DAY = "2026-02-11"
HEADER = "order_id,loan_id,amount,value_date,channel_ref\n"
TRANSFER = ("transfer_loan_id", "transfer_requested_by", "transfer_requested_at")
REJECTED = ("rejected_request", "rejected_reason", "rejected_by", "rejected_at")


@dataclass(frozen=True, slots=True)
class Book:
    receipts: list[str]
    run_id: str
    platform: Platform

    def owed_fen(self, loan_id: str) -> int:
        with self.platform.servicing_uow() as uow:
            loan = uow.loans.get(loan_id)
        assert loan is not None
        return loan.total_owed_fen


def ledger(*args: str) -> Result:
    return runner.invoke(app, ["ledger", *args])


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


def acting_as(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The commands that follow run as another operating-system user (``cli:<name>``)."""
    monkeypatch.setattr(ledger_cli, "operator_name", lambda: name)


def suspense_and_settlement() -> tuple[str, str]:
    """The suspense and settlement balances of the open day, as the trial balance prints them."""
    found = document(ledger("trial-balance", "--as-of", OPEN_DAY, "--json"))
    assert found["balanced"] is True
    balances = {a["code"]: a["balance"] for a in found["accounts"]}
    return balances[Account.REPAYMENT_SUSPENSE.code], balances[Account.SETTLEMENT.code]


def _receipts(platform: Platform) -> list[str]:
    """Two receipts drawn on DRAWN_ON; the first repaid on PAID_ON under order ord-001; every
    day through PAID_ON closed."""
    units = platform.servicing_uow
    product_id = create_product(
        units,
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
        ),
        actor="ops",
    )
    line_id = open_credit_line(
        units,
        enterprise_id="91350100M000100Y43",
        product_id=product_id,
        limit_fen=1_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=date(2027, 1, 4),
        actor="ops",
    )
    receipts = [
        draw(
            units,
            line_id,
            amount_fen=20_000_00,
            on=DRAWN_ON,
            maturity_date=DRAWN_ON + timedelta(days=180),
            idempotency_key=f"draw-{n}",
            actor="owner",
        ).receipt_id
        for n in range(2)
    ]
    store = platform.end_of_day_store()
    day = DRAWN_ON
    while day < PAID_ON:
        run_end_of_day(store, day)
        day += timedelta(days=1)
    repay(units, ReceiptId(receipts[0]), amount_fen=1_000_00, on=PAID_ON,
          idempotency_key="ord-001", actor="owner")  # fmt: skip
    run_end_of_day(store, PAID_ON)
    return receipts


def reconciled_book(
    platform: Platform, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Book:
    """PAID_ON reconciled through the CLI against a file in which the channel also
    collected ord-009 (50.00 for the second receipt) and ord-010 (30.00 for the first), never
    posted here."""
    receipts = _receipts(platform)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    channel = tmp_path / "channel-20260210.csv"
    channel.write_text(
        HEADER
        + f"ord-001,{receipts[0]},1000.00,2026-02-10,T1\n"
        + f"ord-009,{receipts[1]},50.00,2026-02-10,T9\n"
        + f"ord-010,{receipts[0]},30.00,2026-02-10,\n",
        encoding="utf-8",
    )
    found = ledger("reconcile-repayments", "--date", "2026-02-10", "--file", str(channel), "--json")
    assert found.exit_code == 1, found.output
    run = json.loads(found.stdout)
    assert [(b["order_id"], b["kind"]) for b in run["breaks"]] == [
        ("ord-009", "not_posted"),
        ("ord-010", "not_posted"),
    ]
    return Book(receipts, run["run_id"], platform)
