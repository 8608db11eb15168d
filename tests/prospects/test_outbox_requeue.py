"""A failed message queued again, on the database: an offer (only its prospect's latest, still
allowed) and a notice (whatever marketing choices say), through the service and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from prospect_support import META, MONTH, PHONE, managers, row, uscc
from typer.testing import CliRunner

from puhui.bootstrap import Platform
from puhui.cli.main import app
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Forbidden
from puhui.services.monitoring.tasks import RECALL_NOTICE_TEMPLATE
from puhui.services.notifications import (
    Channel,
    MessageStatus,
    NotificationFailed,
    OutboxMessage,
)
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.ports import (
    MarketingOptedOut,
    MessageNotRequeued,
    ProspectQuery,
)
from puhui.services.security.permissions import SYSTEM, Principal, Role

runner = CliRunner()
OPERATIONS = Principal(user_id="usr_ops", role=Role.OPERATIONS)
SUPERVISOR = Principal(user_id="usr_lead", role=Role.SUPERVISOR)


@dataclass
class Provider:
    """A provider stand-in: down (refusing everything) until switched on."""

    up: bool = False

    def deliver(self, message: OutboxMessage) -> None:
        if not self.up:
            raise NotificationFailed("gateway down")


def _fail_everything(platform: Platform) -> None:
    down = Provider()
    for _ in range(offers.MAX_ATTEMPTS):
        offers.dispatch_outbox(platform.prospect_access(), down, actor=SYSTEM)


def _prospect_id(platform: Platform, n: int) -> str:
    found = queue.list_prospects(
        platform.prospect_access(), actor=SYSTEM, query=ProspectQuery(month=MONTH)
    )
    return next(r.prospect_id for r in found if r.row.uscc == uscc(n))


def _offer(platform: Platform, n: int = 0) -> tuple[str, OutboxMessage]:
    access = platform.prospect_access()
    (manager,) = managers(platform, f"wang{n}")
    prospect_id = _prospect_id(platform, n)
    sent = offers.send_offer(access, actor=manager, prospect_id=prospect_id, phone=PHONE)
    return prospect_id, sent


def _notice(platform: Platform, customer: str) -> OutboxMessage:
    """A recall notice as post-loan monitoring writes it."""
    message = OutboxMessage(
        message_id=new_id("msg"),
        channel=Channel.SMS,
        recipient=PHONE,
        template=RECALL_NOTICE_TEMPLATE,
        payload={"customer_id": customer, "called_in_on": "2026-02-10", "principal_fen": 100},
        subject_id=customer,
        status=MessageStatus.PENDING,
        attempts=0,
        created_at=platform.clock.now(),
    )
    with platform.prospects_uow() as uow:
        uow.prospects.add_message(message)
        uow.commit()
    return message


def _stored(platform: Platform, message_id: str) -> OutboxMessage:
    with platform.prospects_uow() as uow:
        found = uow.prospects.get_message(message_id)
    assert found is not None
    return found


def test_a_failed_offer_is_queued_again_and_sent_once_the_provider_is_back(
    platform: Platform,
) -> None:
    access = platform.prospect_access()
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0)], meta=META)
    prospect_id, message = _offer(platform)
    with pytest.raises(MessageNotRequeued, match="this one is pending"):
        offers.requeue_message(access, actor=OPERATIONS, message_id=message.message_id)
    _fail_everything(platform)
    assert offers.outbox_counts(access, actor=OPERATIONS)[MessageStatus.FAILED] == 1
    with pytest.raises(Forbidden):  # a sales supervisor manages prospects, not the outbox
        offers.requeue_message(
            access,
            actor=SUPERVISOR,
            message_id=message.message_id,
        )

    queued = offers.requeue_message(access, actor=OPERATIONS, message_id=message.message_id)
    assert (queued.status, queued.attempts, queued.last_error) == (MessageStatus.PENDING, 0, None)
    stored = _stored(platform, message.message_id)
    assert (stored.status, stored.attempts, stored.last_error) == (MessageStatus.PENDING, 0, None)
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=prospect_id)
    assert view.record.offer_status is not None
    assert view.record.offer_status.value == "queued"
    assert [e.action for e in view.history][-2:] == ["offer_failed", "offer_requeued"]
    assert view.history[-1].actor == "operations:usr_ops"

    report = offers.dispatch_outbox(access, Provider(up=True), actor=SYSTEM)
    assert (report.sent, report.failed) == (1, 0)
    assert _stored(platform, message.message_id).status is MessageStatus.SENT
    counts = offers.outbox_counts(access, actor=OPERATIONS)
    assert counts == {
        MessageStatus.PENDING: 0,
        MessageStatus.SENT: 1,
        MessageStatus.FAILED: 0,
        MessageStatus.CANCELLED: 0,
    }
    with pytest.raises(MessageNotRequeued, match="this one is sent"):
        offers.requeue_message(access, actor=OPERATIONS, message_id=message.message_id)
    with pytest.raises(NotFound):
        offers.requeue_message(access, actor=OPERATIONS, message_id="msg_unknown")


def test_an_offer_superseded_or_opted_out_since_is_not_sent_again(platform: Platform) -> None:
    access = platform.prospect_access()
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    first_prospect, first = _offer(platform, 0)
    _fail_everything(platform)
    later = offers.send_offer(access, actor=SUPERVISOR, prospect_id=first_prospect, phone=PHONE)
    with pytest.raises(MessageNotRequeued, match="a later offer") as refused:
        offers.requeue_message(access, actor=OPERATIONS, message_id=first.message_id)
    assert refused.value.details["later"] == later.message_id
    assert _stored(platform, first.message_id).status is MessageStatus.FAILED

    second_prospect, second = _offer(platform, 1)
    _fail_everything(platform)
    queue.record_opt_out(access, actor=SUPERVISOR, uscc=None, phone=PHONE, reason="asked")
    with pytest.raises(MarketingOptedOut):
        offers.requeue_message(access, actor=OPERATIONS, message_id=second.message_id)
    stored = _stored(platform, second.message_id)
    assert (stored.status, stored.attempts) == (MessageStatus.FAILED, offers.MAX_ATTEMPTS)
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=second_prospect)
    assert "offer_requeued" not in [e.action for e in view.history]


def test_a_failed_notice_is_queued_again_and_audited(platform: Platform) -> None:
    access = platform.prospect_access()
    customer = uscc(7)
    notice = _notice(platform, customer)
    _fail_everything(platform)
    # A notice is not marketing: an opt-out of the phone does not hold it back.
    queue.record_opt_out(access, actor=SUPERVISOR, uscc=customer, phone=PHONE, reason="asked")
    offers.requeue_message(access, actor=OPERATIONS, message_id=notice.message_id)
    with platform.uow() as uow:
        (event,) = [e for e in uow.audit.events() if e.action == "notification.requeued"]
    assert (event.actor, event.entity, event.entity_id) == (
        "operations:usr_ops",
        "notification",
        notice.message_id,
    )
    report = offers.dispatch_outbox(access, Provider(up=True), actor=SYSTEM)
    assert (report.sent, report.cancelled) == (1, 0)
    listed = offers.outbox_messages(access, actor=OPERATIONS, status=MessageStatus.SENT)
    assert [m.message_id for m in listed] == [notice.message_id]


def test_the_outbox_is_listed_a_page_at_a_time(platform: Platform) -> None:
    access = platform.prospect_access()
    made = [_notice(platform, uscc(n)).message_id for n in range(5)]
    pages = [
        offers.outbox_messages(access, actor=OPERATIONS, limit=2, offset=start)
        for start in (0, 2, 4, 6)
    ]
    seen = [m.message_id for page in pages for m in page]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert sorted(seen) == sorted(made)
    with pytest.raises(Forbidden):
        offers.outbox_messages(access, actor=Principal(user_id="usr_aud", role=Role.AUDITOR))
    with pytest.raises(InvalidInput, match="a page starts at"):
        offers.outbox_messages(access, actor=OPERATIONS, offset=-1)


def test_the_requeue_command_queues_a_failed_message(
    platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = platform.prospect_access()
    loading.load_run(
        access, actor=SYSTEM, month=MONTH, rows=[row(0, valid_until=date(2099, 12, 31))], meta=META
    )
    _, message = _offer(platform)
    _fail_everything(platform)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")

    unknown = runner.invoke(app, ["outbox", "requeue", "msg_nothing"])
    assert unknown.exit_code != 0
    assert "no such message in the outbox" in unknown.output
    done = runner.invoke(app, ["outbox", "requeue", message.message_id])
    assert done.exit_code == 0, done.output
    assert f"{message.message_id} queued again" in done.output
    assert "138****5678" in done.output
    assert PHONE not in done.output
    pending = runner.invoke(app, ["outbox", "list", "--status", "pending", "--json"])
    assert [r["message_id"] for r in json.loads(pending.output.strip().splitlines()[-1])] == [
        message.message_id
    ]
    twice = runner.invoke(app, ["outbox", "requeue", message.message_id])
    assert twice.exit_code != 0
    assert "only a failed message is queued again" in twice.output
    with platform.uow() as uow:
        (event,) = [e for e in uow.audit.events() if e.action == "prospect.offer_requeued"]
    assert event.actor.startswith("admin:cli:")  # the operator who ran it
