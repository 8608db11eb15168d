"""Manual review keeps the offer's bounds; a line that fails to open is retried or cancelled.

Regressions: an approver could offer 99 %, 1 yuan or 120 months on a 36-month product; the
contract was signed and stored, the line never opened, and the enterprise could never
apply again.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A
from test_api_flow import assert_error

from puhui.domain.origination.assessment import Outcome
from puhui.services.security.permissions import Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "court"]
PRODUCT = "product MSE-ONLINE-REVOLVING"


def _apply(api: Api, owner: dict[str, str], *, outcome: Outcome) -> tuple[str, str]:
    """An application decided with ``outcome``: (its id, its status)."""
    api.assessor.outcome = outcome
    created = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    consent = api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    assert consent.status_code == 201, consent.text
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text
    return str(app_id), str(decided.json()["status"])


@pytest.mark.parametrize(
    ("terms", "field", "value", "minimum", "maximum"),
    [
        ({"annual_rate": "0.99"}, "annual_rate", "0.99", "0.0300", "0.2400"),
        ({"limit_fen": 100}, "limit_fen", 100, 1_000_000, 1_000_000_000),
        ({"term_months": 120}, "term_months", 120, 1, 36),
    ],
    ids=["rate-99-percent", "limit-1-yuan", "term-120-months-on-36"],
)
def test_an_approval_outside_the_product_is_refused_before_anything_is_signed(
    api_on_each_database: Api,
    terms: dict[str, Any],
    field: str,
    value: Any,
    minimum: Any,
    maximum: Any,
) -> None:
    api = api_on_each_database
    owner = api.applicant_headers()
    app_id, status = _apply(api, owner, outcome=Outcome.REFER)
    assert status == "referred"
    approver = api.staff_headers(Role.APPROVER)
    review = {"approve": True, "note": "verified on site", **terms}
    body = assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/review", json=review, headers=approver),
        422,
        "offer_out_of_bounds",
    )
    details = body["details"]
    assert details["field"] == field
    assert details["value"] == value
    assert details["bound"] == PRODUCT
    assert (details["minimum"], details["maximum"]) == (minimum, maximum)
    assert field in body["message"]
    assert PRODUCT in body["message"]

    # Nothing was decided, offered, signed or opened: the referral waits for a valid decision.
    detail = api.client.get(f"/api/v1/applications/{app_id}", headers=approver).json()
    assert detail["status"] == "referred"
    assert detail["offer"] is None
    assert detail["contract"] is None
    assert api.client.get(f"/api/v1/applications/{app_id}/contract", headers=owner).status_code == (
        404
    )
    assert api.opener.calls == 0

    # The same approver may then decide within the bounds.
    fixed = {"approve": True, "note": "verified on site", "annual_rate": "0.06"}
    approved = api.client.post(
        f"/api/v1/applications/{app_id}/review", json=fixed, headers=approver
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "offered"
    assert approved.json()["offer"]["annual_rate"] == "0.06"


def test_every_broken_bound_is_listed(api: Api) -> None:
    owner = api.applicant_headers()
    app_id, _ = _apply(api, owner, outcome=Outcome.REFER)
    approver = api.staff_headers(Role.APPROVER)
    review = {
        "approve": True,
        "note": "too generous",
        "annual_rate": "0.99",
        "limit_fen": 100,
        "term_months": 120,
    }
    body = assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/review", json=review, headers=approver),
        422,
        "offer_out_of_bounds",
    )
    fields = [v["field"] for v in body["details"]["violations"]]
    assert sorted(fields) == ["annual_rate", "limit_fen", "term_months"]


def test_a_decline_needs_no_terms(api: Api) -> None:
    owner = api.applicant_headers()
    app_id, _ = _apply(api, owner, outcome=Outcome.REFER)
    approver = api.staff_headers(Role.APPROVER)
    declined = api.client.post(
        f"/api/v1/applications/{app_id}/review",
        json={"approve": False, "note": "no", "annual_rate": "0.99"},
        headers=approver,
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"


def _failed_line(api: Api) -> tuple[str, dict[str, str]]:
    """An offered application whose acceptance servicing refuses: (id, owner headers)."""
    owner = api.applicant_headers()
    app_id, status = _apply(api, owner, outcome=Outcome.APPROVE)
    assert status == "offered"
    api.opener.refusals = 1
    body = assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner),
        409,
        "line_opening_failed",
    )
    assert body["details"]["status"] == "line_failed"
    detail = api.client.get(f"/api/v1/applications/{app_id}", headers=owner).json()
    assert detail["status"] == "line_failed"
    assert detail["contract"] is not None  # signed: the retry opens the line it grants
    return app_id, owner


def test_a_failed_line_opening_is_retried_by_staff_only(api_on_each_database: Api) -> None:
    api = api_on_each_database
    app_id, owner = _failed_line(api)
    url = f"/api/v1/applications/{app_id}/line-opening"
    assert_error(api.client.post(url, headers=owner), 403, "forbidden")
    assert_error(
        api.client.post(url, headers=api.staff_headers(Role.ACCOUNT_MANAGER)), 403, "forbidden"
    )
    # Accepting again is not the way: the owner accepted once, staff take it from here.
    assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner),
        409,
        "invalid_transition",
    )
    approver = api.staff_headers(Role.APPROVER)
    api.opener.refusals = 1
    assert_error(api.client.post(url, headers=approver), 409, "line_opening_failed")
    retried = api.client.post(url, headers=approver)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "line_opened"
    assert retried.json()["credit_line_id"] == "line_0001"
    again = api.client.post(url, headers=approver)
    assert again.status_code == 200
    assert again.json()["credit_line_id"] == "line_0001"
    assert len(api.opener.lines) == 1
    owner_view = api.client.get(f"/api/v1/applications/{app_id}", headers=owner).json()
    assert owner_view["status"] == "line_opened"


def test_a_failed_line_opening_is_cancelled_and_the_enterprise_applies_again(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    app_id, owner = _failed_line(api)
    url = f"/api/v1/applications/{app_id}/cancellation"
    assert_error(api.client.post(url, json={"note": "x"}, headers=owner), 403, "forbidden")
    approver = api.staff_headers(Role.APPROVER)
    assert api.client.post(url, json={"note": ""}, headers=approver).status_code == 422
    cancelled = api.client.post(url, json={"note": "servicing refused the line"}, headers=approver)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    # A cancelled application opens no line, and its retry is refused.
    assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/line-opening", headers=approver),
        409,
        "invalid_transition",
    )
    again = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert again.status_code == 201, again.text
    assert again.json()["application_id"] != app_id
    listed = api.client.get(
        "/api/v1/applications", params={"status": "cancelled"}, headers=approver
    )
    assert [a["application_id"] for a in listed.json()] == [app_id]


def test_a_failed_line_never_locks_the_enterprise_out(api: Api) -> None:
    app_id, owner = _failed_line(api)
    again = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert again.status_code == 201, again.text
    # Retrying the old one now would give the enterprise two lines: staff cancel it instead.
    approver = api.staff_headers(Role.APPROVER)
    body = assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/line-opening", headers=approver),
        409,
        "invalid_transition",
    )
    assert body["details"]["newer"] == again.json()["application_id"]
    assert api.opener.lines == {}


def test_only_failed_applications_are_cancelled(api: Api) -> None:
    owner = api.applicant_headers()
    app_id, _ = _apply(api, owner, outcome=Outcome.REFER)
    approver = api.staff_headers(Role.APPROVER)
    assert_error(
        api.client.post(
            f"/api/v1/applications/{app_id}/cancellation", json={"note": "x"}, headers=approver
        ),
        409,
        "invalid_transition",
    )


def test_the_real_line_opener_exposes_its_product_bounds(servicing_api: Api) -> None:
    api = servicing_api
    owner = api.applicant_headers()
    app_id, _ = _apply(api, owner, outcome=Outcome.REFER)
    approver = api.staff_headers(Role.APPROVER)
    review = {"approve": True, "note": "verified", "term_months": 120}
    body = assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/review", json=review, headers=approver),
        422,
        "offer_out_of_bounds",
    )
    assert (body["details"]["field"], body["details"]["maximum"]) == ("term_months", 36)
    within = {"approve": True, "note": "verified", "term_months": 36}
    offered = api.client.post(
        f"/api/v1/applications/{app_id}/review", json=within, headers=approver
    )
    assert offered.status_code == 200, offered.text
    accepted = api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "line_opened"
