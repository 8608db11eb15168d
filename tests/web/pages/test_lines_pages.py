"""The console's credit lines over HTTP: the list, a line's receipts, repayments and statement,
and freeze, unfreeze and reduce as forms with their token and the services' permissions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from api_support import Api
from origination_fakes import USCC_A
from test_servicing_api import draw, open_line

sys.path.insert(0, str(Path(__file__).parent))

from console_support import csrf, staff

from puhui.domain.origination.errors import Forbidden
from puhui.services.origination import line_access
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.services.servicing.line_list import LineSearch
from puhui.services.servicing.records import LineStatus


def line_with_a_repayment(api: Api) -> tuple[str, str]:
    """An opened line with one receipt of 50,000 yuan, 10,000 of it repaid: (line, receipt)."""
    line_id, owner = open_line(api)
    drawn = draw(api, line_id, owner, "draw-1", 5_000_000)
    assert drawn.status_code == 201, drawn.text
    receipt_id = drawn.json()["receipt_id"]
    repaid = api.client.post(
        f"/api/v1/receipts/{receipt_id}/repayments",
        json={"amount_fen": 1_000_000},
        headers={**owner, "Idempotency-Key": "repay-1"},
    )
    assert repaid.status_code == 201, repaid.text
    return line_id, str(receipt_id)


def credit(api: Api) -> CreditAccess:
    assert api.deps.credit is not None
    return api.deps.credit


def test_the_list_finds_lines_by_id_customer_and_status(servicing_api: Api) -> None:
    api = servicing_api
    line_id, _ = line_with_a_repayment(api)
    client = staff(api, "risk1", Role.RISK_OFFICER)
    page = client.get("/console/lines")
    assert page.status_code == 200
    assert f"/console/lines/{line_id}" in page.text
    assert "300,000.00" in page.text  # the limit in yuan
    assert line_id in client.get(f"/console/lines?line={line_id}").text
    assert line_id in client.get(f"/console/lines?customer={USCC_A.lower()}").text
    assert line_id not in client.get("/console/lines?customer=91350100M000100Y99").text
    assert line_id in client.get("/console/lines?status=active").text
    assert line_id not in client.get("/console/lines?status=frozen").text
    assert client.get("/console/lines?status=closed").status_code == 422
    partial = client.get("/console/lines", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="results"')


def test_the_line_shows_receipts_repayments_and_the_statement(servicing_api: Api) -> None:
    api = servicing_api
    line_id, receipt_id = line_with_a_repayment(api)
    client = staff(api, "auditor1", Role.AUDITOR)
    page = client.get(f"/console/lines/{line_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert receipt_id in text
    assert "50,000.00" in text  # the receipt's principal
    assert "40,000.00" in text  # what is outstanding after the repayment
    assert "10,000.00" in text  # the repayment
    assert "正常" in text  # the five-category, in Chinese
    assert "对账单" in text
    assert "还款" in text
    # An auditor reads; the action forms are not shown to a role that may not act.
    assert "/freeze" not in text
    assert "/limit-reduction" not in text
    english = client.get(f"/console/lines/{line_id}?lang=en").text
    assert "Repayment history" in english
    assert "Pass" in english


def test_freeze_unfreeze_and_reduce_as_a_risk_officer(servicing_api: Api) -> None:
    api = servicing_api
    line_id, _ = line_with_a_repayment(api)
    path = f"/console/lines/{line_id}"
    client = staff(api, "risk1", Role.RISK_OFFICER)
    token = csrf(client, path)

    no_reason = client.post(f"{path}/freeze", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 422
    assert "请填写变更原因" in no_reason.text
    forged = client.post(f"{path}/freeze", data={"csrf_token": "x.y", "reason": "预警"})
    assert forged.status_code == 403

    frozen = client.post(
        f"{path}/freeze", data={"csrf_token": token, "reason": "预警：涉诉"}, follow_redirects=False
    )
    assert frozen.status_code == 303
    assert frozen.headers["location"] == f"{path}?done=freeze"
    assert "额度已冻结" in client.get(frozen.headers["location"]).text
    assert line_access.get_line(credit(api), actor=SYSTEM, line_id=line_id).status is (
        LineStatus.FROZEN
    )

    unfrozen = client.post(f"{path}/unfreeze", data={"csrf_token": token, "reason": "已核实"})
    assert unfrozen.status_code == 200
    assert "额度已解冻" in unfrozen.text
    assert line_access.get_line(credit(api), actor=SYSTEM, line_id=line_id).status is (
        LineStatus.ACTIVE
    )

    too_high = client.post(
        f"{path}/limit-reduction",
        data={"csrf_token": token, "reason": "降额", "new_limit_yuan": "400000"},
    )
    assert too_high.status_code == 422
    assert "须低于当前额度" in too_high.text
    reduced = client.post(
        f"{path}/limit-reduction",
        data={"csrf_token": token, "reason": "经营下滑", "new_limit_yuan": "100,000"},
    )
    assert reduced.status_code == 200
    assert "额度已调减" in reduced.text
    assert line_access.get_line(credit(api), actor=SYSTEM, line_id=line_id).limit_fen == (
        10_000_000
    )


def test_the_services_permissions_decide_who_may_act(servicing_api: Api) -> None:
    api = servicing_api
    line_id, _ = line_with_a_repayment(api)
    path = f"/console/lines/{line_id}"
    ops = staff(api, "ops1", Role.OPERATIONS)
    page = ops.get(path).text
    assert "/freeze" in page  # operations freeze (disputes) ...
    assert "/limit-reduction" not in page  # ... but do not cut limits
    refused = ops.post(
        f"{path}/limit-reduction",
        data={"csrf_token": csrf(ops, path), "reason": "x", "new_limit_yuan": "1000"},
    )
    assert refused.status_code == 403
    assert "无权" in refused.text
    approver = staff(api, "approver1", Role.APPROVER)
    refused = approver.post(
        f"{path}/freeze", data={"csrf_token": csrf(approver, path), "reason": "x"}
    )
    assert refused.status_code == 403
    assert line_access.get_line(credit(api), actor=SYSTEM, line_id=line_id).limit_fen == (
        30_000_000
    )
    missing = ops.get("/console/lines/line_NOPE")
    assert missing.status_code == 404


def test_only_staff_list_the_book(servicing_api: Api) -> None:
    api = servicing_api
    line_id, _ = line_with_a_repayment(api)
    found = line_access.list_lines(credit(api), actor=SYSTEM, search=LineSearch(line_id=line_id))
    assert [line.line_id for line in found] == [line_id]
    applicant = Principal(user_id="usr_x", role=Role.APPLICANT)
    with pytest.raises(Forbidden):
        line_access.list_lines(credit(api), actor=applicant, search=LineSearch())
