"""The collections pages over HTTP, on a receipt the end of day made 90+ days past due: the
legal queue, a case claimed, a contact and a promise logged, a write-off proposed and decided
by a second person (four eyes)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api, build_servicing_api
from ops_pages_support import Staff, sign_in
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.domain.monitoring.collection import DpdBucket, WriteOffStatus
from puhui.pipelines.eod import run_end_of_day
from puhui.services.collections import access as post_loan
from puhui.services.collections import cases
from puhui.services.collections.ports import QueueFilter
from puhui.services.security.permissions import Principal, Role

READER = Principal(user_id="reader", role=Role.AUDITOR)
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def legal_case(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Api, str, str]]:
    """A receipt 91 days past due in the legal queue: (api, case id, receipt id)."""
    api, engine = build_servicing_api(f"sqlite:///{tmp_path / 'p.db'}", clock, tmp_path / "m")
    try:
        line_id, owner = open_line(api)
        receipt_id = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
        store = SqlEndOfDayStore(engine, clock=clock)  # type: ignore[arg-type]
        day, last = clock.today(), date(2026, 6, 20)
        while day <= last:
            run_end_of_day(store, day)
            day += timedelta(days=1)
        access = api.deps.post_loan
        assert access is not None
        cases.refresh(access.units, as_of=last, actor="system", clock=clock)
        page = post_loan.queue(access, actor=READER, query=QueueFilter(bucket=DpdBucket.LEGAL))
        (case,) = page.cases
        yield api, case.case_id, receipt_id
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _staff(api: Api, role: Role, name: str) -> Staff:
    return sign_in(api.deps, api.client.app, name, role)


def _key(page: str, suffix: str) -> str:
    keys = [k for k in KEY.findall(page) if k.endswith(suffix)]
    assert keys, f"no form key ending {suffix}"
    return keys[0]


def test_a_case_is_worked_and_written_off_with_four_eyes(
    legal_case: tuple[Api, str, str],
) -> None:
    api, case_id, receipt_id = legal_case
    manager = _staff(api, Role.ACCOUNT_MANAGER, "am-li")
    queue = manager.get("/console/collections?bucket=legal")
    assert case_id in queue
    assert "50,000.00" in queue
    assert case_id not in manager.get("/console/collections?bucket=reminder")
    path = f"/console/collections/{case_id}"
    assert "您负责的催收案件：" not in manager.get("/console/")
    manager.get(path)
    claimed = manager.post(f"{path}/claim")
    assert claimed.status_code == 303
    assert case_id in manager.get("/console/collections?bucket=legal&mine=1")
    # The home tells the collector the cases they hold; those who only read are not counted.
    assert "您负责的催收案件：1 件" in manager.get("/console/")
    assert "您负责的催收案件：" not in _staff(api, Role.AUDITOR, "auditor-home").get("/console/")
    page = manager.get(path)
    contact = {
        "channel": "visit",
        "result": "refused",
        "contacted_at": "2026-03-01T10:00",
        "note": "owner Wang refused at the shop",
        "idempotency_key": _key(page, "-c"),
    }
    assert manager.post(f"{path}/contacts", contact).status_code == 303
    again = manager.post(f"{path}/contacts", contact)  # the same form sent twice: one contact
    assert again.status_code == 303
    promise = {
        "amount": "ten thousand",
        "promised_on": "2026-06-30",
        "grace_days": "2",
        "idempotency_key": _key(page, "-p"),
    }
    assert manager.post(f"{path}/promises", promise).status_code == 422  # not a yuan amount
    promise["amount"] = "10000.00"
    assert manager.post(f"{path}/promises", promise).status_code == 303
    detail = manager.get(path)
    assert detail.count("owner Wang refused at the shop") == 1
    assert "10,000.00" in detail
    assert "上门" in detail
    assert "拒绝还款" in detail
    assert "待履行" in detail
    proposed = manager.post(
        f"{path}/write-off", {"reason": "absconded", "idempotency_key": _key(detail, "-w")}
    )
    assert proposed.status_code == 303
    assert "核销申请已提交" in manager.get(proposed.headers["location"])

    listing = manager.get("/console/collections/write-offs")
    assert receipt_id in listing
    assert "/decision" not in listing  # a manager may not decide
    risk = _staff(api, Role.RISK_OFFICER, "ro-zhang")
    decisions = risk.get("/console/collections/write-offs")
    (proposal_key,) = KEY.findall(decisions)
    proposal = post_loan.list_write_offs(
        api.deps.post_loan,  # type: ignore[arg-type]
        actor=READER,
        status=WriteOffStatus.PROPOSED,
        limit=5,
    )[0]
    decided = risk.post(
        f"/console/collections/write-offs/{proposal.proposal_id}/decision",
        {"decision": "approve", "idempotency_key": proposal_key},
    )
    assert decided.status_code == 303
    assert "核销已批准并记入总账" in risk.get(decided.headers["location"])
    approved = post_loan.get_write_off(
        api.deps.post_loan,  # type: ignore[arg-type]
        actor=READER,
        proposal_id=proposal.proposal_id,
    )
    assert approved.status is WriteOffStatus.APPROVED
    # The auditor reads the case with the notes masked, and has no forms to work it.
    auditor = _staff(api, Role.AUDITOR, "aud-wu")
    read = auditor.get(path)
    assert "owner Wang refused at the shop" not in read
    assert "登记联系" not in read


def test_the_proposer_may_not_decide_their_own_write_off(
    legal_case: tuple[Api, str, str],
) -> None:
    api, case_id, _ = legal_case
    risk = _staff(api, Role.RISK_OFFICER, "ro-zhang")
    page = risk.get(f"/console/collections/{case_id}")
    proposed = risk.post(
        f"/console/collections/{case_id}/write-off",
        {"reason": "fraud", "idempotency_key": _key(page, "-w")},
    )
    assert proposed.status_code == 303
    listing = risk.get("/console/collections/write-offs")
    assert "您提交的申请：须由他人审批" in listing
    proposal = post_loan.list_write_offs(
        api.deps.post_loan,  # type: ignore[arg-type]
        actor=READER,
        status=WriteOffStatus.PROPOSED,
        limit=5,
    )[0]
    refused = risk.post(
        f"/console/collections/write-offs/{proposal.proposal_id}/decision",
        {"decision": "approve", "idempotency_key": "page-own"},
    )
    assert refused.status_code == 403
    assert "须由另一人审批" in refused.text
