"""The loan-change API: roles, four eyes, named refusals that change nothing, replays."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
from api_support import Api, build_servicing_api

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import ProductId
from puhui.services.security.permissions import Role
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import disburse_term_loan
from puhui.web.app import create_app

from .conftest import ENTERPRISE, term_product


@dataclass
class World:
    client: TestClient
    engine: Engine
    clock: FixedClock
    headers: dict[str, dict[str, str]]
    n: int = 0
    product_id: ProductId | None = None

    def post(self, who: str, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        self.n += 1
        sent = {**self.headers[who], "Idempotency-Key": key or f"k-{self.n}"}
        return self.client.post(f"/api/v1{path}", json=body, headers=sent)

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers[who])

    def rows(self) -> tuple[object, ...]:
        with self.engine.connect() as c:
            return tuple(
                tuple(map(tuple, c.execute(text(f"SELECT * FROM {t}")).all()))
                for t in ("loans", "loan_instalments", "loan_changes")
            )

    def loan(self, on: date, term_months: int) -> str:
        """A term loan disbursed through servicing (the API does not disburse term loans)."""

        def factory() -> ServicingUnitOfWork:
            return ServicingUnitOfWork(self.engine, clock=self.clock, audit_key=b"a" * 32)

        if self.product_id is None:
            self.product_id = create_product(factory, term_product(), actor="ops")
        self.n += 1
        return disburse_term_loan(
            factory,
            enterprise_id=ENTERPRISE,
            product_id=self.product_id,
            principal_fen=60_000_00,
            annual_rate=Decimal("0.0435"),
            term_months=term_months,
            on=on,
            idempotency_key=f"loan-{self.n}",
            actor="ops",
        ).loan_id


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path)
    client = TestClient(create_app(api.deps), raise_server_exceptions=False)
    wired = Api(client, api.deps, api.sender, api.assessor, api.opener, clock)  # type: ignore[attr-defined]
    headers = {
        "manager": wired.staff_headers(Role.ACCOUNT_MANAGER),
        "risk": wired.staff_headers(Role.RISK_OFFICER),
        "approver": wired.staff_headers(Role.APPROVER),
        "auditor": wired.staff_headers(Role.AUDITOR),
        "owner": wired.applicant_headers("13800000009"),
    }
    yield World(client, engine, clock, headers)  # type: ignore[arg-type]
    client.close()


TODAY = date(2026, 3, 2)  # the clock fixture's business date


def test_extension_requested_by_one_and_approved_by_another(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    body = {"extension_months": 6, "reason": "longer sales cycle"}
    requested = world.post("risk", f"/loans/{loan_id}/extensions", body, key="ext")
    assert requested.status_code == 201, requested.text
    change = requested.json()
    assert (change["kind"], change["status"]) == ("extension", "requested")
    replay = world.post("risk", f"/loans/{loan_id}/extensions", body, key="ext")
    assert replay.json()["change_id"] == change["change_id"]
    (queued,) = world.get("approver", "/loan-changes").json()
    assert queued["change_id"] == change["change_id"]
    assert queued["loan_today"] == {  # the loan as the approver decides on it
        "outstanding_principal": "60000.00",
        "past_due_principal": "0.00",
        "past_due_interest": "0.00",
        "penalty": "0.00",
        "days_past_due": 0,
        "category": "pass",
        "status": "active",
    }

    before = world.rows()
    own = world.post("risk", f"/loan-changes/{change['change_id']}/approve", {})
    assert own.status_code == 409
    assert own.json()["code"] == "four_eyes_violation"
    assert world.rows() == before

    approved = world.post("approver", f"/loan-changes/{change['change_id']}/approve", {})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["maturity_before"] == "2027-02-10"
    assert approved.json()["maturity_after"] == "2027-08-10"
    history = world.get("manager", f"/loans/{loan_id}/changes").json()
    assert [(c["kind"], c["status"]) for c in history] == [("extension", "approved")]


def test_named_refusals_change_nothing(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 24)
    before = world.rows()
    beyond = world.post(
        "manager", f"/loans/{loan_id}/extensions", {"extension_months": 13, "reason": "x"}
    )
    assert beyond.status_code == 422
    assert beyond.json()["code"] == "extension_beyond_policy"
    forbidden = world.post(
        "auditor", f"/loans/{loan_id}/extensions", {"extension_months": 1, "reason": "x"}
    )
    assert forbidden.status_code == 403
    cannot_approve = world.post("manager", "/loan-changes/chg_missing/approve", {})
    assert cannot_approve.status_code == 403
    missing = world.post("approver", "/loan-changes/chg_missing/approve", {})
    assert missing.status_code == 404
    assert world.rows() == before


def test_renewal_of_a_loan_in_arrears_is_refused_and_a_good_one_renewed(world: World) -> None:
    in_arrears = world.loan(date(2026, 2, 20), 1)
    good = world.loan(date(2026, 2, 20), 1)
    with world.engine.begin() as c:
        c.execute(
            text("UPDATE loans SET days_past_due = 5, overdue_since = :d WHERE loan_id = :l"),
            {"d": date(2026, 2, 25), "l": in_arrears},
        )
    before = world.rows()
    body = {"term_months": 12, "reason": "good standing"}
    refused = world.post("manager", f"/loans/{in_arrears}/renewals", body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "loan_in_arrears"
    assert world.rows() == before

    renewed = world.post("manager", f"/loans/{good}/renewals", body)
    assert renewed.status_code == 200, renewed.text
    out = renewed.json()
    assert (out["decision"], out["principal"], out["starts_on"]) == (
        "approved",
        "60000.00",
        "2026-03-20",
    )
    classified = world.get("risk", f"/loans/{out['new_loan_id']}/classification").json()
    assert classified["category"] == "pass"
    assert classified["renewed_from"] == good


def test_restructuring_through_the_api_is_classified_special_mention(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    requested = world.post(
        "manager", f"/loans/{loan_id}/restructurings", {"new_term_months": 24, "reason": "x"}
    )
    assert requested.status_code == 201, requested.text
    change_id = requested.json()["change_id"]
    assert world.post("approver", f"/loan-changes/{change_id}/approve", {}).status_code == 200
    classified = world.get("risk", f"/loans/{loan_id}/classification")
    assert classified.status_code == 200
    assert classified.json()["category"] == "special-mention"
    assert classified.json()["observation_ends_on"] == "2027-03-10"
    assert world.get("auditor", f"/loans/{loan_id}/classification").status_code == 200
    assert world.get("owner", f"/loans/{loan_id}/classification").status_code == 403


def test_a_restructuring_with_a_new_rate_reports_it_and_a_bad_rate_is_named(
    world: World,
) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    before = world.rows()
    for rate, code in (("0.5", "rate_out_of_range"), ("4.35", "validation_error")):
        body = {"new_term_months": 24, "reason": "x", "new_annual_rate": rate}
        refused = world.post("manager", f"/loans/{loan_id}/restructurings", body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code
    assert world.rows() == before
    body = {"new_term_months": 24, "reason": "x", "new_annual_rate": "0.0385"}
    requested = world.post("manager", f"/loans/{loan_id}/restructurings", body)
    assert requested.status_code == 201, requested.text
    assert requested.json()["new_annual_rate"] == "0.0385"
    approved = world.post("approver", f"/loan-changes/{requested.json()['change_id']}/approve", {})
    assert approved.status_code == 200, approved.text
    (change,) = world.get("risk", f"/loans/{loan_id}/changes").json()
    assert change["new_annual_rate"] == "0.0385"


def test_a_rejected_change_says_who_rejected_it_when_and_why(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    body = {"extension_months": 3, "reason": "longer sales cycle"}
    change = world.post("risk", f"/loans/{loan_id}/extensions", body).json()
    path = f"/loan-changes/{change['change_id']}/reject"
    assert world.post("manager", path, {"reason": "no"}).status_code == 403
    before = world.rows()
    blank = world.post("approver", path, {"reason": ""})
    assert blank.status_code == 422
    assert world.rows() == before

    rejected = world.post("approver", path, {"reason": "sales are not seasonal"}, key="rej")
    assert rejected.status_code == 200, rejected.text
    expected = {
        "status": "rejected",
        "rejected_by": rejected.json()["rejected_by"],
        "rejected_at": world.clock.now().isoformat().replace("+00:00", "Z"),
        "rejection_reason": "sales are not seasonal",
    }
    assert expected["rejected_by"].startswith("approver:usr_")  # the approver, by role and id
    assert {k: rejected.json()[k] for k in expected} == expected
    (history,) = world.get("manager", f"/loans/{loan_id}/changes").json()
    assert {k: history[k] for k in expected} == expected
    assert history["approved_by"] is None
    replayed = world.post("approver", path, {"reason": "sales are not seasonal"}, key="rej")
    assert {k: replayed.json()[k] for k in expected} == expected
