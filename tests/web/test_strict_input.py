"""Money is a JSON integer of fen and a date is YYYY-MM-DD: loose forms are refused by name."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Api
from test_api_flow import BODY, assert_error
from test_servicing_api import open_line

from puhui.services.security.permissions import Role


@pytest.mark.parametrize("amount", [True, "100000", 100000.0, None, "1e5"])
def test_a_draw_amount_that_is_not_a_json_integer_is_refused(
    servicing_api: Api, amount: Any
) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    refused = api.client.post(
        f"/api/v1/credit-lines/{line_id}/draws",
        json={"amount_fen": amount, "maturity_date": "2026-09-01"},
        headers={**owner, "Idempotency-Key": "loose"},
    )
    body = assert_error(refused, 422)
    assert "amount_fen" in str(body["details"])
    line = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner).json()
    assert line["drawn_fen"] == 0  # nothing moved


@pytest.mark.parametrize(
    "written", ["2026-09-01T00:00:00", "2026-09-01T00:00:00Z", "20260901", "2026-W36-1", 1788220800]
)
def test_a_maturity_that_is_not_a_plain_date_is_refused(servicing_api: Api, written: Any) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    refused = api.client.post(
        f"/api/v1/credit-lines/{line_id}/draws",
        json={"amount_fen": 1_000_000, "maturity_date": written},
        headers={**owner, "Idempotency-Key": "dated"},
    )
    assert_error(refused, 422)


def test_a_limit_cut_to_a_string_is_refused_and_the_limit_stays(servicing_api: Api) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    risk = api.staff_headers(Role.RISK_OFFICER)
    before = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner).json()["limit_fen"]
    refused = api.client.post(
        f"/api/v1/credit-lines/{line_id}/limit-reduction",
        json={"new_limit_fen": "1", "reason": "test"},
        headers=risk,
    )
    assert_error(refused, 422)
    after = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner).json()["limit_fen"]
    assert after == before


@pytest.mark.parametrize("amount", [True, "20000000", 20000000.5])
def test_an_application_amount_must_be_integer_fen(api: Api, amount: Any) -> None:
    refused = api.client.post(
        "/api/v1/applications",
        json={**BODY, "requested_amount_fen": amount},
        headers=api.applicant_headers(),
    )
    assert_error(refused, 422)


# A date or a time in a query is written out: pydantic alone reads a number as seconds since
# 1970, so ``?value_date=0`` listed the runs of 1970-01-01 (found by Schemathesis).
_DATED_QUERIES = [
    ("/api/v1/repayment-reconciliations", "value_date", "2026-03-02", Role.OPERATIONS),
    ("/api/v1/audit/events", "from", "2026-03-02T09:30:00+08:00", Role.AUDITOR),
    ("/api/v1/audit/events", "to", "2026-03-02T18:00:00Z", Role.AUDITOR),
    ("/api/v1/partners/agreements/AGR-NONE/position", "through", "2026-03-02", Role.RISK_OFFICER),
]


@pytest.mark.parametrize(("path", "name", "good", "role"), _DATED_QUERIES)
@pytest.mark.parametrize(
    "written", ["0", "0.5", "1788220800", "20260302", "2026-W10-1", "2026-03-02T09:30:00+0800"]
)
def test_a_date_or_time_in_a_query_that_is_a_number_is_refused_by_name(
    servicing_api: Api, path: str, name: str, good: str, role: Role, written: str
) -> None:
    headers = servicing_api.staff_headers(role)
    refused = servicing_api.client.get(path, params={name: written}, headers=headers)
    body = assert_error(refused, 422)
    assert name in str(body["details"])
    accepted = servicing_api.client.get(path, params={name: good}, headers=headers)
    assert accepted.status_code != 422, accepted.text
