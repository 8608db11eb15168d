"""Statements and the receipts of a line over HTTP: reconciled, paginated, owners only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, build_servicing_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from origination_fakes import OTHER_PHONE
from test_api_flow import assert_error
from test_servicing_api import open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Permission, Role


class World:
    """The API on one database, with the end of day at hand to move the business date."""

    def __init__(self, api: Api, engine: Any) -> None:
        self.api = api
        self.store = SqlEndOfDayStore(engine, clock=api.clock)

    def close_through(self, last: date) -> None:
        """Close each business day up to ``last``; the clock then stands on the day after."""
        while self.api.clock.today() <= last:
            run_end_of_day(self.store, self.api.clock.today())
            self.api.clock.advance(timedelta(days=1))


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield World(api, engine)
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _post(api: Api, url: str, body: dict[str, Any], headers: dict[str, str], key: str) -> Any:
    response = api.client.post(url, json=body, headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return response.json()


def _get(api: Api, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = api.client.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _plus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a[k] + b[k] for k in ("principal_fen", "interest_fen", "penalty_fen", "total_fen")}


def test_owner_reads_a_statement_that_reconciles_and_the_receipts_with_dpd(world: World) -> None:
    api = world.api
    line_id, owner = open_line(api)  # today is 2026-03-02
    draws = f"/api/v1/credit-lines/{line_id}/draws"
    long = _post(api, draws, {"amount_fen": 5_000_000, "maturity_date": "2026-09-01"}, owner, "d1")
    short = _post(api, draws, {"amount_fen": 1_000_000, "maturity_date": "2026-03-05"}, owner, "d2")
    world.close_through(date(2026, 3, 9))
    owner = api.applicant_headers()  # tokens are short-lived: sign in again on a later day
    paid = _post(
        api,
        f"/api/v1/receipts/{long['receipt_id']}/repayments",
        {"amount_fen": 1_000_000},
        owner,
        "r1",
    )
    world.close_through(date(2026, 3, 20))
    owner = api.applicant_headers()

    url = f"/api/v1/credit-lines/{line_id}/statements"
    march = _get(api, url, owner, period="2026-03")
    assert (march["period_start"], march["period_end"]) == ("2026-02-21", "2026-03-20")
    assert march["final"] is True
    assert march["opening"]["total_fen"] == 0
    kinds = [(m["kind"], m["receipt_id"]) for m in march["movements"]]
    assert kinds[:2] == [("draw", long["receipt_id"]), ("draw", short["receipt_id"])]
    repayment = next(m for m in march["movements"] if m["kind"] == "repayment")
    assert (repayment["on"], repayment["amount_fen"]) == ("2026-03-10", 1_000_000)
    assert (repayment["label_zh"], repayment["label_en"]) == ("还款", "repayment")
    assert repayment["change"]["principal_fen"] == -paid["principal_fen"]
    assert repayment["change"]["interest_fen"] == -paid["interest_fen"]
    net = march["opening"]
    for movement in march["movements"]:
        net = _plus(net, movement["change"])
    assert net == march["closing"]
    assert _plus(march["opening"], march["totals"]["net_change"]) == march["closing"]
    assert march["closing"]["principal_fen"] == 6_000_000 - paid["principal_fen"]
    assert march["closing"]["penalty_fen"] > 0, "the short receipt is overdue since 03-06"
    assert march["due"]["principal_fen"] == 1_000_000
    assert march["due"]["due_date"] == "2026-03-21"
    assert march["due"]["total_fen"] == (
        1_000_000 + march["closing"]["interest_fen"] + march["closing"]["penalty_fen"]
    )

    april = _get(api, url, owner, period="2026-04")
    assert april["final"] is False
    assert april["opening"] == march["closing"]

    receipts = _get(api, f"/api/v1/credit-lines/{line_id}/receipts", owner)
    assert [r["receipt_id"] for r in receipts] == [long["receipt_id"], short["receipt_id"]]
    overdue = receipts[1]
    assert overdue["status"] == "active"
    assert overdue["maturity_date"] == "2026-03-05"
    assert overdue["days_past_due"] == 15
    assert overdue["outstanding_principal_fen"] == 1_000_000
    assert receipts[0]["days_past_due"] == 0
    assert receipts[0]["outstanding_principal_fen"] == 5_000_000 - paid["principal_fen"]
    page = _get(api, f"/api/v1/credit-lines/{line_id}/receipts", owner, limit=1, offset=1)
    assert [r["receipt_id"] for r in page] == [short["receipt_id"]]


def test_statement_periods_are_validated_and_lines_are_private(world: World) -> None:
    api = world.api
    line_id, owner = open_line(api)
    url = f"/api/v1/credit-lines/{line_id}/statements"
    for bad in ("2026-13", "2026-3", "March", "2026-03-01", ""):
        assert_error(api.client.get(url, params={"period": bad}, headers=owner), 422)
    assert_error(api.client.get(url, headers=owner), 422, "validation_error")
    assert_error(
        api.client.get(url, params={"period": "2026-05"}, headers=owner), 422, "invalid_date"
    )
    assert_error(
        api.client.get(url, params={"period": "2025-12"}, headers=owner), 422, "invalid_date"
    )
    assert_error(
        api.client.get(
            "/api/v1/credit-lines/line_nope/statements", params={"period": "2026-03"}, headers=owner
        ),
        404,
    )
    stranger = api.applicant_headers(OTHER_PHONE)
    partner = api.partner_headers("channel-9", extra=(Permission.LINE_READ,))
    receipts = f"/api/v1/credit-lines/{line_id}/receipts"
    for headers in (stranger, partner):
        assert_error(api.client.get(url, params={"period": "2026-03"}, headers=headers), 404)
        assert_error(api.client.get(receipts, headers=headers), 404)
    ops = api.staff_headers(Role.OPERATIONS)
    assert api.client.get(url, params={"period": "2026-03"}, headers=ops).status_code == 200
    assert api.client.get(receipts, headers=ops).json() == []
    assert_error(api.client.get(receipts, params={"limit": 0}, headers=ops), 422)
    assert_error(api.client.get(receipts, params={"offset": -1}, headers=ops), 422)


FIXED_NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def fuzz_line(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Api, str, dict[str, str]]]:
    clock = FixedClock(FIXED_NOW)
    url = f"sqlite:///{tmp_path_factory.mktemp('statements') / 'puhui.db'}"
    api, engine = build_servicing_api(url, clock, tmp_path_factory.mktemp("models"))
    line_id, owner = open_line(api)
    api.client.post(
        f"/api/v1/credit-lines/{line_id}/draws",
        json={"amount_fen": 1_000_000, "maturity_date": "2026-06-01"},
        headers={**owner, "Idempotency-Key": "fuzz-draw"},
    )
    yield api, line_id, owner
    api.client.close()
    engine.dispose()  # type: ignore[attr-defined]


QUERY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    period=st.one_of(
        QUERY_TEXT,
        st.builds("{:04d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 13)),
    ),
    limit=st.one_of(QUERY_TEXT, st.integers(-5, 1_000).map(str)),
    offset=st.one_of(QUERY_TEXT, st.integers(-5, 20_000_000).map(str)),
)
def test_any_period_limit_or_offset_on_a_real_line_is_answered_below_500(
    fuzz_line: tuple[Api, str, dict[str, str]], period: str, limit: str, offset: str
) -> None:
    api, line_id, owner = fuzz_line
    for response in (
        api.client.get(
            f"/api/v1/credit-lines/{line_id}/statements", params={"period": period}, headers=owner
        ),
        api.client.get(
            f"/api/v1/credit-lines/{line_id}/receipts",
            params={"limit": limit, "offset": offset},
            headers=owner,
        ),
    ):
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.status_code == 422, response.text
            assert set(response.json()) == {"code", "message", "details"}


def test_both_endpoints_are_published_so_the_openapi_fuzzer_walks_them(
    fuzz_line: tuple[Api, str, dict[str, str]],
) -> None:
    paths = fuzz_line[0].client.get("/api/v1/openapi.json").json()["paths"]
    statement = paths["/api/v1/credit-lines/{line_id}/statements"]["get"]
    period = next(p for p in statement["parameters"] if p["name"] == "period")
    assert period["required"] is True
    assert period["schema"]["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
    receipts = paths["/api/v1/credit-lines/{line_id}/receipts"]["get"]
    assert {p["name"] for p in receipts["parameters"]} >= {"line_id", "limit", "offset"}
    for operation in (statement, receipts):
        assert {"200", "404", "422"} <= set(operation["responses"])
