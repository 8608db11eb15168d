"""Repayments held in suspense (挂账) over HTTP, on SQLite and PostgreSQL: a reconciliation's
``not_posted`` orders held, applied to the channel's loan or refunded, each once (a refund
requested by one operator, approved by another, or rejected); read by the ledger's readers,
changed by operations only. Transfers to another loan: ``test_suspense_transfer_api``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from suspense_api_support import REJECTED, SUSPENSE, UNKNOWN_ITEM, World, suspense_world
from test_api_flow import assert_error

from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Role


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    with suspense_world(database_url, clock, tmp_path) as found:
        yield found


def test_an_order_is_held_once_and_a_repeated_hold_answers_the_item(world: World) -> None:
    response = world.hold("ORD-7")
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["item_id"].startswith("sus_")
    assert item["held_by"].startswith("usr_")
    assert item["held_at"]
    assert {k: v for k, v in item.items() if k not in {"item_id", "held_by", "held_at"}} == {
        "order_id": "ORD-7",
        "loan_id": world.receipt,
        "amount_fen": 50_000,
        "posted_fen": None,
        "value_date": world.value_date,
        "channel_ref": "CH-7",
        "run_id": world.run_id,
        "status": "held",
        "held_on": world.open_day,
        "resolved_on": None,
        "resolved_by": None,
        "resolved_at": None,
        "applied_loan_id": None,
        "repayment_key": None,
        "reason": None,
        "refund_requested_by": None,
        "refund_requested_at": None,
        "transfer_loan_id": None,
        "transfer_requested_by": None,
        "transfer_requested_at": None,
        "rejected_request": None,
        "rejected_reason": None,
        "rejected_by": None,
        "rejected_at": None,
    }

    again = world.hold("ORD-7")
    assert again.status_code == 200, again.text
    assert again.json() == item
    assert world.get(item["item_id"]).json() == item
    # A channel without a reference of its own: null, not an empty string.
    assert world.held("ORD-8")["channel_ref"] is None
    listed = world.api.client.get(SUSPENSE, headers=world.ops).json()["items"]
    assert sorted(i["order_id"] for i in listed) == ["ORD-7", "ORD-8"]


def test_only_a_not_posted_order_of_a_recorded_run_is_held(world: World) -> None:
    # ORD-5 was repaid a day late: it stands in the books.
    assert_error(world.hold("ORD-5"), 409, "order_already_posted")
    # ORD-1 matched; ORD-404 is not in the file.
    assert_error(world.hold("ORD-1"), 422, "invalid_input")
    assert_error(world.hold("ORD-404"), 422, "invalid_input")
    client, ops = world.api.client, world.ops
    unknown_run = {"run_id": "rcn_01M97GEBT7CCJTMT31HSJDFZQ4", "order_id": "ORD-7"}
    assert_error(client.post(SUSPENSE, json=unknown_run, headers=ops), 404, "not_found")
    malformed_run = {"run_id": "rcn_x", "order_id": "ORD-7"}
    assert_error(client.post(SUSPENSE, json=malformed_run, headers=ops), 422, "invalid_identifier")
    for body in (
        {"run_id": world.run_id},
        {"run_id": world.run_id, "order_id": ""},
        {"run_id": world.run_id, "order_id": "ORD-7", "loan_id": world.receipt},
        {"run_id": world.run_id, "order_id": 7},
    ):
        assert_error(client.post(SUSPENSE, json=body, headers=ops), 422, "validation_error")
    assert client.get(SUSPENSE, headers=ops).json()["items"] == []


def test_the_same_order_number_collected_on_another_day_is_refused(world: World) -> None:
    item = world.held("ORD-7")
    run_end_of_day(world.end_of_day, date.fromisoformat(world.open_day))
    found = world.api.client.post(
        "/api/v1/repayment-reconciliations",
        json={
            "value_date": world.open_day,
            "file": "order_id,loan_id,amount,value_date\n"
            f"ORD-7,{world.receipt},500.00,{world.open_day}\n",
        },
        headers=world.ops,
    )
    # ORD-5, posted that day, was the value date's collection at the channel.
    assert [(b["order_id"], b["kind"]) for b in found.json()["breaks"]] == [
        ("ORD-5", "not_collected"),
        ("ORD-7", "not_posted"),
    ]
    body = {"run_id": found.json()["run_id"], "order_id": "ORD-7"}
    again = world.api.client.post(SUSPENSE, json=body, headers=world.ops)
    assert assert_error(again, 409, "order_held_already")["details"] == {
        "order_id": "ORD-7",
        "item_id": item["item_id"],
    }
    listed = world.api.client.get(SUSPENSE, headers=world.ops).json()["items"]
    assert listed == [item]


def test_applying_repays_the_loan_from_suspense_once(world: World) -> None:
    item = world.held("ORD-7")
    owed = world.owed(world.receipt)

    response = world.api.client.post(f"{SUSPENSE}/{item['item_id']}/apply", headers=world.ops)
    assert response.status_code == 200, response.text
    applied, repayment = response.json()["item"], response.json()["repayment"]
    assert (applied["item_id"], applied["status"]) == (item["item_id"], "applied")
    assert (applied["applied_loan_id"], applied["resolved_on"]) == (world.receipt, world.open_day)
    assert applied["repayment_key"] == f"suspense:{item['item_id']}:1"
    assert applied["resolved_by"] == item["held_by"]
    assert applied["resolved_at"] is not None
    assert (applied["loan_id"], applied["held_on"]) == (item["loan_id"], item["held_on"])
    # The repayment in the shape the repayment endpoint answers.
    assert set(repayment) == {
        "receipt_id",
        "amount_fen",
        "paid_on",
        "penalty_fen",
        "compound_fen",
        "interest_fen",
        "principal_fen",
        "outstanding_principal_fen",
        "owed_after_fen",
        "closed",
        "replayed",
    }
    assert (repayment["receipt_id"], repayment["amount_fen"]) == (world.receipt, 50_000)
    assert (repayment["paid_on"], repayment["closed"], repayment["replayed"]) == (
        world.open_day,
        False,
        False,
    )
    assert repayment["interest_fen"] + repayment["principal_fen"] == 50_000
    # What the loan owes went down by the money, less the open day's interest settled first.
    assert world.owed(world.receipt) == repayment["owed_after_fen"]
    assert repayment["owed_after_fen"] == owed + repayment["interest_fen"] - 50_000
    assert world.get(item["item_id"]).json() == applied

    # Resolved once: neither applied again nor refunded; nothing more is repaid.
    again = world.api.client.post(f"{SUSPENSE}/{item['item_id']}/apply", json={}, headers=world.ops)
    assert assert_error(again, 409, "suspense_not_held")["details"] == {
        "item_id": item["item_id"],
        "status": "applied",
    }
    refunded = world.api.client.post(
        f"{SUSPENSE}/{item['item_id']}/refund", json={"reason": "twice"}, headers=world.ops
    )
    assert_error(refunded, 409, "suspense_not_held")
    assert_error(world.post(item["item_id"], "refund/approve"), 409, "suspense_not_held")
    rejected = world.post(item["item_id"], "refund/reject", {"reason": "no"})
    assert_error(rejected, 409, "suspense_not_held")
    assert world.get(item["item_id"]).json() == applied
    assert world.owed(world.receipt) == repayment["owed_after_fen"]
    # Held again, the order answers its applied item: it is not held a second time.
    rehold = world.hold("ORD-7")
    assert (rehold.status_code, rehold.json()) == (200, applied)


def test_apply_takes_only_the_channels_loan_and_a_loan_owing_less_is_refused(
    world: World,
) -> None:
    big = world.held("ORD-9")
    item = world.held("ORD-7")
    owed = world.owed(world.small_receipt)
    books = world.books()
    client, ops = world.api.client, world.ops

    # 99,999 yuan to the loan the channel named, which owes about 50,000.
    too_much = client.post(f"{SUSPENSE}/{big['item_id']}/apply", json={}, headers=ops)
    assert_error(too_much, 422, "overpayment")
    # Another loan, known or not, takes two people: /apply refuses it before anything else.
    for loan_id in (world.small_receipt, "rcpt_none"):
        elsewhere = client.post(
            f"{SUSPENSE}/{item['item_id']}/apply", json={"loan_id": loan_id}, headers=ops
        )
        refused = assert_error(elsewhere, 409, "suspense_transfer_needs_approval")
        assert refused["details"] == {
            "item_id": item["item_id"],
            "loan_id": loan_id,
            "channel_loan_id": world.receipt,
        }
        assert "request the transfer with a reason" in refused["message"]
    assert world.get(big["item_id"]).json() == big
    assert world.get(item["item_id"]).json() == item

    # Requested as a transfer, 500 yuan to a loan owing about 400: refused on approval, and
    # the request still waits for a rejection.
    requested = world.post(
        item["item_id"], "transfer", {"loan_id": world.small_receipt, "reason": "payer's loan"}
    )
    assert requested.status_code == 200, requested.text
    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")
    approved = world.post(item["item_id"], "transfer/approve", headers=second)
    assert_error(approved, 422, "overpayment")
    assert world.get(item["item_id"]).json() == requested.json()
    assert world.owed(world.small_receipt) == owed
    assert world.books() == books

    # The channel's loan named is the channel's loan: applied by one operator.
    small = world.held("ORD-8")
    applied = client.post(
        f"{SUSPENSE}/{small['item_id']}/apply", json={"loan_id": world.receipt}, headers=ops
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["repayment"]["receipt_id"] == world.receipt
    assert applied.json()["item"]["applied_loan_id"] == world.receipt
    assert applied.json()["item"]["transfer_loan_id"] is None


def test_a_refund_request_keeps_its_reason_and_a_reason_is_required(world: World) -> None:
    item = world.held("ORD-8")
    url = f"{SUSPENSE}/{item['item_id']}/refund"
    client, ops = world.api.client, world.ops
    assert_error(client.post(url, headers=ops), 422, "validation_error")
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": None}):
        assert_error(client.post(url, json=body, headers=ops), 422, "validation_error")
    assert_error(client.post(url, json={"reason": "   "}, headers=ops), 422, "invalid_input")
    assert world.get(item["item_id"]).json() == item
    books = world.books()

    response = client.post(url, json={"reason": " the payer's duplicate "}, headers=ops)
    assert response.status_code == 200, response.text
    requested = response.json()
    assert (requested["status"], requested["reason"]) == (
        "refund_requested",
        "the payer's duplicate",
    )
    assert requested["refund_requested_by"] == item["held_by"]
    assert requested["refund_requested_at"] is not None
    # Nothing is resolved or posted yet: the money stays on hold.
    assert (requested["resolved_on"], requested["resolved_by"], requested["resolved_at"]) == (
        None,
        None,
        None,
    )
    unchanged = {"refund_requested_by", "refund_requested_at", "status", "reason"}
    assert {k: v for k, v in requested.items() if k not in unchanged} == {
        k: v for k, v in item.items() if k not in unchanged
    }
    assert world.books() == books
    assert world.get(item["item_id"]).json() == requested

    # Pending: neither requested again nor applied, until approved or rejected.
    again = client.post(url, json={"reason": "again"}, headers=ops)
    assert assert_error(again, 409, "suspense_refund_pending")["details"] == {
        "item_id": item["item_id"],
        "status": "refund_requested",
    }
    assert_error(world.post(item["item_id"], "apply"), 409, "suspense_refund_pending")
    assert_error(world.post(item["item_id"], "apply", {}), 409, "suspense_refund_pending")
    assert world.get(item["item_id"]).json() == requested
    assert world.books() == books


def test_a_refund_is_posted_when_a_second_operator_approves_it(world: World) -> None:
    item = world.held("ORD-8")
    requested = world.post(item["item_id"], "refund", {"reason": "the payer's duplicate"})
    assert requested.status_code == 200, requested.text
    settlement, suspense = world.books()

    # Who requested it does not approve it: refused, nothing posted, the request stands.
    same = world.post(item["item_id"], "refund/approve")
    assert assert_error(same, 409, "four_eyes_violation")["details"] == {"item_id": item["item_id"]}
    assert "a second person approves it" in same.json()["message"]
    assert world.get(item["item_id"]).json() == requested.json()
    assert world.books() == (settlement, suspense)

    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")
    response = world.post(item["item_id"], "refund/approve", headers=second)
    assert response.status_code == 200, response.text
    refunded = response.json()
    assert (refunded["status"], refunded["reason"], refunded["resolved_on"]) == (
        "refunded",
        "the payer's duplicate",
        world.open_day,
    )
    # The request is kept: who asked for it, and who approved it, another person.
    assert refunded["refund_requested_by"] == item["held_by"]
    assert refunded["refund_requested_at"] == requested.json()["refund_requested_at"]
    assert refunded["resolved_by"].startswith("usr_")
    assert refunded["resolved_by"] != item["held_by"]
    assert refunded["resolved_at"] is not None
    assert (refunded["applied_loan_id"], refunded["repayment_key"]) == (None, None)
    assert world.get(item["item_id"]).json() == refunded
    # 300 yuan left suspense and went back out through settlement.
    assert world.books() == (settlement - 30_000, suspense + 30_000)

    # Refunded once: nothing more is requested, approved, rejected or applied.
    for action, body, headers in (
        ("refund", {"reason": "again"}, world.ops),
        ("refund/approve", None, second),
        ("refund/reject", {"reason": "too late"}, second),
        ("apply", None, second),
    ):
        refused = world.post(item["item_id"], action, body, headers)
        assert assert_error(refused, 409, "suspense_not_held")["details"]["status"] == "refunded"
    assert world.get(item["item_id"]).json() == refunded
    assert world.books() == (settlement - 30_000, suspense + 30_000)


def test_a_rejected_refund_holds_the_item_again_to_apply_or_refund(world: World) -> None:
    item = world.held("ORD-7")
    books = world.books()
    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")

    # Held with no refund requested: nothing to approve or reject.
    for action, body in (("refund/approve", None), ("refund/reject", {"reason": "no"})):
        refused = world.post(item["item_id"], action, body, second)
        assert assert_error(refused, 409, "suspense_no_refund_requested")["details"] == {
            "item_id": item["item_id"],
            "status": "held",
        }

    assert world.post(item["item_id"], "refund", {"reason": "wrong payer"}).status_code == 200
    reject = f"{SUSPENSE}/{item['item_id']}/refund/reject"
    assert_error(world.api.client.post(reject, headers=second), 422, "validation_error")
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": "ok", "extra": 1}):
        response = world.api.client.post(reject, json=body, headers=second)
        assert_error(response, 422, "validation_error")
    blank = world.api.client.post(reject, json={"reason": "  "}, headers=second)
    assert_error(blank, 422, "invalid_input")
    assert world.get(item["item_id"]).json()["status"] == "refund_requested"

    # Another operator rejects it: held again, the request cleared, the rejection kept, nothing
    # posted.
    response = world.post(
        item["item_id"], "refund/reject", {"reason": "the payer is right"}, second
    )
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert {k: v for k, v in rejected.items() if k not in REJECTED} == {
        k: v for k, v in item.items() if k not in REJECTED
    }
    assert (rejected["rejected_request"], rejected["rejected_reason"]) == (
        "refund",
        "the payer is right",
    )
    assert rejected["rejected_by"].startswith("usr_")
    assert rejected["rejected_by"] != item["held_by"]
    assert rejected["rejected_at"] is not None
    assert world.get(item["item_id"]).json() == rejected
    assert world.books() == books
    assert_error(world.post(item["item_id"], "refund/approve"), 409, "suspense_no_refund_requested")

    # Requested again, its requester withdraws it the same way.
    assert world.post(item["item_id"], "refund", {"reason": "again"}, second).status_code == 200
    withdrawn = world.post(item["item_id"], "refund/reject", {"reason": "my mistake"}, second)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "held"
    assert (withdrawn.json()["rejected_reason"], withdrawn.json()["rejected_by"]) == (
        "my mistake",
        rejected["rejected_by"],
    )

    # Held again, the item is applied as any held item is.
    applied = world.post(item["item_id"], "apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["item"]["status"] == "applied"
    assert (applied.json()["item"]["reason"], applied.json()["item"]["refund_requested_by"]) == (
        None,
        None,
    )
    assert applied.json()["repayment"]["amount_fen"] == 50_000


def test_items_are_listed_the_latest_held_first_by_status_and_page(
    world: World, clock: FixedClock
) -> None:
    held = []
    for order in ("ORD-7", "ORD-8", "ORD-9"):
        held.append(world.held(order)["item_id"])
        clock.advance(timedelta(minutes=1))
    requested = world.post(held[0], "refund", {"reason": "wrong payer"})
    assert requested.status_code == 200, requested.text
    assert world.post(held[1], "refund", {"reason": "duplicate"}).status_code == 200
    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")
    refunded = world.post(held[1], "refund/approve", headers=second)
    assert refunded.status_code == 200, refunded.text

    def listed(**params: Any) -> list[str]:
        response = world.api.client.get(SUSPENSE, params=params, headers=world.ops)
        assert response.status_code == 200, response.text
        return [i["order_id"] for i in response.json()["items"]]

    assert listed() == ["ORD-9", "ORD-8", "ORD-7"]
    assert listed(status="held") == ["ORD-9"]
    assert listed(status="refund_requested") == ["ORD-7"]
    assert listed(status="refunded") == ["ORD-8"]
    assert listed(status="applied") == []
    assert listed(limit=1, offset=1) == ["ORD-8"]
    assert listed(status="held", limit=1, offset=1) == []
    assert listed(offset=3) == []
    page = world.api.client.get(SUSPENSE, params={"limit": 2}, headers=world.ops).json()
    assert (len(page["items"]), page["limit"], page["offset"]) == (2, 2, 0)
    for params in (
        {"status": "resolved"},
        {"status": "HELD"},
        {"status": "refund-requested"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
    ):
        response = world.api.client.get(SUSPENSE, params=params, headers=world.ops)
        assert_error(response, 422, "validation_error")


def test_malformed_ids_are_invalid_and_unknown_ones_not_found(world: World) -> None:
    client, ops = world.api.client, world.ops
    for item_id, status, code in (
        ("sus_x", 422, "invalid_identifier"),
        ("rcn_01M97GEBT7CCJTMT31HSJDFZQ4", 422, "invalid_identifier"),
        (UNKNOWN_ITEM, 404, "not_found"),
    ):
        assert_error(world.get(item_id), status, code)
        assert_error(client.post(f"{SUSPENSE}/{item_id}/apply", headers=ops), status, code)
        refund = client.post(f"{SUSPENSE}/{item_id}/refund", json={"reason": "r"}, headers=ops)
        assert_error(refund, status, code)
        assert_error(world.post(item_id, "refund/approve"), status, code)
        assert_error(world.post(item_id, "refund/reject", {"reason": "r"}), status, code)
        transfer = {"loan_id": world.small_receipt, "reason": "r"}
        assert_error(world.post(item_id, "transfer", transfer), status, code)
        assert_error(world.post(item_id, "transfer/approve"), status, code)
        assert_error(world.post(item_id, "transfer/reject", {"reason": "r"}), status, code)


def test_auditors_and_risk_read_only_operations_change_and_managers_see_nothing(
    world: World,
) -> None:
    item = world.held("ORD-7")
    client = world.api.client
    auditor = world.api.staff_headers(Role.AUDITOR)
    risk = world.api.staff_headers(Role.RISK_OFFICER)
    manager = world.api.staff_headers(Role.ACCOUNT_MANAGER)
    for reader in (auditor, risk):
        listed = client.get(SUSPENSE, headers=reader)
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == [item]
        assert world.get(item["item_id"], reader).json() == item
    for refused in (auditor, risk, manager):
        assert_error(world.hold("ORD-8", refused), 403, "forbidden")
        apply = client.post(f"{SUSPENSE}/{item['item_id']}/apply", headers=refused)
        assert_error(apply, 403, "forbidden")
        refund = client.post(
            f"{SUSPENSE}/{item['item_id']}/refund", json={"reason": "no"}, headers=refused
        )
        assert_error(refund, 403, "forbidden")
        transfer = {"loan_id": world.small_receipt, "reason": "no"}
        assert_error(world.post(item["item_id"], "transfer", transfer, refused), 403, "forbidden")
    # With a refund or a transfer requested, only another operator approves or rejects it.
    pending = world.post(item["item_id"], "refund", {"reason": "wrong payer"})
    assert pending.status_code == 200, pending.text
    other = world.held("ORD-8")
    moving = world.post(
        other["item_id"], "transfer", {"loan_id": world.small_receipt, "reason": "r"}
    )
    assert moving.status_code == 200, moving.text
    for refused in (auditor, risk, manager):
        for item_id, request in ((item["item_id"], "refund"), (other["item_id"], "transfer")):
            approve = world.post(item_id, f"{request}/approve", headers=refused)
            assert_error(approve, 403, "forbidden")
            reject = world.post(item_id, f"{request}/reject", {"reason": "no"}, refused)
            assert_error(reject, 403, "forbidden")
    for reader in (auditor, risk):
        assert world.get(item["item_id"], reader).json() == pending.json()
        assert world.get(other["item_id"], reader).json() == moving.json()
    assert_error(client.get(SUSPENSE, headers=manager), 403, "forbidden")
    assert_error(world.get(item["item_id"], manager), 403, "forbidden")
    # Nothing the refused callers sent changed the items or held another.
    listed = client.get(SUSPENSE, headers=world.ops).json()["items"]
    assert sorted(listed, key=lambda i: str(i["order_id"])) == [pending.json(), moving.json()]


def test_the_suspense_account_is_tied_out_against_the_items(world: World) -> None:
    client = world.api.client
    auditor = world.api.staff_headers(Role.AUDITOR)
    empty = client.get(f"{SUSPENSE}/tie-out", headers=auditor)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "account_fen": 0,
        "items": 0,
        "items_fen": 0,
        "difference_fen": 0,
        "agrees": True,
        "max_days": 30,
        "overdue": 0,
        "overdue_fen": 0,
    }
    item = world.held("ORD-7")
    other = world.held("ORD-8")
    world.post(item["item_id"], "refund", {"reason": "wrong payer"})  # still on the account
    moving = {"loan_id": world.small_receipt, "reason": "the payer's loan"}
    assert world.post(other["item_id"], "transfer", moving).status_code == 200  # and this one
    held = client.get(f"{SUSPENSE}/tie-out", headers=world.ops).json()
    assert held == {
        "account_fen": 80_000,
        "items": 2,
        "items_fen": 80_000,
        "difference_fen": 0,
        "agrees": True,
        "max_days": 30,
        "overdue": 0,
        "overdue_fen": 0,
    }
    manager = world.api.staff_headers(Role.ACCOUNT_MANAGER)
    assert_error(client.get(f"{SUSPENSE}/tie-out", headers=manager), 403, "forbidden")
