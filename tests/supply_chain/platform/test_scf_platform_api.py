"""The supply-chain API: the life of a voucher, named refusals that change nothing, replays
and the enterprise bindings."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent.parent / "origination"))
sys.path.insert(0, str(Path(__file__).parent.parent.parent / "web"))

from api_support import Api, build_servicing_api
from scf_support import (
    CORE,
    DECLINED,
    LARGE,
    STRANGER,
    SUPPLIER,
    TIER2,
    TIER3,
    FakePolicy,
    FakeSource,
)
from sqlalchemy import Engine, func, select

from puhui.adapters.db.servicing.tables import journal_entries
from puhui.adapters.db.supply_chain.tables import (
    payables,
    voucher_financings,
    voucher_transfers,
    vouchers,
)
from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.bootstrap.supply_chain import supply_chain_service_on
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role
from puhui.web.app import create_app


@dataclass
class World:
    client: TestClient
    engine: Engine
    clock: FixedClock
    headers: dict[str, dict[str, str]]
    n: int = 0

    def post(
        self, who: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> Any:
        self.n += 1
        sent = {**self.headers[who], "Idempotency-Key": key or f"k-{self.n}"}
        return self.client.post(f"/api/v1{path}", json=body, headers=sent)

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers[who])

    def counts(self) -> tuple[int, ...]:
        with self.engine.connect() as c:
            return tuple(
                int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (
                    vouchers,
                    voucher_transfers,
                    voucher_financings,
                    payables,
                    journal_entries,
                )
            )


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path)
    service = supply_chain_service_on(
        engine,  # type: ignore[arg-type]
        clock=clock,
        audit_key=b"a" * 32,
        source=FakeSource(),
        policy=FakePolicy(),
    )
    client = TestClient(
        create_app(replace(api.deps, supply_chain=service)), raise_server_exceptions=False
    )
    wired = Api(client, api.deps, api.sender, api.assessor, api.opener, clock)  # type: ignore[attr-defined]
    headers = {
        "risk": wired.staff_headers(Role.RISK_OFFICER),
        "approver": wired.staff_headers(Role.APPROVER),
        "ops": wired.staff_headers(Role.OPERATIONS),
        "auditor": wired.staff_headers(Role.AUDITOR),
    }
    for name, phone in (
        ("core", "13800000001"),
        ("supplier", "13800000002"),
        ("tier2", "13800000003"),
    ):
        headers[name] = wired.applicant_headers(phone)
    world = World(client, engine, clock, headers)  # type: ignore[arg-type]
    for name, uscc in (("core", CORE), ("supplier", SUPPLIER), ("tier2", TIER2)):
        me = world.get(name, "/me").json()["user_id"]
        assert (
            world.client.post(
                "/api/v1/enterprise-users",
                json={"user_id": me, "uscc": uscc},
                headers=headers["risk"],
            ).status_code
            == 204
        )
    try:
        yield world
    finally:
        client.close()
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _onboard(w: World) -> None:
    made = w.post("risk", "/core-enterprises", {"uscc": CORE, "requested": "5000000.00"})
    assert made.status_code == 201, made.text
    assert made.json()["limit"] == "5000000.00"
    assert (
        w.post(
            "risk",
            f"/core-enterprises/{CORE}/partners",
            {"partner": SUPPLIER, "relation": "supplier"},
        ).status_code
        == 201
    )


def _issue(w: World, maturity: str = "2026-05-31") -> str:
    payable = w.post(
        "core",
        f"/core-enterprises/{CORE}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2026-01", "amount": "1000000.00"},
    )
    assert payable.status_code == 201, payable.text
    issued = w.post(
        "core",
        "/vouchers",
        {"core": CORE, "payable_id": payable.json()["payable_id"], "maturity": maturity},
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["status"] == "pending"
    voucher_id: str = issued.json()["voucher_id"]
    assert w.post("supplier", f"/vouchers/{voucher_id}/accept").status_code == 200
    return voucher_id


def test_a_voucher_lives_through_the_api_and_the_books_balance(world: World) -> None:
    w = world
    _onboard(w)
    root = _issue(w)
    split = w.post("supplier", f"/vouchers/{root}/split", {"parts": ["600000.00", "400000"]})
    assert split.status_code == 200, split.text
    first, second = (c["voucher_id"] for c in split.json()["children"])
    moved = w.post("supplier", f"/vouchers/{first}/transfer", {"to": TIER2})
    assert moved.json()["tier"] == 2
    asked = w.post("tier2", f"/vouchers/{first}/finance")
    assert asked.status_code == 201, asked.text
    queue = w.get("approver", "/voucher-financings").json()
    assert [f["voucher_id"] for f in queue] == [first]
    done = w.post("approver", f"/voucher-financings/{asked.json()['financing_id']}/approve")
    assert done.status_code == 200, done.text
    # 600,000 x 3.6% x 90 days / 360 = 5,400.00; fee 600,000 x 0.1% = 600.00.
    assert (done.json()["days"], done.json()["interest"], done.json()["fee"]) == (
        90,
        "5400.00",
        "600.00",
    )
    assert done.json()["proceeds"] == "594000.00"
    facility = w.get("risk", f"/core-enterprises/{CORE}").json()
    assert (facility["outstanding"], facility["financed"], facility["by_tier"]) == (
        "1000000.00",
        "600000.00",
        {"1": "400000.00", "2": "600000.00"},
    )
    earned = w.post("ops", "/vouchers/earn", {"through": "2026-03-02"})
    assert earned.status_code == 200, earned.text
    # 5,400.00 of interest over 90 days: the financing day itself earned 60.00.
    assert (earned.json()["financings"], earned.json()["earned"]) == (1, "60.00")
    too_soon = w.post("ops", "/vouchers/earn", {"through": "2026-03-03"})
    assert too_soon.status_code == 422, too_soon.text
    run = w.post("ops", "/vouchers/settle", {"on": "2026-05-31"})
    assert run.status_code == 200, run.text
    assert (run.json()["settled"], run.json()["to_bank"], run.json()["to_holders"]) == (
        2,
        "600000.00",
        "400000.00",
    )
    tree = w.get("auditor", f"/vouchers/{second}").json()
    assert {v["status"] for v in tree["vouchers"]} == {"split", "settled"}
    with SupplyChainUnitOfWork(w.engine, clock=w.clock, audit_key=b"a" * 32) as uow:
        import datetime as dt

        assert sum(uow.ledger.trial_balance(dt.date(2026, 6, 1)).balances_fen.values()) == 0


BAD = [
    # (who, path template, body, status, code)
    ("supplier", "/vouchers/{root}/split", {"parts": ["1.00", "2.00"]}, 422, "split_does_not_sum"),
    (
        "supplier",
        "/vouchers/{root}/split",
        {"parts": ["0.00", "1000000.00"]},
        422,
        "invalid_split_part",
    ),
    (
        "supplier",
        "/vouchers/{root}/split",
        {"parts": ["-1.00", "1000001.00"]},
        422,
        "invalid_split_part",
    ),
    ("supplier", "/vouchers/{root}/transfer", {"to": SUPPLIER}, 422, "transfer_to_self"),
    (
        "supplier",
        "/vouchers/{root}/transfer",
        {"to": "91330100MA2NOBODY0"},
        404,
        "unknown_enterprise",
    ),
    ("supplier", "/vouchers/{root}/transfer", {"to": STRANGER}, 422, "not_a_supplier"),
    ("supplier", "/vouchers/{root}/transfer", {"to": TIER3}, 422, "not_a_supplier"),
    ("tier2", "/vouchers/{root}/finance", None, 403, "not_bound_to_enterprise"),
    (
        "core",
        "/vouchers",
        {"core": CORE, "payable_id": "{payable}", "maturity": "2026-03-01"},
        422,
        "maturity_before_issue",
    ),
    (
        "core",
        "/vouchers",
        {"core": CORE, "payable_id": "{used}", "maturity": "2026-06-30"},
        409,
        "invoice_already_used",
    ),
    (
        "core",
        "/vouchers",
        {"core": CORE, "payable_id": "{payable}", "maturity": "2027-06-30"},
        422,
        "maturity_beyond_term",
    ),
    (
        "core",
        "/core-enterprises/{core}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2026-03", "amount": "250000.01"},
        422,
        "invoice_mismatch",
    ),
    (
        "core",
        "/core-enterprises/{core}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2025-12", "amount": "1.00"},
        422,
        "invoice_mismatch",
    ),
    (
        "core",
        "/core-enterprises/{core}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2026-01", "amount": "1000000.00"},
        409,
        "invoice_already_used",
    ),
    (
        "core",
        "/core-enterprises/{core}/payables",
        {"supplier": TIER2, "invoice_month": "2026-01", "amount": "1.00"},
        422,
        "not_named_supplier",
    ),
    ("risk", "/core-enterprises", {"uscc": LARGE, "requested": "100.00"}, 422, "core_not_eligible"),
    (
        "risk",
        "/core-enterprises",
        {"uscc": DECLINED, "requested": "100.00"},
        422,
        "facility_declined",
    ),
    ("supplier", "/vouchers/{root}/accept", None, 409, "voucher_not_pending"),
]


@pytest.mark.parametrize(
    ("who", "path", "body", "status", "code"),
    BAD,
    ids=[b[4] + "-" + str(i) for i, b in enumerate(BAD)],
)
def test_bad_input_is_a_named_4xx_and_changes_nothing(
    world: World, who: str, path: str, body: dict[str, Any] | None, status: int, code: str
) -> None:
    w = world
    _onboard(w)
    root = _issue(w)
    used = w.get("core", f"/core-enterprises/{CORE}/payables").json()[0]["payable_id"]
    february = w.post(
        "core",
        f"/core-enterprises/{CORE}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2026-02", "amount": "500000.00"},
    )
    before = w.counts()
    names = {"root": root, "payable": february.json()["payable_id"], "used": used, "core": CORE}
    sent = (
        None
        if body is None
        else {k: (v.format(**names) if isinstance(v, str) else v) for k, v in body.items()}
    )
    answer = w.post(who, path.format(**names), sent)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert w.counts() == before
    assert w.get("risk", f"/vouchers/{root}").json()["voucher"]["status"] == "outstanding"


def test_facility_exceeded_and_frozen_refuse_the_issue(world: World) -> None:
    w = world
    made = w.post("risk", "/core-enterprises", {"uscc": CORE, "requested": "999999.99"})
    assert made.status_code == 201
    w.post(
        "risk", f"/core-enterprises/{CORE}/partners", {"partner": SUPPLIER, "relation": "supplier"}
    )
    payable = w.post(
        "core",
        f"/core-enterprises/{CORE}/payables",
        {"supplier": SUPPLIER, "invoice_month": "2026-01", "amount": "1000000.00"},
    ).json()["payable_id"]
    before = w.counts()
    over = w.post(
        "core", "/vouchers", {"core": CORE, "payable_id": payable, "maturity": "2026-05-01"}
    )
    assert (over.status_code, over.json()["code"]) == (409, "facility_exceeded")
    assert (
        w.post("risk", f"/core-enterprises/{CORE}/freeze", {"reason": "review"}).status_code == 200
    )
    frozen = w.post(
        "core", "/vouchers", {"core": CORE, "payable_id": payable, "maturity": "2026-05-01"}
    )
    assert (frozen.status_code, frozen.json()["code"]) == (409, "facility_frozen")
    assert w.counts() == before


def test_replay_and_reused_key(world: World) -> None:
    w = world
    _onboard(w)
    root = _issue(w)
    first = w.post(
        "supplier", f"/vouchers/{root}/split", {"parts": ["1.00", "999999.00"]}, key="same"
    )
    again = w.post(
        "supplier", f"/vouchers/{root}/split", {"parts": ["1.00", "999999.00"]}, key="same"
    )
    assert again.json() == first.json()
    other = w.post(
        "supplier", f"/vouchers/{root}/split", {"parts": ["2.00", "999998.00"]}, key="same"
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    missing = w.client.post(f"/api/v1/vouchers/{root}/accept", headers=w.headers["supplier"])
    assert missing.status_code == 422


ROLES = [
    # (who, method, path, allowed)
    ("risk", "POST", "/core-enterprises", True),
    ("approver", "POST", "/core-enterprises", False),
    ("supplier", "POST", "/core-enterprises", False),
    ("auditor", "GET", "/vouchers", True),
    ("ops", "POST", "/vouchers/settle", True),
    ("approver", "POST", "/vouchers/settle", False),
    ("risk", "POST", "/vouchers/settle", False),
    ("ops", "POST", "/vouchers/earn", True),
    ("supplier", "POST", "/vouchers/earn", False),
    ("auditor", "POST", "/vouchers/{root}/finance", False),
    ("risk", "POST", "/vouchers/{root}/split", False),
    ("supplier", "GET", "/voucher-financings", False),
    ("ops", "GET", "/voucher-financings", True),
    ("core", "POST", "/vouchers/{root}/accept", False),
    ("supplier", "POST", "/core-enterprises/{core}/freeze", False),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "allowed"), ROLES, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in ROLES]
)
def test_role_matrix(world: World, who: str, method: str, path: str, allowed: bool) -> None:
    w = world
    _onboard(w)
    root = _issue(w)
    bodies = {
        "/core-enterprises": {"uscc": "91330100MA2SUPP01X", "requested": "1.00"},
        "/vouchers/settle": {"on": "2026-03-02"},
        "/vouchers/earn": {"through": "2026-03-02"},
        "/vouchers/{root}/split": {"parts": ["1.00", "999999.00"]},
        "/core-enterprises/{core}/freeze": {"reason": "x"},
    }
    url = f"/api/v1{path.format(root=root, core=CORE)}"
    answer = w.client.request(
        method, url, json=bodies.get(path), headers={**w.headers[who], "Idempotency-Key": "role"}
    )
    assert (answer.status_code == 403) is not allowed, answer.text
