"""``puhui ledger`` on repayments held in suspense (挂账), as an operator runs it: an order a
reconciliation found collected but not posted is held (once), listed, shown, applied to its
loan or refunded (once: one operator requests the refund, another approves or either rejects
it); every refusal is one line on stderr and a non-zero exit. Transfers to another loan:
``test_suspense_transfer_cli``."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.cli.suspense_cli_support import (
    OPEN_DAY,
    REJECTED,
    TRANSFER,
    Book,
    acting_as,
    document,
    fen,
    ledger,
    reconciled_book,
    suspense_and_settlement,
)

from puhui.bootstrap import Platform
from puhui.domain.ledger import Account, JournalEntry
from puhui.pipelines.eod import run_end_of_day


@pytest.fixture
def book(
    platform: Platform, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Book:
    return reconciled_book(platform, database_url, tmp_path, monkeypatch)


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
    assert (item["refund_requested_by"], item["refund_requested_at"]) == (None, None)
    assert {k: item[k] for k in (*TRANSFER, *REJECTED)} == dict.fromkeys((*TRANSFER, *REJECTED))
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


def test_a_refund_requested_by_one_operator_is_approved_by_another(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_id = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    refunded_id = document(ledger("hold", book.run_id, "ord-010", "--json"))["item"]["item_id"]
    assert ledger("apply-suspense", applied_id).exit_code == 0
    owed = book.owed_fen(book.receipts[0])
    acting_as(monkeypatch, "alice")
    books = suspense_and_settlement()

    requested = ledger("refund-suspense", refunded_id, "--reason", "payer's duplicate")
    assert requested.exit_code == 0, requested.output
    lines = requested.stdout.splitlines()
    assert lines[0] == (
        "refund of 30.00 yuan requested: it waits for a second person's approval "
        "(approve-suspense-refund), nothing is posted yet"
    )
    assert lines[1] == (
        f"suspense item {refunded_id}: refund requested by cli:alice, "
        "waiting for a second person's approval"
    )
    assert lines[-1].startswith("  refund    requested by cli:alice at ")
    assert lines[-1].endswith(" UTC: payer's duplicate")
    assert suspense_and_settlement() == books  # nothing posted yet
    pending = document(ledger("suspense", "--status", "refund_requested", "--json"))
    assert [(i["item_id"], i["status"], i["reason"]) for i in pending] == [
        (refunded_id, "refund_requested", "payer's duplicate")
    ]
    assert pending[0]["refund_requested_by"] == "cli:alice"
    assert pending[0]["refund_requested_at"] is not None
    assert (pending[0]["resolved_on"], pending[0]["resolved_by"]) == (None, None)

    # Who requested it does not approve it: refused, naming the rule; nothing posted.
    same = ledger("approve-suspense-refund", refunded_id)
    assert same.exit_code == 2
    assert same.output == (
        f"error [four_eyes_violation]: you requested the refund of suspense item "
        f"{refunded_id}: a second person approves it\n"
    )
    assert document(ledger("suspense-item", refunded_id, "--json")) == pending[0]
    assert suspense_and_settlement() == books

    acting_as(monkeypatch, "bob")
    approved = document(ledger("approve-suspense-refund", refunded_id, "--json"))
    assert (approved["status"], approved["reason"], approved["resolved_on"]) == (
        "refunded",
        "payer's duplicate",
        OPEN_DAY,
    )
    assert (approved["refund_requested_by"], approved["resolved_by"]) == ("cli:alice", "cli:bob")
    assert approved["refund_requested_at"] == pending[0]["refund_requested_at"]
    assert approved["applied_loan_id"] is None
    assert book.owed_fen(book.receipts[0]) == owed  # the money went back, not to the loan
    # 30.00 left suspense (a credit, negative) and went out through settlement.
    suspense_before, settlement_before = books
    assert suspense_and_settlement() == (
        f"{Decimal(suspense_before) + Decimal('30.00'):.2f}",
        f"{Decimal(settlement_before) - Decimal('30.00'):.2f}",
    )

    shown = ledger("suspense-item", refunded_id)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"suspense item {refunded_id}: refunded on {OPEN_DAY}\n")
    assert "  refund    requested by cli:alice at " in shown.stdout
    assert f"  refunded  on {OPEN_DAY} by cli:bob at " in shown.stdout
    assert shown.stdout.rstrip().endswith("UTC: payer's duplicate")

    found = document(ledger("suspense", "--status", "refunded", "--json"))
    assert found == [approved]
    applied = ledger("suspense", "--status", "applied")
    assert applied.stdout.splitlines() == [
        f"{applied_id}  ord-009  {book.receipts[1]}         50.00  valued 2026-02-10  "
        f"applied to {book.receipts[1]} on {OPEN_DAY}"
    ]
    both = ledger("suspense").stdout
    assert f"30.00  valued 2026-02-10  refunded on {OPEN_DAY}" in both
    none = ledger("suspense", "--status", "held")
    assert (none.exit_code, none.stdout) == (0, "no suspense item held\n")
    nothing_pending = ledger("suspense", "--status", "refund_requested")
    assert (nothing_pending.exit_code, nothing_pending.stdout) == (
        0,
        "no suspense item refund_requested\n",
    )

    # Refunded once: neither requested, approved nor rejected again.
    for command in (
        ["refund-suspense", refunded_id, "--reason", "twice"],
        ["approve-suspense-refund", refunded_id],
        ["reject-suspense-refund", refunded_id, "--reason", "too late"],
    ):
        again = ledger(*command)
        assert again.exit_code == 2
        assert "error [suspense_not_held]" in again.output
        assert "was refunded on 2026-02-11" in again.output


def test_a_rejected_refund_holds_the_item_again(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    held = document(ledger("suspense-item", item_id, "--json"))
    books = suspense_and_settlement()
    acting_as(monkeypatch, "alice")

    # Nothing requested: nothing to approve or reject.
    for command in (
        ["approve-suspense-refund", item_id],
        ["reject-suspense-refund", item_id, "--reason", "no"],
    ):
        refused = ledger(*command)
        assert refused.exit_code == 2
        assert refused.output == (
            f"error [suspense_no_refund_requested]: suspense item {item_id} is held, with no "
            "refund requested: request one first\n"
        )

    requested = document(ledger("refund-suspense", item_id, "--reason", "wrong payer", "--json"))
    assert (requested["status"], requested["refund_requested_by"]) == (
        "refund_requested",
        "cli:alice",
    )
    # Pending: neither requested again nor applied.
    twice = ledger("refund-suspense", item_id, "--reason", "again")
    assert twice.exit_code == 2
    assert twice.output == (
        f"error [suspense_refund_pending]: a refund of suspense item {item_id} was requested "
        "by cli:alice: approve or reject it first\n"
    )
    applied = ledger("apply-suspense", item_id)
    assert applied.exit_code == 2
    assert "error [suspense_refund_pending]" in applied.output
    blank = ledger("reject-suspense-refund", item_id, "--reason", " ")
    assert blank.exit_code == 2
    assert "error [invalid_input]: reason must be 1 to 200 printable characters" in blank.output
    assert ledger("reject-suspense-refund", item_id).exit_code == 2  # --reason is required
    assert document(ledger("suspense-item", item_id, "--json")) == requested

    # Another operator rejects it: held again, the request cleared, the rejection kept,
    # nothing posted.
    acting_as(monkeypatch, "bob")
    rejected = ledger("reject-suspense-refund", item_id, "--reason", "the payer is right")
    assert rejected.exit_code == 0, rejected.output
    assert rejected.stdout.startswith(
        "refund rejected: the item is held again, to be applied or refunded\n"
        f"suspense item {item_id}: held\n"
    )
    assert "refund    requested" not in rejected.stdout
    assert rejected.stdout.splitlines()[-1].startswith(
        "  rejected  a refund request, by cli:bob at "
    )
    assert rejected.stdout.splitlines()[-1].endswith(" UTC: the payer is right")
    shown = document(ledger("suspense-item", item_id, "--json"))
    assert {k: v for k, v in shown.items() if k not in REJECTED} == {
        k: v for k, v in held.items() if k not in REJECTED
    }
    assert (shown["rejected_request"], shown["rejected_reason"], shown["rejected_by"]) == (
        "refund",
        "the payer is right",
        "cli:bob",
    )
    assert shown["rejected_at"] is not None
    assert suspense_and_settlement() == books

    # Requested again, its requester withdraws it the same way; then it is applied.
    assert ledger("refund-suspense", item_id, "--reason", "again").exit_code == 0
    withdrawn = document(ledger("reject-suspense-refund", item_id, "--reason", "mine", "--json"))
    assert {k: v for k, v in withdrawn.items() if k not in REJECTED} == {
        k: v for k, v in held.items() if k not in REJECTED
    }
    assert (withdrawn["rejected_reason"], withdrawn["rejected_by"]) == ("mine", "cli:bob")
    paid = document(ledger("apply-suspense", item_id, "--json"))
    assert (paid["item"]["status"], paid["repayment"]["amount"]) == ("applied", "50.00")


def test_refusals_are_one_line_and_a_non_zero_exit(book: Book) -> None:
    empty = ledger("suspense")
    assert (empty.exit_code, empty.stdout) == (0, "no item held in suspense\n")
    assert document(ledger("suspense", "--json")) == []

    unknown_status = ledger("suspense", "--status", "pending")
    assert unknown_status.exit_code == 2
    assert unknown_status.output == (
        "error [invalid_status]: not a status of suspense items (held, refund_requested, "
        "transfer_requested, applied, refunded): 'pending'\n"
    )
    assert ledger("suspense", "--limit", "0").exit_code == 2

    for command in (
        ["suspense-item", "sus_1"],
        ["apply-suspense", "sus_1"],
        ["refund-suspense", "sus_1", "--reason", "r"],
        ["approve-suspense-refund", "sus_1"],
        ["reject-suspense-refund", "sus_1", "--reason", "r"],
        ["transfer-suspense", "sus_1", "--loan", "rct_1", "--reason", "r"],
        ["approve-suspense-transfer", "sus_1"],
        ["reject-suspense-transfer", "sus_1", "--reason", "r"],
    ):
        malformed = ledger(*command)
        assert malformed.exit_code == 2
        assert "error [invalid_identifier]: not a suspense item id (sus_ and 26 characters)" in (
            malformed.output
        )
    for command in (
        ["suspense-item", "sus_01M97GEBT7CCJTMT31HSJDFZQ4"],
        ["approve-suspense-refund", "sus_01M97GEBT7CCJTMT31HSJDFZQ4"],
        ["reject-suspense-refund", "sus_01M97GEBT7CCJTMT31HSJDFZQ4", "--reason", "r"],
        ["transfer-suspense", "sus_01M97GEBT7CCJTMT31HSJDFZQ4", "--loan", "rct_1", "--reason", "r"],
        ["approve-suspense-transfer", "sus_01M97GEBT7CCJTMT31HSJDFZQ4"],
        ["reject-suspense-transfer", "sus_01M97GEBT7CCJTMT31HSJDFZQ4", "--reason", "r"],
    ):
        missing = ledger(*command)
        assert missing.exit_code == 2
        assert "error [not_found]: no suspense item sus_01M97GEBT7CCJTMT31HSJDFZQ4" in (
            missing.output
        )

    # Only a not_posted break is held: a matched order is not.
    matched = ledger("hold", book.run_id, "ord-001")
    assert matched.exit_code == 2
    assert "has no break for order ord-001 in which the channel collected money" in matched.output
    malformed_run = ledger("hold", "rcn_x", "ord-009")
    assert malformed_run.exit_code == 2
    assert "error [invalid_identifier]: not a reconciliation id" in malformed_run.output

    item_id = document(ledger("hold", book.run_id, "ord-010", "--json"))["item"]["item_id"]
    blank = ledger("refund-suspense", item_id, "--reason", "  ")
    assert blank.exit_code == 2
    assert "error [invalid_input]: reason must be 1 to 200 printable characters" in blank.output
    assert ledger("refund-suspense", item_id).exit_code == 2  # --reason is required
    # Another loan than the channel's, known or not, is a transfer for two people.
    elsewhere = ledger("apply-suspense", item_id, "--loan", "rct_unknown")
    assert elsewhere.exit_code == 2
    assert "error [suspense_transfer_needs_approval]: loan rct_unknown is not the one" in (
        elsewhere.output
    )
    # Every refusal left the item on hold.
    assert document(ledger("suspense-item", item_id, "--json"))["status"] == "held"


def test_the_suspense_account_is_tied_out_against_the_items(book: Book) -> None:
    ledger("hold", book.run_id, "ord-009")
    ledger("hold", book.run_id, "ord-010")
    tied = ledger("suspense-tie-out")
    assert tied.exit_code == 0, tied.output
    assert tied.stdout == (
        "suspense account 2245 holds 80.00 yuan: the 2 items in suspense, exactly\n"
    )

    # An entry on the account that no item explains (posted by hand): exit 1, named.
    with book.platform.servicing_uow() as uow:
        uow.ledger.post(
            JournalEntry.build(
                "manual-suspense",
                date.fromisoformat(OPEN_DAY),
                "posted by hand",
                [(Account.SETTLEMENT, 2_50), (Account.REPAYMENT_SUSPENSE, -2_50)],
            )
        )
        uow.commit()
    differs = ledger("suspense-tie-out")
    assert differs.exit_code == 1
    assert differs.stdout == (
        "suspense account 2245 holds 82.50 yuan, but the 2 items in suspense come to 80.00 "
        "yuan: 2.50 yuan that no item explains; find the entries on the account\n"
    )
    found = ledger("suspense-tie-out", "--json")
    assert found.exit_code == 1
    assert json.loads(found.stdout) == {
        "account": "82.50",
        "items": 2,
        "items_amount": "80.00",
        "difference": "2.50",
        "agrees": False,
        "max_days": 30,
        "overdue": 0,
        "overdue_amount": "0.00",
    }


def test_the_tie_out_counts_items_held_longer_than_allowed(book: Book) -> None:
    ledger("hold", book.run_id, "ord-009")
    store = book.platform.end_of_day_store()
    for day in ("2026-02-11", "2026-02-12"):
        run_end_of_day(store, date.fromisoformat(day))
    # On hold two days by the open day (2026-02-13): overdue when one is allowed, not at 30.
    strict = ledger("suspense-tie-out", "--max-days", "1")
    assert strict.exit_code == 0, strict.output  # overdue is a warning, not a difference
    assert strict.stdout.splitlines()[1] == (
        "1 of them (50.00 yuan) held longer than 1 day: apply or refund them"
    )
    assert ledger("suspense-tie-out").stdout == (
        "suspense account 2245 holds 50.00 yuan: the 1 item in suspense, exactly\n"
    )
    found = json.loads(ledger("suspense-tie-out", "--max-days", "2", "--json").stdout)
    assert (found["max_days"], found["overdue"]) == (2, 0)
    assert ledger("suspense-tie-out", "--max-days", "0").exit_code == 2
