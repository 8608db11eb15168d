"""The partner API: roles, named refusals that change nothing, the decision callback, files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))
sys.path.insert(0, str(Path(__file__).parent.parent / "web"))

from api_support import build_servicing_api

from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role

AGREEMENT = {
    "agreement_id": "AG1",
    "partner_id": "P1",
    "partner_name": "Partner Bank",
    "kind": "joint-lending",
    "funding_share": "0.3",
    "approver": "both",
    "max_outstanding": "1000000",
    "valid_from": "2026-01-01",
    "valid_to": "2027-12-31",
}


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    n: int = 0

    def post(self, who: str, path: str, body: Any, key: str | None = None) -> Any:
        self.n += 1
        sent = {**self.headers[who], "Idempotency-Key": key or f"k-{self.n}"}
        return self.client.post(f"/api/v1/partners{path}", json=body, headers=sent)

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1/partners{path}", headers=self.headers[who])


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path)
    headers = {
        "risk": api.staff_headers(Role.RISK_OFFICER),
        "approver": api.staff_headers(Role.APPROVER),
        "ops": api.staff_headers(Role.OPERATIONS),
        "partner": api.partner_headers("P1"),
        "other": api.partner_headers("P2"),
        "applicant": api.applicant_headers(),
    }
    try:
        yield World(api.client, headers)
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _active(w: World) -> None:
    assert w.post("risk", "/agreements", AGREEMENT).status_code == 201
    assert w.post("risk", "/agreements/AG1/activate", {}).json()["status"] == "active"


def test_an_agreement_is_created_activated_and_read_by_role(world: World) -> None:
    w = world
    created = w.post("risk", "/agreements", AGREEMENT)
    assert created.status_code == 201, created.text
    assert created.json()["max_outstanding"] == "1000000.00"
    assert w.post("risk", "/agreements", AGREEMENT).status_code == 201  # a retry: same terms
    changed = w.post("risk", "/agreements", {**AGREEMENT, "funding_share": "0.4"})
    assert changed.status_code == 409
    assert changed.json()["code"] == "agreement_exists"
    assert w.post("approver", "/agreements/AG1/activate", {}).status_code == 403
    assert w.post("risk", "/agreements/AG1/activate", {}).json()["status"] == "active"
    assert [a["agreement_id"] for a in w.get("partner", "/agreements").json()] == ["AG1"]
    assert w.get("other", "/agreements").json() == []
    assert w.get("other", "/agreements/AG1").status_code == 403
    assert w.get("applicant", "/agreements").status_code == 403


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"funding_share": "0.8"}, "bank_share_below_minimum"),
        ({"funding_share": "0"}, "invalid_agreement"),
        ({"valid_to": "2025-01-01"}, "invalid_agreement"),
        ({"kind": "facilitation"}, "invalid_agreement"),
    ],
)
def test_bad_terms_are_a_named_422_and_nothing_is_stored(
    world: World, change: dict[str, str], code: str
) -> None:
    refused = world.post("risk", "/agreements", {**AGREEMENT, **change})
    assert refused.status_code == 422
    assert refused.json()["code"] == code
    assert world.get("risk", "/agreements").json() == []


def test_only_managers_create_agreements(world: World) -> None:
    assert world.post("ops", "/agreements", AGREEMENT).status_code == 403
    assert world.post("partner", "/agreements", AGREEMENT).status_code == 403


def test_the_partner_posts_its_decision_once_through_the_callback(world: World) -> None:
    _active(world)
    body = {"application_id": "app_1", "decision": "approve", "reason": "score 720"}
    assert world.post("partner", "/agreements/AG1/decisions", body).json()["decision"] == "approve"
    assert world.post("partner", "/agreements/AG1/decisions", body).status_code == 200
    other = world.post("partner", "/agreements/AG1/decisions", {**body, "decision": "decline"})
    assert other.status_code == 409
    assert other.json()["code"] == "decision_already_recorded"
    assert world.post("other", "/agreements/AG1/decisions", body).status_code == 403


def test_tying_an_unknown_loan_is_404_and_a_draft_agreement_409(world: World) -> None:
    assert world.post("risk", "/agreements", AGREEMENT).status_code == 201
    link = {"loan_id": "loan_X", "on": "2026-03-02"}
    draft = world.post("ops", "/agreements/AG1/loans", link)
    assert draft.status_code == 409
    assert draft.json()["code"] == "agreement_not_active"
    world.post("risk", "/agreements/AG1/activate", {})
    missing = world.post("ops", "/agreements/AG1/loans", link)
    assert missing.status_code == 404
    assert missing.json()["code"] == "loan_not_found"


def test_settlement_file_reconciliation_and_position(world: World) -> None:
    _active(world)
    settled = world.post("ops", "/settlements", {"on": "2026-03-02"})
    assert settled.status_code == 200, settled.text
    assert settled.json()[0]["rows"] == 0
    assert world.post("partner", "/settlements", {"on": "2026-03-02"}).status_code == 403
    csv_file = world.get("partner", "/agreements/AG1/settlement-file?on=2026-03-02")
    assert csv_file.status_code == 200
    assert csv_file.text.startswith("settled_on,agreement_id,loan_id,component,")
    theirs = csv_file.text + "2026-03-02,AG1,loan_X,interest,10.00,3.00,7.00\n"
    result = world.post(
        "partner", "/agreements/AG1/reconciliations?on=2026-03-02", {"file": theirs}
    )
    assert result.json() == {
        "agreement_id": "AG1",
        "settled_on": "2026-03-02",
        "agrees": False,
        "differences": [
            {"loan_id": "loan_X", "component": "interest", "ours": None, "theirs": "3.00"}
        ],
    }
    bad = world.post("partner", "/agreements/AG1/reconciliations?on=2026-03-02", {"file": "x"})
    assert bad.status_code == 422
    assert world.get("risk", "/agreements/AG1/position").json()["principal_outstanding"] == "0.00"


def test_a_write_needs_a_key_and_a_key_reused_for_another_body_is_409(world: World) -> None:
    w = world
    bare = w.client.post("/api/v1/partners/agreements", json=AGREEMENT, headers=w.headers["risk"])
    assert bare.status_code == 422
    assert w.post("risk", "/agreements", AGREEMENT, key="same").status_code == 201
    assert w.post("risk", "/agreements", AGREEMENT, key="same").status_code == 201
    other = {**AGREEMENT, "agreement_id": "AG2"}
    reused = w.post("risk", "/agreements", other, key="same")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_conflict"
    assert [a["agreement_id"] for a in w.get("risk", "/agreements").json()] == ["AG1"]


def test_routing_runs_for_operations_only_and_answers_per_agreement(world: World) -> None:
    _active(world)
    routed = world.post("ops", "/routing", {"on": "2026-03-02"})
    assert routed.status_code == 200, routed.text
    assert routed.json() == [
        {"agreement_id": "AG1", "on": "2026-03-02", "linked": [], "not_linked": {}}
    ]
    assert world.post("partner", "/routing", {"on": "2026-03-02"}).status_code == 403
    assert world.post("ops", "/routing", {"on": "2026-02-30"}).status_code == 422


def test_the_partners_queue_is_its_own_to_read(world: World) -> None:
    _active(world)
    path = "/agreements/AG1/awaiting-decisions?on=2026-03-02"
    assert world.get("partner", path).json() == []  # no customer's loan waits yet
    assert world.get("ops", path).status_code == 200
    assert world.get("other", path).status_code == 403
    assert world.get(
        "partner", "/agreements/NOPE/awaiting-decisions?on=2026-03-02"
    ).status_code == (404)
    bad_day = world.get("partner", "/agreements/AG1/awaiting-decisions?on=2026-02-30")
    assert bad_day.status_code == 422


@pytest.mark.parametrize(
    "written", [0, 1788220800, "1788220800", "20260302", "2026-03-02T00:00:00"]
)
def test_a_date_written_as_a_number_or_a_time_is_refused_and_nothing_is_stored(
    world: World, written: object
) -> None:
    # pydantic alone reads 0 as 1970-01-01: an agreement "valid from 1970" was accepted.
    refused = world.post("risk", "/agreements", {**AGREEMENT, "valid_from": written})
    assert refused.status_code == 422, refused.text
    assert "valid_from" in str(refused.json()["details"])
    assert world.get("risk", "/agreements").json() == []
    _active(world)
    for path in ("/routing", "/settlements"):
        routed = world.post("ops", path, {"on": written})
        assert routed.status_code == 422, routed.text
        assert "on" in str(routed.json()["details"])
