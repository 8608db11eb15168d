"""The outbox page over HTTP: counts by status, messages with phones and errors masked, a
failed message sent again (and a refusal told in words), in both languages, for operations and
admins only."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api
from ops_pages_support import sign_in

from puhui.domain.ids import new_id
from puhui.domain.prospects import ProspectRow
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.monitoring.tasks import RECALL_NOTICE_TEMPLATE
from puhui.services.notifications import (
    Channel,
    MessageStatus,
    NotificationFailed,
    OutboxMessage,
)
from puhui.services.ports import AuditQuery
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.ports import ProspectQuery, RunMeta
from puhui.services.security import accounts, users
from puhui.services.security.permissions import SYSTEM, Principal, Role

PHONE = "13912345678"
CUSTOMER = "91330100MA00000009"
PROSPECT_USCC = "91330100MA00000001"
LEAD = Principal(user_id="usr_lead", role=Role.SUPERVISOR)


@dataclass
class Unreachable:
    """A provider stand-in whose refusal quotes the number, as some gateways' do."""

    def deliver(self, message: OutboxMessage) -> None:
        raise NotificationFailed(f"number {message.recipient} unreachable")


def _access(api: Api) -> ProspectAccess:
    access = api.deps.prospects
    assert access is not None
    return access


def _offer(api: Api) -> str:
    """A pre-approval offer queued to ``PHONE``; returns its message id."""
    access = _access(api)
    loading.load_run(
        access,
        actor=SYSTEM,
        month=date(2026, 2, 1),
        rows=[
            ProspectRow(
                uscc=PROSPECT_USCC,
                month=date(2026, 2, 1),
                need_probability=0.6,
                need_amount_fen=80_000_000,
                need_month=date(2026, 4, 1),
                need_duration_months=9,
                limit_fen=50_000_000,
                annual_rate=Decimal("0.0465"),
                valid_until=date(2099, 12, 31),
                grade="A",
                priority=1,
                region_code="330102",
                industry_group="wholesale",
                park=None,
                is_customer=False,
            )
        ],
        meta=RunMeta(sources=PRE_CONSENT_SOURCES),
    )
    (found,) = queue.list_prospects(access, actor=SYSTEM, query=ProspectQuery())
    return offers.send_offer(
        access, actor=LEAD, prospect_id=found.prospect_id, phone=PHONE
    ).message_id


def _notice(api: Api) -> str:
    """A recall notice to ``PHONE``, as post-loan monitoring writes it; returns its id."""
    access = _access(api)
    message = OutboxMessage(
        message_id=new_id("msg"),
        channel=Channel.SMS,
        recipient=PHONE,
        template=RECALL_NOTICE_TEMPLATE,
        payload={"customer_id": CUSTOMER, "called_in_on": "2026-02-10", "principal_fen": 100},
        subject_id=CUSTOMER,
        status=MessageStatus.PENDING,
        attempts=0,
        created_at=access.clock.now(),
    )
    with access.units() as uow:
        uow.prospects.add_message(message)
        uow.commit()
    return message.message_id


def _fail_everything(api: Api) -> None:
    for _ in range(offers.MAX_ATTEMPTS):
        offers.dispatch_outbox(_access(api), Unreachable(), actor=SYSTEM)


