"""The console's applications over HTTP: queues, the detail, the four-eyes review form."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import PASSWORD, Api
from fastapi.testclient import TestClient
from origination_fakes import OWNER_ID, PHONE, USCC_A

sys.path.insert(0, str(Path(__file__).parent))

from console_support import console, csrf, staff

from puhui.domain.origination.assessment import Outcome
from puhui.domain.privacy import mask_id_number
from puhui.services.origination import use_cases as uc
from puhui.services.security import accounts, users
from puhui.services.security.permissions import SYSTEM, Principal, Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "court"]


def referred_by_manager(api: Api) -> tuple[str, str]:
    """An account manager ("mgr") takes an application; the owner consents; it is referred."""
    api.assessor.outcome = Outcome.REFER
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "mgr")
    created = api.client.post("/api/v1/applications", json=BODY, headers=manager)
    assert created.status_code == 201, created.text
    app_id, number = created.json()["application_id"], created.json()["application_no"]
    owner = api.applicant_headers()
    consent = api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    assert consent.status_code == 201, consent.text
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.json()["status"] == "referred"
    return str(app_id), str(number)


@pytest.fixture
def referred(servicing_api: Api) -> tuple[Api, str, str]:
    app_id, number = referred_by_manager(servicing_api)
    return servicing_api, app_id, number


def status_of(api: Api, app_id: str) -> str:
    view = uc.get_application(api.deps.origination, actor=SYSTEM, application_id=app_id)
    return view.application.status.value


def test_the_referred_queue_lists_the_referral_and_filters_narrow_it(
    referred: tuple[Api, str, str],
) -> None:
    api, app_id, number = referred
    client = staff(api, "approver1", Role.APPROVER)
    page = client.get("/console/applications")
    assert page.status_code == 200
    assert number in page.text
    assert f"/console/applications/{app_id}" in page.text
    # The row itself says the application waits for a person (the filter's options aside).
    rows = page.text[page.text.index("<tbody") :]
    assert '<span class="badge' in rows
    assert "待人工审批</span>" in rows
    # The owner's phone is masked as the API masks it.
    assert PHONE not in page.text
    assert PHONE[:3] + "****" + PHONE[-4:] in page.text

    assert number in client.get(f"/console/applications?queue=all&no={number}").text
    assert number not in client.get("/console/applications?queue=all&no=PH000").text
    assert number not in client.get("/console/applications?queue=in_review").text
    assert number in client.get("/console/applications?queue=all&min=100000&max=300000").text
    assert number not in client.get("/console/applications?queue=all&min=300000").text
    day = api.clock.today().isoformat()
    assert number in client.get(f"/console/applications?queue=all&from={day}&to={day}").text
    assert number not in client.get("/console/applications?queue=all&to=2000-01-01").text
    # A filter that is not valid says so, in the user's language.
    bad = client.get("/console/applications?queue=all&from=yesterday")
    assert bad.status_code == 422
    assert "日期" in bad.text
    # HTMX asks for the results only.
    partial = client.get("/console/applications?queue=all", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="results"')


def test_the_detail_shows_the_decision_reasons_and_the_review_bounds(
    referred: tuple[Api, str, str],
) -> None:
    api, app_id, number = referred
    client = staff(api, "approver1", Role.APPROVER)
    page = client.get(f"/console/applications/{app_id}")
    assert page.status_code == 200
    text = page.text
    assert number in text
    assert "RF01_BORDERLINE" in text
    assert "655" in text  # the score
    assert "2.10%" in text  # the PD
    assert OWNER_ID not in text
    assert mask_id_number(OWNER_ID) in text  # masked as the API masks it
    assert "product MSE-ONLINE-REVOLVING" in text  # a bound the approval must keep
    assert 'name="limit_yuan"' in text
    assert "300000" in text  # the proposal, pre-filled in yuan
    english = client.get(f"/console/applications/{app_id}?lang=en").text
    assert "Manual review (four eyes)" in english
    assert "Bounds an approval must keep today" in english


def test_roles_without_the_list_permission_never_see_the_queue(servicing_api: Api) -> None:
    client = staff(servicing_api, "ops1", Role.OPERATIONS)
    assert client.get("/console/applications").status_code == 200  # ops reads applications
    home = client.get("/console/").text
    assert "/console/applications" in home
    signed_out = TestClient(servicing_api.client.app, base_url="https://testserver")
    response = signed_out.get("/console/applications", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=/console/applications")


def test_the_account_manager_who_took_it_cannot_review_and_an_approver_can(
    referred: tuple[Api, str, str],
) -> None:
    api, app_id, _ = referred
    path = f"/console/applications/{app_id}"
    manager = console(api, "mgr")
    page = manager.get(path).text
    assert 'name="limit_yuan"' not in page  # no review form for the account manager
    assert "等待审批人" in page
    refused = manager.post(
        f"{path}/review",
        data={"csrf_token": csrf(manager, path), "decision": "approve", "note": "ok"},
    )
    assert refused.status_code == 403
    assert "无权" in refused.text
    assert status_of(api, app_id) == "referred"

    approver = staff(api, "approver1", Role.APPROVER)
    # The home tells approvers what waits for review; the account manager does not review.
    assert "待人工审批的申请：1 笔" in approver.get("/console/").text
    assert "Referrals waiting for review: 1" in approver.get("/console/?lang=en").text
    approver.get("/console/?lang=zh-CN")
    assert "待人工审批的申请：" not in manager.get("/console/").text
    done = approver.post(
        f"{path}/review",
        data={
            "csrf_token": csrf(approver, path),
            "decision": "approve",
            "limit_yuan": "250,000",
            "annual_rate_percent": "4.35",
            "term_months": "12",
            "note": "经营正常，现场核实",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{path}?done=approve"
    after = approver.get(done.headers["location"]).text
    assert "已审批通过" in after
    assert "250,000.00" in after  # the offer
    assert status_of(api, app_id) == "offered"
    assert "待人工审批的申请：" not in approver.get("/console/").text


def test_an_account_manager_made_approver_still_may_not_decide_their_own_customer(
    referred: tuple[Api, str, str],
) -> None:
    """Four eyes as the service keeps it: the reviewer is never the customer's account manager,
    even after that person has become an approver."""
    api, app_id, _ = referred
    security = api.deps.security
    admin1 = accounts.create_user(
        security, actor=SYSTEM, username="admin1", password=PASSWORD, role=Role.ADMIN
    )
    mgr = users.user_by_username(security, "mgr")
    grant = users.request_role_grant(
        security,
        actor=Principal(user_id=admin1.user_id, role=Role.ADMIN),
        role=Role.APPROVER,
        user_id=mgr.user_id,
    )
    approved = users.approve_role_grant(security, actor=SYSTEM, grant_id=grant.grant_id)
    api.clock.advance(timedelta(seconds=1))  # tokens issued at the grant's instant are void
    path = f"/console/applications/{app_id}"
    promoted = console(api, "mgr", approved.password)
    assert 'name="limit_yuan"' in promoted.get(path).text  # an approver now: the form shows
    refused = promoted.post(
        f"{path}/review",
        data={"csrf_token": csrf(promoted, path), "decision": "decline", "note": "不符合条件"},
    )
    assert refused.status_code == 403
    assert "客户经理" in refused.text
    assert "另一位审批人" in refused.text
    assert status_of(api, app_id) == "referred"


def test_the_review_form_keeps_the_bounds_and_needs_grounds_and_its_token(
    referred: tuple[Api, str, str],
) -> None:
    api, app_id, _ = referred
    path = f"/console/applications/{app_id}"
    approver = staff(api, "approver1", Role.APPROVER)
    forged = approver.post(
        f"{path}/review", data={"csrf_token": "forged.token", "decision": "decline", "note": "x"}
    )
    assert forged.status_code == 403
    token = csrf(approver, path)
    out_of_bounds = approver.post(
        f"{path}/review",
        data={
            "csrf_token": token,
            "decision": "approve",
            "limit_yuan": "250000",
            "annual_rate_percent": "4.35",
            "term_months": "120",
            "note": "试试",
        },
    )
    assert out_of_bounds.status_code == 422
    assert "超出" in out_of_bounds.text
    assert "product MSE-ONLINE-REVOLVING" in out_of_bounds.text
    assert 'value="120"' in out_of_bounds.text  # what was entered is kept
    no_grounds = approver.post(
        f"{path}/review", data={"csrf_token": token, "decision": "decline", "note": "  "}
    )
    assert no_grounds.status_code == 422
    assert "理由" in no_grounds.text
    assert status_of(api, app_id) == "referred"

    declined = approver.post(
        f"{path}/review",
        data={"csrf_token": token, "decision": "decline", "note": "经营流水不足"},
    )
    assert declined.status_code == 200  # followed the redirect
    assert "人工审批拒绝" in declined.text  # the reason code, in words
    assert status_of(api, app_id) == "declined"
    again = approver.post(
        f"{path}/review",
        data={"csrf_token": token, "decision": "decline", "note": "again"},
    )
    assert again.status_code == 409
