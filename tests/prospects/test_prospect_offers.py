"""Offers and the outbox on the database: delivery, retries, refusals; expiry by a re-run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from prospect_support import META, MONTH, PHONE, managers, row, uscc
from typer.testing import CliRunner

from puhui.bootstrap import Platform
from puhui.cli.main import app
from puhui.domain.prospects import ProspectStatus
from puhui.services.notifications import NotificationFailed, OutboxMessage
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.ports import MarketingOptedOut, ProspectExpired, ProspectQuery
from puhui.services.security.permissions import SYSTEM

runner = CliRunner()


@dataclass
class RefusingProvider:
    """A provider stand-in that refuses the first ``refusals`` deliveries."""

    refusals: int
    seen: list[str] = field(default_factory=list)

    def deliver(self, message: OutboxMessage) -> None:
        self.seen.append(message.message_id)
        if len(self.seen) <= self.refusals:
            raise NotificationFailed("gateway busy")


def _prospects(platform: Platform) -> dict[str, str]:
    found = queue.list_prospects(
        platform.prospect_access(), actor=SYSTEM, query=ProspectQuery(month=MONTH)
    )
    return {r.row.uscc: r.prospect_id for r in found}


def test_a_refused_delivery_is_retried_then_marked_failed(platform: Platform) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    ids = _prospects(platform)
    offers.send_offer(access, actor=manager, prospect_id=ids[uscc(0)], phone=PHONE)
    provider = RefusingProvider(refusals=3)
    reports = [offers.dispatch_outbox(access, provider, actor=SYSTEM) for _ in range(4)]
    assert [(r.sent, r.failed, r.retrying) for r in reports] == [
        (0, 0, 1),
        (0, 0, 1),
        (0, 1, 0),
        (0, 0, 0),
    ]
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=ids[uscc(0)])
    assert view.record.offer_status is not None
    assert view.record.offer_status.value == "failed"
    assert [e.action for e in view.history][-1] == "offer_failed"
    offers.send_offer(access, actor=manager, prospect_id=ids[uscc(1)], phone=PHONE)
    assert offers.dispatch_outbox(access, provider, actor=SYSTEM).sent == 1


def test_an_opted_out_enterprise_gets_no_offer_and_nothing_is_queued(platform: Platform) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0)], meta=META)
    ids = _prospects(platform)
    queue.record_opt_out(access, actor=manager, uscc=uscc(0).lower(), phone=None, reason="asked")
    with pytest.raises(MarketingOptedOut):
        offers.send_offer(access, actor=manager, prospect_id=ids[uscc(0)], phone=PHONE)
    with platform.prospects_uow() as uow:
        assert uow.prospects.pending_messages(10) == []
        stored = uow.prospects.get(ids[uscc(0)])
    assert stored is not None
    assert stored.status is ProspectStatus.NEW
    assert stored.contact_phone is None


def test_a_prospect_dropped_by_a_rerun_can_no_longer_be_worked(platform: Platform) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    ids = _prospects(platform)
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(1)], meta=META)
    with pytest.raises(ProspectExpired):
        queue.move_prospect(
            access, actor=manager, prospect_id=ids[uscc(0)], status=ProspectStatus.CONTACTED
        )
    with pytest.raises(ProspectExpired):
        offers.send_offer(access, actor=manager, prospect_id=ids[uscc(0)], phone=PHONE)
    # Listed again by a later run of the month: new again, with its history kept.
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0), row(1)], meta=META)
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=ids[uscc(0)])
    assert view.record.status is ProspectStatus.NEW
    assert [e.action for e in view.history] == ["loaded", "dropped_by_run", "relisted"]


def test_the_dispatch_command_delivers_what_is_pending_and_cancels_what_is_withdrawn(
    platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    # The command runs on the machine's clock, long after the second offer's validity
    # (30 April 2026); the first stays valid.
    live = row(0, valid_until=date(2099, 12, 31))
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[live, row(1)], meta=META)
    ids = _prospects(platform)
    for enterprise in (uscc(0), uscc(1)):
        offers.send_offer(access, actor=manager, prospect_id=ids[enterprise], phone=PHONE)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")

    bad = runner.invoke(app, ["outbox", "dispatch", "--limit", "0"])
    assert bad.exit_code == 2
    assert "--limit" in bad.output
    with platform.prospects_uow() as uow:
        assert len(uow.prospects.pending_messages(10)) == 2  # nothing was touched

    done = runner.invoke(app, ["outbox", "dispatch", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1]) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "cancelled": 1,
    }
    view = queue.get_prospect(access, actor=SYSTEM, prospect_id=ids[uscc(0)])
    assert view.record.offer_status is not None
    assert view.record.offer_status.value == "sent"
    with platform.uow() as uow:
        (sent_event,) = [e for e in uow.audit.events() if e.action == "prospect.offer_sent"]
    assert sent_event.actor == "admin:outbox-dispatch"
    again = runner.invoke(app, ["outbox", "dispatch"])
    assert again.exit_code == 0, again.output
    assert "no message was waiting in the outbox" in again.output

    # What the outbox holds, newest first, with the phones masked.
    listed = runner.invoke(app, ["outbox", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output.strip().splitlines()[-1])
    assert sorted(r["status"] for r in rows) == ["cancelled", "sent"]
    assert {r["recipient"] for r in rows} == {"138****5678"}
    assert PHONE not in listed.output
    sent = runner.invoke(app, ["outbox", "list", "--status", "sent"])
    assert sent.exit_code == 0, sent.output
    assert " sent " in sent.output
    assert "138****5678" in sent.output
    assert "cancelled" not in sent.output
    assert PHONE not in sent.output
    failed = runner.invoke(app, ["outbox", "list", "--status", "failed"])
    assert "no message in the outbox is failed" in failed.output
    assert runner.invoke(app, ["outbox", "list", "--status", "lost"]).exit_code == 2


def test_the_dispatch_command_refuses_a_database_not_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    refused = runner.invoke(app, ["outbox", "dispatch"])
    assert refused.exit_code == 2
    assert "run `puhui db upgrade`" in refused.output


@dataclass
class UnreachableProvider:
    """A provider stand-in whose refusal quotes the number."""

    def deliver(self, message: OutboxMessage) -> None:
        raise NotificationFailed(f"number {message.recipient} unreachable")


def test_the_outbox_list_masks_the_number_in_a_providers_error(
    platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    live = row(0, valid_until=date(2099, 12, 31))
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[live], meta=META)
    offers.send_offer(access, actor=manager, prospect_id=_prospects(platform)[uscc(0)], phone=PHONE)
    for _ in range(3):
        offers.dispatch_outbox(access, UnreachableProvider(), actor=SYSTEM)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    for args in (["--json"], []):
        listed = runner.invoke(app, ["outbox", "list", "--status", "failed", *args])
        assert listed.exit_code == 0, listed.output
        assert "unreachable" in listed.output
        assert "138****5678" in listed.output
        assert PHONE not in listed.output
