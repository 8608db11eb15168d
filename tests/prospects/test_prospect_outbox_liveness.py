"""The outbox sends nothing the prospect no longer allows: an opt-out recorded after the offer
was queued, a re-run that dropped the prospect, its validity passing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from prospect_support import META, MONTH, PHONE, managers, row, uscc
from sqlalchemy import select

from puhui.adapters.db.outbox import notification_outbox
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.services.notifications import MessageStatus, OutboxMessage
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.ports import OfferState, ProspectQuery
from puhui.services.security.permissions import SYSTEM, Principal, Role


@dataclass
class Provider:
    seen: list[str] = field(default_factory=list)

    def deliver(self, message: OutboxMessage) -> None:
        self.seen.append(message.message_id)


MANAGER = Principal(user_id="usr_desk", role=Role.ACCOUNT_MANAGER)
"""Records opt-outs (an account manager's desk; nobody needs to own the prospect)."""


def _queued(platform: Platform, n: int = 2) -> tuple[dict[str, str], list[OutboxMessage]]:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(i) for i in range(n)], meta=META)
    found = queue.list_prospects(access, actor=SYSTEM, query=ProspectQuery(month=MONTH))
    ids = {r.row.uscc: r.prospect_id for r in found}
    sent = [
        offers.send_offer(access, actor=manager, prospect_id=ids[uscc(i)], phone=PHONE)
        for i in range(n)
    ]
    return ids, sent


def _status(platform: Platform, message_id: str) -> MessageStatus:
    with platform.database.engine.connect() as connection:
        found = connection.execute(
            select(notification_outbox.c.status).where(
                notification_outbox.c.message_id == message_id
            )
        ).scalar_one()
    return MessageStatus(found)


def _audited(platform: Platform, prospect_id: str) -> list[str]:
    view = queue.get_prospect(platform.prospect_access(), actor=SYSTEM, prospect_id=prospect_id)
    return [e.action for e in view.history]


def test_an_opt_out_cancels_the_offers_already_queued(platform: Platform) -> None:
    access = platform.prospect_access()
    ids, (first, second) = _queued(platform)
    queue.record_opt_out(access, actor=MANAGER, uscc=uscc(0), phone=None, reason="asked")
    assert _status(platform, first.message_id) is MessageStatus.CANCELLED
    assert _status(platform, second.message_id) is MessageStatus.PENDING
    provider = Provider()
    report = offers.dispatch_outbox(access, provider, actor=SYSTEM)
    assert provider.seen == [second.message_id]
    assert (report.sent, report.cancelled) == (1, 0)
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=ids[uscc(0)])
    assert view.record.offer_status is OfferState.CANCELLED
    assert _audited(platform, ids[uscc(0)])[-1] == "offer_cancelled"


def test_an_opted_out_phone_cancels_every_offer_to_it(platform: Platform) -> None:
    access = platform.prospect_access()
    _ids, sent = _queued(platform)
    queue.record_opt_out(access, actor=MANAGER, uscc=None, phone=PHONE, reason="asked")
    assert [_status(platform, m.message_id) for m in sent] == [MessageStatus.CANCELLED] * 2
    provider = Provider()
    assert offers.dispatch_outbox(access, provider, actor=SYSTEM).sent == 0
    assert provider.seen == []


def test_the_dispatcher_cancels_what_a_rerun_dropped(platform: Platform) -> None:
    access = platform.prospect_access()
    ids, (first, second) = _queued(platform)
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(1)], meta=META)
    provider = Provider()
    report = offers.dispatch_outbox(access, provider, actor=SYSTEM)
    assert provider.seen == [second.message_id]
    assert (report.sent, report.cancelled) == (1, 1)
    assert _status(platform, first.message_id) is MessageStatus.CANCELLED
    assert _audited(platform, ids[uscc(0)])[-1] == "offer_cancelled"


def test_the_dispatcher_cancels_offers_whose_validity_passed(
    platform: Platform, clock: FixedClock
) -> None:
    access = platform.prospect_access()
    _ids, sent = _queued(platform)
    clock.advance(timedelta(days=90))  # past the rows' valid_until (2026-04-30)
    provider = Provider()
    report = offers.dispatch_outbox(access, provider, actor=SYSTEM)
    assert provider.seen == []
    assert (report.sent, report.cancelled) == (0, 2)
    assert [_status(platform, m.message_id) for m in sent] == [MessageStatus.CANCELLED] * 2
