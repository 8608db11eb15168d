"""``puhui ledger`` moving money held in suspense (挂账) to another loan than the channel's
(转入他笔贷款), as operators run it: one requests the transfer, another approves it (the
repayment printed, as text or JSON) or either rejects it, and the item then shows why."""

from __future__ import annotations

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


@pytest.fixture
def book(
    platform: Platform, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Book:
    return reconciled_book(platform, database_url, tmp_path, monkeypatch)


def test_a_transfer_requested_by_one_operator_is_approved_by_another(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    channel, other = book.receipts[1], book.receipts[0]  # ord-009 was collected for the second
    owed = (book.owed_fen(other), book.owed_fen(channel))
    acting_as(monkeypatch, "alice")
    books = suspense_and_settlement()

    # One operator applies to the channel's loan; another loan takes two people.
    elsewhere = ledger("apply-suspense", item_id, "--loan", other)
    assert elsewhere.exit_code == 2
    assert elsewhere.output == (
        f"error [suspense_transfer_needs_approval]: loan {other} is not the one the channel "
        f"named ({channel}): applying suspense item {item_id} to another loan takes two "
        "people; request the transfer with a reason, and a second person approves it\n"
    )
    own = ledger("transfer-suspense", item_id, "--loan", channel, "--reason", "r")
    assert own.exit_code == 2
    assert f"error [invalid_input]: loan {channel} is the one the channel named" in own.output

    requested = ledger("transfer-suspense", item_id, "--loan", other, "--reason", "payer's loan")
    assert requested.exit_code == 0, requested.output
    lines = requested.stdout.splitlines()
    assert lines[0] == (
        f"transfer of 50.00 yuan to {other} requested: it waits for a second person's approval "
        "(approve-suspense-transfer), nothing is posted yet"
    )
    assert lines[1] == (
        f"suspense item {item_id}: transfer to {other} requested by cli:alice, "
        "waiting for a second person's approval"
    )
    assert lines[-1].startswith(f"  transfer  to {other} requested by cli:alice at ")
    assert lines[-1].endswith(" UTC: payer's loan")
    assert suspense_and_settlement() == books  # nothing posted yet
    pending = document(ledger("suspense", "--status", "transfer_requested", "--json"))
    assert [(i["item_id"], i["status"], i["reason"]) for i in pending] == [
        (item_id, "transfer_requested", "payer's loan")
    ]
    assert (pending[0]["transfer_loan_id"], pending[0]["transfer_requested_by"]) == (
        other,
        "cli:alice",
    )
    assert pending[0]["transfer_requested_at"] is not None
    assert (pending[0]["loan_id"], pending[0]["resolved_on"]) == (channel, None)
    listed = ledger("suspense", "--status", "transfer_requested").stdout
    assert listed.rstrip().endswith(
        f"transfer to {other} requested by cli:alice, waiting for a second person's approval"
    )

    # Pending: neither applied nor refunded; its requester does not approve it.
    for command, code in (
        (["apply-suspense", item_id], "suspense_transfer_pending"),
        (["refund-suspense", item_id, "--reason", "x"], "suspense_transfer_pending"),
        (["approve-suspense-refund", item_id], "suspense_no_refund_requested"),
    ):
        refused = ledger(*command)
        assert refused.exit_code == 2
        assert f"error [{code}]" in refused.output
    same = ledger("approve-suspense-transfer", item_id)
    assert same.exit_code == 2
    assert same.output == (
        f"error [four_eyes_violation]: you requested the transfer of suspense item "
        f"{item_id}: a second person approves it\n"
    )
    assert document(ledger("suspense-item", item_id, "--json")) == pending[0]
    assert suspense_and_settlement() == books

    acting_as(monkeypatch, "bob")
    approved = ledger("approve-suspense-transfer", item_id)
    assert approved.exit_code == 0, approved.output
    lines = approved.stdout.splitlines()
    assert lines[0] == f"suspense item {item_id}: applied to {other} on {OPEN_DAY}"
    assert f"  loan      {channel} (as the channel named it)" in lines
    assert any(line.startswith(f"  transfer  to {other} requested by cli:alice") for line in lines)
    assert f"  applied   to {other} on {OPEN_DAY} by cli:bob at " in approved.stdout
    assert lines[-1].startswith(f"repaid 50.00 yuan to {other} on {OPEN_DAY}: principal ")
    # The other loan is repaid, the channel's is not; the money left suspense.
    assert book.owed_fen(other) < owed[0]
    assert book.owed_fen(channel) == owed[1]
    suspense_before, settlement_before = books
    assert suspense_and_settlement() == (
        f"{Decimal(suspense_before) + Decimal('50.00'):.2f}",
        settlement_before,
    )
    shown = document(ledger("suspense-item", item_id, "--json"))
    assert (shown["status"], shown["applied_loan_id"], shown["resolved_by"]) == (
        "applied",
        other,
        "cli:bob",
    )
    assert {k: shown[k] for k in (*TRANSFER, "reason")} == {
        k: pending[0][k] for k in (*TRANSFER, "reason")
    }
    assert shown["repayment_key"] == f"suspense:{item_id}:2"

    # Applied once: the transfer is neither approved, rejected nor requested again.
    for command in (
        ["approve-suspense-transfer", item_id],
        ["reject-suspense-transfer", item_id, "--reason", "late"],
        ["transfer-suspense", item_id, "--loan", other, "--reason", "twice"],
    ):
        again = ledger(*command)
        assert again.exit_code == 2
        assert f"error [suspense_not_held]: suspense item {item_id} was applied" in again.output


def test_a_transfer_approved_prints_the_repayment_as_json_and_the_channels_loan_is_applied(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    kept = document(ledger("hold", book.run_id, "ord-010", "--json"))["item"]["item_id"]
    acting_as(monkeypatch, "alice")
    asked = document(
        ledger("transfer-suspense", moved, "--loan", book.receipts[0], "--reason", "r", "--json")
    )
    assert (asked["status"], asked["transfer_loan_id"], asked["transfer_requested_by"]) == (
        "transfer_requested",
        book.receipts[0],
        "cli:alice",
    )
    acting_as(monkeypatch, "bob")
    approved = document(ledger("approve-suspense-transfer", moved, "--json"))
    assert (approved["item"]["status"], approved["item"]["applied_loan_id"]) == (
        "applied",
        book.receipts[0],
    )
    repayment = approved["repayment"]
    assert (repayment["loan_id"], repayment["amount"], repayment["paid_on"]) == (
        book.receipts[0],
        "50.00",
        OPEN_DAY,
    )
    assert fen(repayment["owed_after"]) == book.owed_fen(book.receipts[0])

    # --loan naming the channel's loan is the channel's loan: one operator applies it.
    applied = document(ledger("apply-suspense", kept, "--loan", book.receipts[0], "--json"))
    assert (applied["item"]["applied_loan_id"], applied["repayment"]["loan_id"]) == (
        book.receipts[0],
        book.receipts[0],
    )
    assert applied["item"]["transfer_loan_id"] is None


def test_a_rejected_transfer_holds_the_item_again_and_shows_why(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = document(ledger("hold", book.run_id, "ord-009", "--json"))["item"]["item_id"]
    held = document(ledger("suspense-item", item_id, "--json"))
    other = book.receipts[0]
    books = suspense_and_settlement()
    acting_as(monkeypatch, "alice")

    # Nothing requested: nothing to approve or reject.
    for command in (
        ["approve-suspense-transfer", item_id],
        ["reject-suspense-transfer", item_id, "--reason", "no"],
    ):
        refused = ledger(*command)
        assert refused.exit_code == 2
        assert refused.output == (
            f"error [suspense_no_transfer_requested]: suspense item {item_id} is held, with no "
            "transfer requested: request one first\n"
        )
    assert ledger("transfer-suspense", item_id, "--reason", "r").exit_code == 2  # --loan needed
    assert ledger("transfer-suspense", item_id, "--loan", other).exit_code == 2  # --reason too
    blank = ledger("transfer-suspense", item_id, "--loan", other, "--reason", " ")
    assert blank.exit_code == 2
    assert "error [invalid_input]: reason must be 1 to 200 printable characters" in blank.output
    unknown = ledger("transfer-suspense", item_id, "--loan", "rct_unknown", "--reason", "r")
    assert unknown.exit_code == 2
    assert "error [not_found]: no loan rct_unknown" in unknown.output
    assert document(ledger("suspense-item", item_id, "--json")) == held

    assert ledger("transfer-suspense", item_id, "--loan", other, "--reason", "r").exit_code == 0
    assert ledger("reject-suspense-transfer", item_id).exit_code == 2  # --reason is required
    not_refund = ledger("reject-suspense-refund", item_id, "--reason", "no")
    assert not_refund.exit_code == 2
    assert "error [suspense_no_refund_requested]" in not_refund.output

    acting_as(monkeypatch, "bob")
    rejected = ledger("reject-suspense-transfer", item_id, "--reason", "owes less")
    assert rejected.exit_code == 0, rejected.output
    lines = rejected.stdout.splitlines()
    assert lines[:2] == [
        "transfer rejected: the item is held again, to be applied or refunded",
        f"suspense item {item_id}: held",
    ]
    assert lines[-1].startswith("  rejected  a transfer request, by cli:bob at ")
    assert lines[-1].endswith(" UTC: owes less")
    assert "  transfer  " not in rejected.stdout
    shown = document(ledger("suspense-item", item_id, "--json"))
    assert {k: v for k, v in shown.items() if k not in REJECTED} == {
        k: v for k, v in held.items() if k not in REJECTED
    }
    assert (shown["rejected_request"], shown["rejected_reason"], shown["rejected_by"]) == (
        "transfer",
        "owes less",
        "cli:bob",
    )
    assert shown["rejected_at"] is not None
    assert suspense_and_settlement() == books

    # Requested again, its requester withdraws it; the item is then applied to its own loan.
    assert ledger("transfer-suspense", item_id, "--loan", other, "--reason", "r").exit_code == 0
    withdrawn = document(ledger("reject-suspense-transfer", item_id, "--reason", "mine", "--json"))
    assert (withdrawn["status"], withdrawn["transfer_loan_id"]) == ("held", None)
    assert (withdrawn["rejected_request"], withdrawn["rejected_by"]) == ("transfer", "cli:bob")
    paid = document(ledger("apply-suspense", item_id, "--json"))
    assert (paid["item"]["status"], paid["repayment"]["loan_id"]) == ("applied", book.receipts[1])
    assert paid["item"]["rejected_reason"] == "mine"
