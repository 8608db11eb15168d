"""``puhui ledger`` on repayments held in suspense (挂账), as an operator runs it: an order a
reconciliation found collected but not posted is held (once), listed, shown, applied to its
loan or refunded (once); every refusal is one line on stderr and a non-zero exit."""

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
from puhui.cli.main import app
from puhui.domain.ids import ReceiptId
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


@pytest.fixture
def book(
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


def test_an_order_collected_not_posted_is_held_listed_shown_and_applied_once(book: Book) -> None:
    held = ledger("hold", book.run_id, "ord-009")
    assert held.exit_code == 0, held.output
    assert held.stdout.startswith(f"order ord-009 held in suspense on {OPEN_DAY}\n")
    assert f"  order     ord-009 (channel ref T9), a break of reconciliation {book.run_id}\n" in (
        held.stdout
    )
    assert "  amount    50.00 yuan, valued 2026-02-10\n" in held.stdout
    item_id = held.stdout.split("suspense item ", 1)[1].split(":", 1)[0]
    assert item_id.startswith("sus_")

    again = document(ledger("hold", book.run_id, "ord-009", "--json"))
    assert again["created"] is False
    item = again["item"]
    assert {k: item[k] for k in ("item_id", "order_id", "loan_id", "amount", "status")} == {
        "item_id": item_id,
        "order_id": "ord-009",
        "loan_id": book.receipts[1],
        "amount": "50.00",
        "status": "held",
    }
    assert (item["value_date"], item["held_on"], item["channel_ref"]) == (
        "2026-02-10",
        OPEN_DAY,
        "T9",
    )
    assert (item["run_id"], item["resolved_on"], item["reason"]) == (book.run_id, None, None)
    assert item["held_by"].startswith("cli:")
    plain_again = ledger("hold", book.run_id, "ord-009")
    assert "order ord-009 was held already: nothing posted again" in plain_again.stdout

    # The other order, held too, is the latest: it comes first.
    other = document(ledger("hold", book.run_id, "ord-010", "--json"))
    assert other["created"] is True
    assert other["item"]["channel_ref"] is None
    listed = ledger("suspense")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        [other["item"]["item_id"], "ord-010", book.receipts[0]],
        [item_id, "ord-009", book.receipts[1]],
    ]
    assert lines[1].endswith("50.00  valued 2026-02-10  held")
    assert [i["item_id"] for i in document(ledger("suspense", "--json", "--limit", "1"))] == [
        other["item"]["item_id"]
    ]
    assert document(ledger("suspense-item", item_id, "--json")) == item

    owed = book.owed_fen(book.receipts[1])
    applied = document(ledger("apply-suspense", item_id, "--json"))
    repayment = applied["repayment"]
    assert repayment["amount"] == item["amount"] == "50.00"
    assert (repayment["loan_id"], repayment["paid_on"]) == (book.receipts[1], OPEN_DAY)
    parts = ("principal", "interest", "penalty", "compound")
    assert sum(fen(repayment[p]) for p in parts) == 50_00
    assert fen(repayment["interest"]) > 0  # a receipt settles its interest first (结息)
    assert fen(repayment["owed_after"]) == book.owed_fen(book.receipts[1]) < owed
    assert applied["item"]["status"] == "applied"
    assert (applied["item"]["applied_loan_id"], applied["item"]["resolved_on"]) == (
        book.receipts[1],
        OPEN_DAY,
    )
    assert applied["item"]["repayment_key"] == f"suspense:{item_id}:1"

    shown = ledger("suspense-item", item_id)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(
        f"suspense item {item_id}: applied to {book.receipts[1]} on {OPEN_DAY}\n"
    )
    assert f"as repayment suspense:{item_id}:1" in shown.stdout

    # Resolved once: a second application is refused, naming what became of it.
    twice = ledger("apply-suspense", item_id)
    assert twice.exit_code == 2
    assert f"error [suspense_not_held]: suspense item {item_id} was applied on {OPEN_DAY}" in (
        twice.output
    )
    assert fen(document(ledger("suspense-item", item_id, "--json"))["amount"]) == 50_00
    assert book.owed_fen(book.receipts[1]) == fen(repayment["owed_after"])