def test_operations_see_the_outbox_and_send_a_failed_notice_again(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    ops = sign_in(api.deps, api.client.app, "ops", Role.OPERATIONS)
    ops_id = users.user_by_username(api.deps.security, "ops").user_id
    empty = ops.get("/console/outbox")
    assert "消息发件箱" in empty
    assert "暂无消息。" in empty
    notice = _notice(api)
    _fail_everything(api)
    offer = _offer(api)
    with _access(api).units() as uow:
        failed_notice = uow.prospects.get_message(notice)
    assert failed_notice is not None
    # The provider's refusal quoted the number: the outbox keeps it masked.
    assert failed_notice.last_error == "number 139****5678 unreachable"

    # The home says what waits in the outbox.
    assert "发送失败的消息：1 条" in ops.get("/console/")
    assert "Failed messages: 1" in ops.client.get("/console/?lang=en").text
    ops.get("/console/?lang=zh-CN")
    page = ops.get("/console/outbox")
    assert "全部 (2)" in page
    assert "待发送 (1)" in page
    assert "发送失败 (1)" in page
    assert "1 条消息发送失败" in page
    assert "提前收回通知" in page
    assert "预授信邀约" in page
    assert "139****5678" in page
    assert PHONE not in page  # neither as the recipient nor in the provider's error
    assert "number 139****5678 unreachable" in page
    assert f'href="/console/lines?customer={CUSTOMER}"' in page
    assert 'href="/console/prospects/prs_' in page
    # Only the failed message offers to be sent again.
    assert page.count('action="/console/outbox/') == 1
    assert f'action="/console/outbox/{notice}/requeue"' in page
    failed = ops.get("/console/outbox?status=failed")
    assert notice in failed
    assert offer not in failed
    assert ops.client.get("/console/outbox?status=lost").status_code == 422

    forged = ops.post(f"/console/outbox/{notice}/requeue", csrf=False)
    assert forged.status_code == 403
    done = ops.post(f"/console/outbox/{notice}/requeue")
    assert done.status_code == 303
    assert done.headers["location"] == "/console/outbox?status=pending&done=requeued"
    after = ops.get(done.headers["location"])
    assert "消息已重新排队：下一次发送任务将发出。" in after
    assert "发送失败的消息：" not in ops.get("/console/")
    assert "待发送 (2)" in after
    assert "发送失败 (0)" in after
    assert notice in after
    again = ops.post(f"/console/outbox/{notice}/requeue")
    assert again.status_code == 409
    assert "该消息不能重新发送" in again.text
    (event,) = accounts.search_audit_events(
        api.deps.security, actor=SYSTEM, query=AuditQuery(action_prefix="notification.requeued")
    )
    assert (event.actor, event.entity_id) == (f"operations:{ops_id}", notice)

    english = ops.client.get("/console/outbox?lang=en").text
    assert "Notice: loans called in" in english
    assert "Pre-approval offer" in english
    assert "Waiting (2)" in english
    assert re.search(r"[\u4e00-\u9fff]", english.split("<main", 1)[1].split("</main>")[0]) is None


def test_only_operations_and_admins_open_the_outbox(api: Api) -> None:
    notice = _notice(api)
    _fail_everything(api)
    admin = sign_in(api.deps, api.client.app, "root", Role.ADMIN)
    assert "发送失败 (1)" in admin.get("/console/outbox")
    assert 'href="/console/outbox"' in admin.get("/console/")
    for role in (Role.SUPERVISOR, Role.ACCOUNT_MANAGER, Role.AUDITOR, Role.RISK_OFFICER):
        staff = sign_in(api.deps, api.client.app, role.value, role)
        assert staff.client.get("/console/outbox").status_code == 403, role
        assert 'href="/console/outbox"' not in staff.get("/console/")
        refused = staff.post(f"/console/outbox/{notice}/requeue")
        assert refused.status_code == 403, role
    with _access(api).units() as uow:
        stored = uow.prospects.get_message(notice)
    assert stored is not None
    assert stored.status is MessageStatus.FAILED


def test_an_offer_opted_out_since_is_refused_in_the_outbox_pages_words(api: Api) -> None:
    offer = _offer(api)
    _fail_everything(api)
    queue.record_opt_out(_access(api), actor=LEAD, uscc=None, phone=PHONE, reason="asked")
    ops = sign_in(api.deps, api.client.app, "ops", Role.OPERATIONS)
    ops.get("/console/outbox?status=failed")
    refused = ops.post(f"/console/outbox/{offer}/requeue")
    assert refused.status_code == 409
    # The outbox says it of a resend; the prospect pages keep their own words for an offer.
    assert "该企业或手机号此后已退订营销信息：邀约不再重新发送。" in refused.text
    assert "未发送。" not in refused.text
    english = ops.client.post(
        f"/console/outbox/{offer}/requeue?lang=en", data={"csrf_token": ops.csrf}
    )
    assert "asked for no marketing since: the offer is not sent again" in english.text
