"""The SMS platform adapter over a real HTTP connection: signed JSON, the message id as the
idempotency key, which refusals fail at once, timeouts and an unreachable platform; the
dispatch command delivering through it; its settings refused when unsafe."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, date, datetime

import pytest
from prospect_support import META, MONTH, PHONE, managers, row, uscc
from pydantic import ValidationError
from sms_platform import SECRET, sms_platform
from typer.testing import CliRunner

from puhui.adapters.notify.sms_gateway import SmsGateway
from puhui.bootstrap import Platform
from puhui.bootstrap.settings import Settings
from puhui.cli.main import app
from puhui.services.monitoring.tasks import RECALL_NOTICE_TEMPLATE
from puhui.services.notifications import (
    Channel,
    MessageStatus,
    NotificationFailed,
    OutboxMessage,
)
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.ports import ProspectQuery
from puhui.services.security.permissions import SYSTEM

runner = CliRunner()
NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def _message(phone: str = PHONE) -> OutboxMessage:
    return OutboxMessage(
        message_id="msg_01TEST",
        channel=Channel.SMS,
        recipient=phone,
        template=RECALL_NOTICE_TEMPLATE,
        payload={"called_in_on": "2026-02-10", "principal_fen": 5_000_000, "note": "提前收回"},
        subject_id="91330100MA00000007",
        status=MessageStatus.PENDING,
        attempts=0,
        created_at=datetime(2026, 2, 10, tzinfo=UTC),
    )


def _gateway(url: str, timeout: float = 5.0) -> SmsGateway:
    return SmsGateway(
        url, key_id="puhui-1", secret=SECRET.encode(), timeout_seconds=timeout, now=lambda: NOW
    )


def test_a_message_is_posted_as_signed_json_keyed_by_its_id() -> None:
    with sms_platform() as platform:
        gateway = _gateway(platform.url)
        try:
            gateway.deliver(_message())
        finally:
            gateway.close()
    (got,) = platform.received
    assert got.signed
    assert got.headers["idempotency-key"] == "msg_01TEST"
    assert got.headers["x-puhui-key-id"] == "puhui-1"
    assert got.headers["x-puhui-timestamp"] == "1767225600"
    assert got.headers["content-type"].startswith("application/json")
    assert got.document == {
        "message_id": "msg_01TEST",
        "channel": "sms",
        "to": PHONE,
        "template": RECALL_NOTICE_TEMPLATE,
        "params": {"called_in_on": "2026-02-10", "principal_fen": 5_000_000, "note": "提前收回"},
    }
    assert "提前收回".encode() in got.body  # UTF-8, not escaped


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (422, True), (404, True), (401, False), (429, False), (500, False), (503, False)],
)
def test_a_refusal_about_the_message_fails_at_once_and_the_rest_are_retried(
    status: int, permanent: bool
) -> None:
    with sms_platform() as platform:
        platform.answers.append((status, f'{{"error": "rejected {PHONE}"}}'))
        gateway = _gateway(platform.url)
        try:
            with pytest.raises(NotificationFailed) as refused:
                gateway.deliver(_message())
        finally:
            gateway.close()
    assert refused.value.permanent is permanent
    assert f"HTTP {status}" in refused.value.message
    # The platform's answer quoted the number: kept masked.
    assert 'rejected 138****5678"' in refused.value.message
    assert PHONE not in refused.value.message


def test_a_platform_that_does_not_answer_or_cannot_be_reached_is_retried() -> None:
    with sms_platform() as platform:
        platform.delay_seconds = 1.0
        gateway = _gateway(platform.url, timeout=0.2)
        try:
            with pytest.raises(NotificationFailed, match=r"did not answer within 0\.2 s") as slow:
                gateway.deliver(_message())
        finally:
            gateway.close()
    assert slow.value.permanent is False
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = _gateway(f"http://127.0.0.1:{port}/sms")
    try:
        with pytest.raises(NotificationFailed, match="could not be reached") as down:
            gateway.deliver(_message())
    finally:
        gateway.close()
    assert down.value.permanent is False


def _offered(platform: Platform, *, valid_until: date = date(2099, 12, 31)) -> OutboxMessage:
    access = platform.prospect_access()
    loading.load_run(
        access, actor=SYSTEM, month=MONTH, rows=[row(0, valid_until=valid_until)], meta=META
    )
    (found,) = queue.list_prospects(access, actor=SYSTEM, query=ProspectQuery(month=MONTH))
    (manager,) = managers(platform, "wang")
    return offers.send_offer(access, actor=manager, prospect_id=found.prospect_id, phone=PHONE)


def test_a_message_the_platform_refuses_as_wrong_is_failed_after_one_attempt(
    platform: Platform,
) -> None:
    message = _offered(platform)
    with sms_platform() as sms:
        sms.answers.append((400, '{"error": "unknown template"}'))
        gateway = _gateway(sms.url)
        try:
            report = offers.dispatch_outbox(platform.prospect_access(), gateway, actor=SYSTEM)
        finally:
            gateway.close()
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    with platform.prospects_uow() as uow:
        stored = uow.prospects.get_message(message.message_id)
    assert stored is not None
    assert (stored.status, stored.attempts) == (MessageStatus.FAILED, 1)
    assert (
        stored.last_error
        == 'the SMS platform refused the message (HTTP 400): {"error": "unknown template"}'
    )


def test_the_dispatch_command_delivers_through_the_configured_platform(
    platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _offered(platform)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_SMS_GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("PUHUI_SMS_GATEWAY_KEY_ID", "bank-sms-2026")
    with sms_platform() as sms:
        sms.answers.append((503, "maintenance"))
        monkeypatch.setenv("PUHUI_SMS_GATEWAY_URL", sms.url + "?tenant=puhui")
        first = runner.invoke(app, ["outbox", "dispatch"])
        assert first.exit_code == 0, first.output
        assert f"delivering through the SMS platform at {sms.url}\n" in first.output
        assert "tenant" not in first.output
        assert "0 sent, 1 to retry" in first.output
        second = runner.invoke(app, ["outbox", "dispatch", "--json"])
        assert second.exit_code == 0, second.output
        assert json.loads(second.output.strip().splitlines()[-1])["sent"] == 1
    assert [r.signed for r in sms.received] == [True, True]
    assert {r.headers["idempotency-key"] for r in sms.received} == {message.message_id}
    assert sms.received[1].headers["x-puhui-key-id"] == "bank-sms-2026"
    assert abs(int(sms.received[1].headers["x-puhui-timestamp"]) - time.time()) < 300
    document = sms.received[1].document
    assert (document["to"], document["template"]) == (PHONE, offers.OFFER_TEMPLATE)
    assert document["params"]["uscc"] == uscc(0)
    with platform.prospects_uow() as uow:
        stored = uow.prospects.get_message(message.message_id)
    assert stored is not None
    assert (stored.status, stored.attempts) == (MessageStatus.SENT, 2)


def test_without_a_platform_the_dispatch_says_it_writes_to_the_log(
    platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offered(platform)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.delenv("PUHUI_SMS_GATEWAY_URL", raising=False)
    done = runner.invoke(app, ["outbox", "dispatch"])
    assert done.exit_code == 0, done.output
    assert "delivering through the log (PUHUI_SMS_GATEWAY_URL is not set)" in done.output
    assert "1 sent" in done.output


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"sms_gateway_url": "https://sms.bank.example/send"},
            "PUHUI_SMS_GATEWAY_SECRET must be set",
        ),
        (
            {"sms_gateway_url": "https://sms.bank.example/send", "sms_gateway_secret": "short"},
            "at least 32 characters",
        ),
        (
            {"sms_gateway_url": "http://sms.bank.example/send", "sms_gateway_secret": SECRET},
            "plain http is allowed only to this machine",
        ),
        ({"sms_gateway_url": "ftp://sms.bank.example", "sms_gateway_secret": SECRET}, "https://"),
        (
            {
                "sms_gateway_url": "https://sms.bank.example",
                "sms_gateway_secret": SECRET,
                "sms_gateway_key_id": "has spaces",
            },
            "sms_gateway_key_id",
        ),
    ],
)
def test_unsafe_platform_settings_are_refused(values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        _settings(**values)


def test_safe_platform_settings_are_accepted() -> None:
    assert _settings(sms_gateway_url="", sms_gateway_secret=None).sms_gateway_url == ""
    https = _settings(sms_gateway_url="https://sms.bank.example/send", sms_gateway_secret=SECRET)
    assert https.sms_gateway_timeout_seconds == 5.0
    local = _settings(sms_gateway_url="http://127.0.0.1:9000/send", sms_gateway_secret=SECRET)
    assert local.sms_gateway_key_id == "puhui"