def test_a_held_item_is_refunded_with_its_reason_and_listed_by_status(book: Book) -> None:
    applied_id = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    refunded_id = document(ledger("hold", book.run_id, "ord-010", "--json"))["item"]["item_id"]
    assert ledger("apply-suspense", applied_id).exit_code == 0
    owed = book.owed_fen(book.receipts[0])

    refunded = ledger("refund-suspense", refunded_id, "--reason", "payer's duplicate")
    assert refunded.exit_code == 0, refunded.output
    assert refunded.stdout.startswith(f"suspense item {refunded_id}: refunded on {OPEN_DAY}\n")
    assert f"  refunded  on {OPEN_DAY} by cli:" in refunded.stdout
    assert refunded.stdout.rstrip().endswith("UTC: payer's duplicate")
    assert book.owed_fen(book.receipts[0]) == owed  # the money went back, not to the loan

    found = document(ledger("suspense", "--status", "refunded", "--json"))
    assert [(i["item_id"], i["status"], i["reason"]) for i in found] == [
        (refunded_id, "refunded", "payer's duplicate")
    ]
    assert found[0]["resolved_by"].startswith("cli:")
    assert found[0]["applied_loan_id"] is None
    applied = ledger("suspense", "--status", "applied")
    assert applied.stdout.splitlines() == [
        f"{applied_id}  ord-009  {book.receipts[1]}         50.00  valued 2026-02-10  "
        f"applied to {book.receipts[1]} on {OPEN_DAY}"
    ]
    both = ledger("suspense").stdout
    assert f"30.00  valued 2026-02-10  refunded on {OPEN_DAY}" in both
    none = ledger("suspense", "--status", "held")
    assert (none.exit_code, none.stdout) == (0, "no suspense item held\n")

    again = ledger("refund-suspense", refunded_id, "--reason", "twice")
    assert again.exit_code == 2
    assert "error [suspense_not_held]" in again.output
    assert "was refunded on 2026-02-11" in again.output


def test_refusals_are_one_line_and_a_non_zero_exit(book: Book) -> None:
    empty = ledger("suspense")
    assert (empty.exit_code, empty.stdout) == (0, "no item held in suspense\n")
    assert document(ledger("suspense", "--json")) == []

    unknown_status = ledger("suspense", "--status", "pending")
    assert unknown_status.exit_code == 2
    assert unknown_status.output == (
        "error [invalid_status]: not a status of suspense items (held, applied, refunded): "
        "'pending'\n"
    )
    assert ledger("suspense", "--limit", "0").exit_code == 2

    for command in (["suspense-item", "sus_1"], ["apply-suspense", "sus_1"]):
        malformed = ledger(*command)
        assert malformed.exit_code == 2
        assert "error [invalid_identifier]: not a suspense item id (sus_ and 26 characters)" in (
            malformed.output
        )
    missing = ledger("suspense-item", "sus_01M97GEBT7CCJTMT31HSJDFZQ4")
    assert missing.exit_code == 2
    assert "error [not_found]: no suspense item sus_01M97GEBT7CCJTMT31HSJDFZQ4" in missing.output

    # Only a not_posted break is held: a matched order is not.
    matched = ledger("hold", book.run_id, "ord-001")
    assert matched.exit_code == 2
    assert "has no break 'collected, not posted' for order ord-001" in matched.output
    malformed_run = ledger("hold", "rcn_x", "ord-009")
    assert malformed_run.exit_code == 2
    assert "error [invalid_identifier]: not a reconciliation id" in malformed_run.output

    item_id = document(ledger("hold", book.run_id, "ord-010", "--json"))["item"]["item_id"]
    blank = ledger("refund-suspense", item_id, "--reason", "  ")
    assert blank.exit_code == 2
    assert "error [invalid_input]: reason must be 1 to 200 printable characters" in blank.output
    assert ledger("refund-suspense", item_id).exit_code == 2  # --reason is required
    elsewhere = ledger("apply-suspense", item_id, "--loan", "rct_unknown")
    assert elsewhere.exit_code == 2
    assert "error [not_found]: no loan rct_unknown" in elsewhere.output
    # Every refusal left the item on hold.
    assert document(ledger("suspense-item", item_id, "--json"))["status"] == "held"
