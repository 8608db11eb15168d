"""A held item transferred to another loan than the channel's over HTTP (转入他笔贷款), on
SQLite and PostgreSQL: requested by one operator, approved by another or rejected (the item
then shows why); ``/apply`` takes the channel's loan only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from suspense_api_support import REJECTED, SUSPENSE, TRANSFER, World, suspense_world
from test_api_flow import assert_error

from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    with suspense_world(database_url, clock, tmp_path) as found:
        yield found


def test_a_transfer_to_another_loan_is_posted_when_a_second_operator_approves_it(
    world: World,
) -> None:
    item = world.held("ORD-8")
    owed = (world.owed(world.receipt), world.owed(world.small_receipt))
    settlement, suspense = world.books()

    response = world.post(
        item["item_id"],
        "transfer",
        {"loan_id": world.small_receipt, "reason": " the payer repays the small loan "},
    )
    assert response.status_code == 200, response.text
    requested = response.json()
    assert (requested["status"], requested["transfer_loan_id"], requested["reason"]) == (
        "transfer_requested",
        world.small_receipt,
        "the payer repays the small loan",
    )
    assert requested["transfer_requested_by"] == item["held_by"]
    assert requested["transfer_requested_at"] is not None
    # Nothing is resolved or posted: the money stays on hold, on the channel's loan's item.
    changed = {*TRANSFER, "status", "reason"}
    assert {k: v for k, v in requested.items() if k not in changed} == {
        k: v for k, v in item.items() if k not in changed
    }
    assert world.books() == (settlement, suspense)
    assert world.get(item["item_id"]).json() == requested
    waiting = world.api.client.get(
        SUSPENSE, params={"status": "transfer_requested"}, headers=world.ops
    )
    assert waiting.json()["items"] == [requested]

    # Pending: neither applied, refunded nor asked for again, until approved or rejected.
    for action, body, code in (
        ("apply", None, "suspense_transfer_pending"),
        ("refund", {"reason": "no"}, "suspense_transfer_pending"),
        (
            "transfer",
            {"loan_id": world.small_receipt, "reason": "again"},
            "suspense_transfer_pending",
        ),
        ("refund/approve", None, "suspense_no_refund_requested"),
    ):
        refused = world.post(item["item_id"], action, body)
        assert assert_error(refused, 409, code)["details"] == {
            "item_id": item["item_id"],
            "status": "transfer_requested",
        }
    # Who requested it does not approve it: refused, nothing posted, the request stands.
    same = world.post(item["item_id"], "transfer/approve")
    assert assert_error(same, 409, "four_eyes_violation")["details"] == {"item_id": item["item_id"]}
    assert "you requested the transfer" in same.json()["message"]
    assert world.get(item["item_id"]).json() == requested
    assert world.books() == (settlement, suspense)

    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")
    response = world.post(item["item_id"], "transfer/approve", headers=second)
    assert response.status_code == 200, response.text
    applied, repayment = response.json()["item"], response.json()["repayment"]
    assert (applied["status"], applied["applied_loan_id"], applied["resolved_on"]) == (
        "applied",
        world.small_receipt,
        world.open_day,
    )
    assert applied["repayment_key"] == f"suspense:{item['item_id']}:2"
    # The request is kept: which loan, who asked and why; another person approved it.
    assert {k: applied[k] for k in (*TRANSFER, "reason", "loan_id")} == {
        k: requested[k] for k in (*TRANSFER, "reason", "loan_id")
    }
    assert applied["resolved_by"].startswith("usr_")
    assert applied["resolved_by"] != item["held_by"]
    assert world.get(item["item_id"]).json() == applied
    # The other loan is repaid the whole amount; the channel's loan is not.
    assert (repayment["receipt_id"], repayment["amount_fen"], repayment["paid_on"]) == (
        world.small_receipt,
        30_000,
        world.open_day,
    )
    assert (repayment["closed"], repayment["replayed"]) == (False, False)
    assert repayment["interest_fen"] + repayment["principal_fen"] == 30_000
    assert world.owed(world.small_receipt) == repayment["owed_after_fen"]
    # What it owed, its accrued interest included, went down by the money.
    assert repayment["owed_after_fen"] == owed[1] - 30_000
    assert repayment["interest_fen"] > 0
    assert world.owed(world.receipt) == owed[0]
    # 300 yuan left suspense; settlement is as it was (the money came in when it was held).
    assert world.books() == (settlement, suspense + 30_000)

    # Applied once: the transfer is neither approved, rejected nor requested again.
    for action, body in (
        ("transfer/approve", None),
        ("transfer/reject", {"reason": "too late"}),
        ("transfer", {"loan_id": world.small_receipt, "reason": "again"}),
    ):
        refused = world.post(item["item_id"], action, body, second)
        assert assert_error(refused, 409, "suspense_not_held")["details"]["status"] == "applied"
    assert world.get(item["item_id"]).json() == applied
    assert world.books() == (settlement, suspense + 30_000)


def test_a_transfer_request_names_an_active_loan_other_than_the_channels_and_a_reason(
    world: World,
) -> None:
    item = world.held("ORD-8")
    url = f"{SUSPENSE}/{item['item_id']}/transfer"
    client, ops = world.api.client, world.ops
    ok = {"loan_id": world.small_receipt, "reason": "the payer's other loan"}
    assert_error(client.post(url, headers=ops), 422, "validation_error")
    for body in (
        {},
        {"reason": ok["reason"]},
        {"loan_id": world.small_receipt},
        {**ok, "loan_id": ""},
        {**ok, "loan_id": "r" * 65},
        {**ok, "loan_id": None},
        {**ok, "reason": ""},
        {**ok, "reason": "x" * 201},
        {**ok, "reason": None},
        {**ok, "extra": 1},
    ):
        assert_error(client.post(url, json=body, headers=ops), 422, "validation_error")
    for body in ({**ok, "reason": "   "}, {**ok, "loan_id": "  "}):
        assert_error(client.post(url, json=body, headers=ops), 422, "invalid_input")
    # The channel's own loan is applied, not transferred; an unknown loan is not found.
    own = client.post(url, json={**ok, "loan_id": world.receipt}, headers=ops)
    assert "no transfer is needed" in assert_error(own, 422, "invalid_input")["message"]
    unknown = client.post(url, json={**ok, "loan_id": "rcpt_none"}, headers=ops)
    assert assert_error(unknown, 404, "not_found")["details"] == {"loan_id": "rcpt_none"}
    assert world.get(item["item_id"]).json() == item

    # A refund waiting: no transfer is requested until it is approved or rejected.
    assert world.post(item["item_id"], "refund", {"reason": "wrong payer"}).status_code == 200
    pending = client.post(url, json=ok, headers=ops)
    assert assert_error(pending, 409, "suspense_refund_pending")["details"] == {
        "item_id": item["item_id"],
        "status": "refund_requested",
    }
    assert_error(
        world.post(item["item_id"], "transfer/approve"), 409, "suspense_no_transfer_requested"
    )


def test_a_rejected_transfer_holds_the_item_again_and_the_item_shows_why(world: World) -> None:
    item = world.held("ORD-7")
    books = world.books()
    second = world.api.staff_headers(Role.OPERATIONS, name="operations-2")

    # Held with no transfer requested: nothing to approve or reject.
    for action, body in (("transfer/approve", None), ("transfer/reject", {"reason": "no"})):
        refused = world.post(item["item_id"], action, body, second)
        assert assert_error(refused, 409, "suspense_no_transfer_requested")["details"] == {
            "item_id": item["item_id"],
            "status": "held",
        }

    transfer = {"loan_id": world.small_receipt, "reason": "the payer's other loan"}
    requested = world.post(item["item_id"], "transfer", transfer)
    assert requested.status_code == 200, requested.text
    reject = f"{SUSPENSE}/{item['item_id']}/transfer/reject"
    assert_error(world.api.client.post(reject, headers=second), 422, "validation_error")
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": "ok", "extra": 1}):
        response = world.api.client.post(reject, json=body, headers=second)
        assert_error(response, 422, "validation_error")
    blank = world.api.client.post(reject, json={"reason": "  "}, headers=second)
    assert_error(blank, 422, "invalid_input")
    # A transfer waiting is not a refund: there is no refund to reject.
    not_refund = world.post(item["item_id"], "refund/reject", {"reason": "no"}, second)
    assert_error(not_refund, 409, "suspense_no_refund_requested")
    assert world.get(item["item_id"]).json() == requested.json()

    # Another operator rejects it: held again, the request cleared, the rejection kept.
    response = world.post(item["item_id"], "transfer/reject", {"reason": " owes less "}, second)
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert (rejected["rejected_request"], rejected["rejected_reason"]) == ("transfer", "owes less")
    assert rejected["rejected_by"].startswith("usr_")
    assert rejected["rejected_by"] != item["held_by"]
    assert rejected["rejected_at"] is not None
    assert {k: v for k, v in rejected.items() if k not in REJECTED} == {
        k: v for k, v in item.items() if k not in REJECTED
    }
    assert world.get(item["item_id"]).json() == rejected
    assert world.books() == books
    nothing = world.post(item["item_id"], "transfer/approve", headers=second)
    assert_error(nothing, 409, "suspense_no_transfer_requested")

    # Requested again by the second operator, who withdraws it the same way.
    again = world.post(item["item_id"], "transfer", transfer, second)
    assert again.status_code == 200, again.text
    assert again.json()["transfer_requested_by"] == rejected["rejected_by"]
    assert again.json()["rejected_reason"] == "owes less"  # kept while a new request waits
    withdrawn = world.post(item["item_id"], "transfer/reject", {"reason": "my mistake"}, second)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["transfer_loan_id"]) == ("held", None)
    assert (withdrawn.json()["rejected_reason"], withdrawn.json()["rejected_by"]) == (
        "my mistake",
        rejected["rejected_by"],
    )

    # The latest rejection is the one shown: a refund turned down replaces the transfer's.
    assert world.post(item["item_id"], "refund", {"reason": "wrong payer"}).status_code == 200
    refund_rejected = world.post(item["item_id"], "refund/reject", {"reason": "payer found"})
    assert refund_rejected.status_code == 200, refund_rejected.text
    assert {k: refund_rejected.json()[k] for k in REJECTED[:3]} == {
        "rejected_request": "refund",
        "rejected_reason": "payer found",
        "rejected_by": item["held_by"],
    }

    # Held again, the item is applied to the channel's loan as any held item is.
    applied = world.post(item["item_id"], "apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["repayment"]["receipt_id"] == world.receipt
    assert applied.json()["item"]["rejected_request"] == "refund"
