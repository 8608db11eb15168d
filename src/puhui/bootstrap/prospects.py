"""Load a pre-approval run into the configured platform (``puhui prospect run --load``).

The batch hands over its rows once they are all computed; this loads them in one transaction
on the platform's database (``services.prospects.loading``): a batch that fails before the
hand-over, or a load that fails, leaves the month's list as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

from puhui.adapters.notify.log import LogNotifier
from puhui.adapters.notify.sms_gateway import SmsGateway
from puhui.bootstrap.container import Platform, build_platform
from puhui.bootstrap.settings import Settings
from puhui.domain.errors import ConfigurationError
from puhui.domain.prospects import ProspectRow
from puhui.services.notifications import MessageStatus, NotificationPort, OutboxMessage
from puhui.services.prospects import loading, offers
from puhui.services.prospects.loading import LoadReport
from puhui.services.prospects.offers import DispatchReport
from puhui.services.prospects.ports import RunMeta
from puhui.services.security.permissions import SYSTEM, Principal

BATCH = Principal(user_id="prospect-run", role=SYSTEM.role)
"""The pre-approval batch as it is audited (``admin:prospect-run``)."""
DISPATCH = Principal(user_id="outbox-dispatch", role=SYSTEM.role)
"""The outbox's dispatch as it is audited (``admin:outbox-dispatch``): offers' deliveries in
their prospects' history, notices' in ``notification.sent`` and ``notification.failed``."""


def load_run(
    settings: Settings, rows: Sequence[ProspectRow], *, run_meta: RunMeta, month: date
) -> LoadReport:
    """Load ``rows`` (``month``'s full list) as that month's current list.

    The month is said, not taken from the rows: a run that pre-approves nobody is loaded too,
    and expires the month's earlier list (a re-run replaces the month's list, whatever it
    finds). Rows of another month are refused.
    """
    platform = build_platform(settings)
    try:
        return load_run_on(platform, rows, run_meta=run_meta, month=month)
    finally:
        platform.close()


def load_run_on(
    platform: Platform, rows: Sequence[ProspectRow], *, run_meta: RunMeta, month: date
) -> LoadReport:
    """:func:`load_run` on a platform already built: the demo's, whose clock is simulated
    (the run is stamped with the simulated day, not the machine's)."""
    _require_migrated(platform)
    return loading.load_run(
        platform.prospect_access(),
        actor=BATCH,
        month=month,
        rows=rows,
        meta=run_meta,
    )


def notifier(settings: Settings) -> NotificationPort:
    """Where the outbox delivers: the bank's SMS platform when PUHUI_SMS_GATEWAY_URL is set,
    else the log (phones masked). Close an ``SmsGateway`` after use."""
    if not settings.sms_gateway_url or settings.sms_gateway_secret is None:
        return LogNotifier()
    return SmsGateway(
        settings.sms_gateway_url,
        key_id=settings.sms_gateway_key_id,
        secret=settings.sms_gateway_secret.get_secret_value().encode(),
        timeout_seconds=settings.sms_gateway_timeout_seconds,
    )


def delivery_route(settings: Settings) -> str:
    """Where ``dispatch`` sends, for people: the platform's address without its query."""
    if not settings.sms_gateway_url:
        return "the log (PUHUI_SMS_GATEWAY_URL is not set)"
    address = urlsplit(settings.sms_gateway_url)
    return f"the SMS platform at {address.scheme}://{address.netloc}{address.path}"


def dispatch(settings: Settings, *, limit: int = 100) -> DispatchReport:
    """Deliver the outbox's pending messages (offers and notices) through :func:`notifier`
    (``puhui outbox dispatch``)."""
    platform = build_platform(settings)
    provider = notifier(settings)
    try:
        _require_migrated(platform)
        return offers.dispatch_outbox(
            platform.prospect_access(), provider, actor=DISPATCH, limit=limit
        )
    finally:
        if isinstance(provider, SmsGateway):
            provider.close()
        platform.close()


def outbox_messages(
    settings: Settings, *, status: MessageStatus | None, limit: int
) -> list[OutboxMessage]:
    """The outbox's messages, newest first (``puhui outbox list``)."""
    platform = build_platform(settings)
    try:
        _require_migrated(platform)
        return offers.outbox_messages(
            platform.prospect_access(), actor=DISPATCH, status=status, limit=limit
        )
    finally:
        platform.close()


def requeue_message(settings: Settings, message_id: str, *, actor: Principal) -> OutboxMessage:
    """Queue a failed message again (``puhui outbox requeue``), audited as ``actor``."""
    platform = build_platform(settings)
    try:
        _require_migrated(platform)
        return offers.requeue_message(
            platform.prospect_access(), actor=actor, message_id=message_id
        )
    finally:
        platform.close()


def _require_migrated(platform: Platform) -> None:
    if not platform.database.status().up_to_date:
        raise ConfigurationError(
            "the platform database is not migrated to the latest schema: run `puhui db upgrade`"
        )
