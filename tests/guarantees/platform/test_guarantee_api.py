"""Guarantees through the API (SQLite and PostgreSQL): roles, named 4xx with nothing changed,
idempotent writes, claims at the trigger only, the exposure report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent.parent.parent / "origination"))
sys.path.insert(0, str(Path(__file__).parent.parent.parent / "web"))

from api_support import build_servicing_api
from tests.guarantees.platform.conftest import (
    AGENCY_USCC,
    draw_loan,
    open_line,
    set_past_due_on,
)

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role

BORROWER = "91350100M000100Y43"
TABLES = ("guarantee_agreements", "guarantee_covers", "guarantee_claims", "journal_entries")


@dataclass
class World:
    client: TestClient
    engine: Engine
    headers: dict[str, dict[str, str]]
    loan_id: str

    def post(self, who: str, path: str, body: Any, key: str | None = None) -> Any:
        headers = dict(self.headers[who])
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(f"/api/v1/guarantees{path}", json=body, headers=headers)

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1/guarantees{path}", headers=self.headers[who])

    def counts(self) -> tuple[int, ...]:
        with self.engine.connect() as connection:
            return tuple(
                int(connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
                for t in TABLES
            )


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path)
    audit_key = b"a" * 32

    def servicing() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=audit_key)  # type: ignore[arg-type]

    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 200_000_00, "d1")
    headers = {
        "risk": api.staff_headers(Role.RISK_OFFICER),
        "ops": api.staff_headers(Role.OPERATIONS),
        "auditor": api.staff_headers(Role.AUDITOR),
        "manager": api.staff_headers(Role.ACCOUNT_MANAGER),
    }
    try:
        yield World(api.client, engine, headers, loan_id)  # type: ignore[arg-type]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


AGREEMENT = {
    "coverage_share": "0.8",
    "fee_rate": "0.01",
    "fee_mode": "at_draw",
    "borrower_cap": "300000",
    "portfolio_cap": "1000000",
    "valid_from": "2026-01-01",
    "valid_to": "2027-12-31",
    "counter_guarantee_waived": True,
}


def _agreement(w: World) -> str:
    agency = w.post("risk", "/agencies", {"name": "国家融资担保基金", "uscc": AGENCY_USCC})
    assert agency.status_code == 201, agency.text
    body = {**AGREEMENT, "agency_id": agency.json()["agency_id"]}
    made = w.post("risk", "/agreements", body, key="agr-1")
    assert made.status_code == 201, made.text
    again = w.post("risk", "/agreements", body, key="agr-1")
    assert again.json().get("agreement_id") == made.json()["agreement_id"], again.text
    other = w.post("risk", "/agreements", {**body, "coverage_share": "0.5"}, key="agr-1")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    return str(made.json()["agreement_id"])


def test_a_covered_loan_is_claimed_at_90_days_paid_and_shown_in_the_exposure(
    world: World,
) -> None:
    w = world
    agreement_id = _agreement(w)
    cover = w.post(
        "ops", "/covers", {"loan_id": w.loan_id, "agreement_id": agreement_id, "on": "2026-02-02"}
    )
    assert cover.status_code == 201, cover.text
    assert cover.json()["covered"] == "160000.00"
    assert cover.json()["fee"]["amount"] == "1005.56"

    set_past_due_on(w.engine, w.loan_id, 60)
    before = w.counts()
    early = w.post("ops", "/claims", {"loan_id": w.loan_id, "on": "2026-06-01"})
    assert early.status_code == 409
    assert early.json()["code"] == "claim_not_triggered"
    assert w.counts() == before

    set_past_due_on(w.engine, w.loan_id, 90)
    run = w.post("ops", "/claims/run", {"as_of": "2026-06-01"})
    assert run.status_code == 200, run.text
    [claim] = run.json()["raised"]
    assert claim["claim"] == "160000.00"
    paid = w.post("ops", f"/claims/{w.loan_id}/pay", {"on": "2026-06-10"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    shared = w.post(
        "ops", f"/claims/{w.loan_id}/recoveries", {"amount": "1000.01", "on": "2026-07-01"}, "r-1"
    )
    assert shared.status_code == 201, shared.text
    assert (shared.json()["agency"], shared.json()["bank"]) == ("800.01", "200.00")

    [agency] = w.get("auditor", "/agencies").json()
    remitted = w.post(
        "ops", f"/agencies/{agency['agency_id']}/remittances", {"on": "2026-07-01"}, "m-1"
    )
    assert remitted.status_code == 201, remitted.text
    assert (remitted.json()["fees"], remitted.json()["recoveries"]) == ("1005.56", "800.01")

    [row] = w.get("auditor", "/exposure").json()
    assert row["loans_covered"] == 1
    assert row["claims_paid"] == "160000.00"
    assert row["fees"] == "1005.56"
    assert row["agency_recovered"] == "800.01"
    assert [c["status"] for c in w.get("auditor", "/claims?status=paid").json()] == ["paid"]


@pytest.mark.parametrize(
    ("who", "path", "body", "code", "status"),
    [
        ("risk", "/agreements", {**AGREEMENT, "coverage_share": "1.5"}, "invalid_agreement", 422),
        ("risk", "/agreements", {**AGREEMENT, "agency_id": "nope"}, "agency_not_found", 404),
        ("risk", "/agreements", {**AGREEMENT, "channel": "pigeon"}, "invalid_agreement", 422),
        ("ops", "/covers", {"loan_id": "nope", "agreement_id": "x"}, "agreement_not_found", 404),
        ("ops", "/claims", {"loan_id": "nope"}, "cover_not_found", 404),
        ("manager", "/agencies", {"name": "x", "uscc": AGENCY_USCC}, "forbidden", 403),
        ("auditor", "/claims/run", {"as_of": "2026-06-01"}, "forbidden", 403),
        ("auditor", "/fees/run", {"as_of": "2026-06-01"}, "forbidden", 403),
        ("ops", "/fees/run", {"as_of": "2026-06-31"}, "validation_error", 422),
    ],
)
def test_bad_input_and_wrong_roles_are_named_4xx_and_change_nothing(
    world: World, who: str, path: str, body: dict[str, Any], code: str, status: int
) -> None:
    agency = world.post("risk", "/agencies", {"name": "担保", "uscc": AGENCY_USCC}).json()
    body = {"agency_id": agency["agency_id"], **body} if path == "/agreements" else body
    before = world.counts()
    answer = world.post(who, path, body, key="bad-1")
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert world.counts() == before


def test_an_agreement_for_a_channel_is_answered_with_it(world: World) -> None:
    agency = world.post("risk", "/agencies", {"name": "担保", "uscc": AGENCY_USCC}).json()
    body = {**AGREEMENT, "agency_id": agency["agency_id"], "channel": "partner"}
    made = world.post("risk", "/agreements", body, key="agr-channel")
    assert made.status_code == 201, made.text
    assert made.json()["channel"] == "partner"


def test_a_cover_above_the_borrower_cap_is_refused(world: World) -> None:
    agency = world.post("risk", "/agencies", {"name": "担保", "uscc": AGENCY_USCC}).json()
    small = {**AGREEMENT, "agency_id": agency["agency_id"], "borrower_cap": "100000"}
    agreement_id = world.post("risk", "/agreements", small, key="agr-small").json()["agreement_id"]
    before = world.counts()
    refused = world.post("ops", "/covers", {"loan_id": world.loan_id, "agreement_id": agreement_id})
    assert refused.status_code == 409
    assert refused.json()["code"] == "borrower_cap_exceeded"
    assert world.counts() == before


def test_the_fee_schedule_collects_the_periods_of_a_periodic_agreement(world: World) -> None:
    w = world
    agency = w.post("risk", "/agencies", {"name": "担保", "uscc": AGENCY_USCC}).json()
    body = {**AGREEMENT, "fee_mode": "periodic", "agency_id": agency["agency_id"]}
    made = w.post("risk", "/agreements", body, key="a")
    covered = w.post(
        "ops",
        "/covers",
        {"loan_id": w.loan_id, "agreement_id": made.json()["agreement_id"], "on": "2026-02-02"},
    )
    assert covered.status_code == 201, covered.text
    run = w.post("ops", "/fees/run", {"as_of": "2026-04-01"})
    assert run.status_code == 200, run.text
    assert [(f["period_from"], f["period_to"]) for f in run.json()] == [
        ("2026-02-02", "2026-03-02"),
        ("2026-03-02", "2026-04-02"),
    ]
    assert w.post("ops", "/fees/run", {"as_of": "2026-04-01"}).json() == []
