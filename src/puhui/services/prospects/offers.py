"""Offers to prospects through the notification port, by way of an outbox.

Sending an offer writes an outbox row in the same transaction as the prospect's change and
its audit event: either both happen or neither. A dispatcher delivers pending rows later
through the ``NotificationPort`` (a log here; an SMS gateway or WeChat behind the same port),
at least once: a message delivered whose status could not be written is sent again. Before each
delivery the dispatcher checks again that the offer may still go (no opt-out since, the
prospect still listed and within its validity) and cancels it otherwise. The same dispatch
delivers the outbox's other messages, the notices post-loan monitoring writes (a recall): a
notice of what the bank did to a loan is not marketing, so no opt-out withdraws it.

An offer is refused, with the reason, when the prospect lapsed, said no or already applied,
when the enterprise or the phone opted out of marketing, and when the run read data the bank
may use only after consent (a pre-approval before consent rests on the bank's own records and
public data, never on tax, invoices or the credit bureau).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.identity import validate_mobile
from puhui.domain.ids import new_id
from puhui.domain.privacy import mask_text
from puhui.domain.prospects import ProspectStatus
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.audit import record
from puhui.services.notifications import (
    Channel,
    MessageStatus,
    NotificationFailed,
    NotificationPort,
    OutboxMessage,
)
from puhui.services.prospects.access import ProspectAccess, require_worker, taker
from puhui.services.prospects.ports import (
    MarketingOptedOut,
    MessageNotRequeued,
    OfferState,
    PreConsentViolation,
    ProspectRecord,
)
from puhui.services.prospects.queue import (
    cancel_message,
    is_live,
    require_live,
    require_prospect,
    save_change,
)
from puhui.services.security.permissions import Permission, Principal, require

logger = logging.getLogger(__name__)

OFFER_TEMPLATE = "prospect_offer_v1"
MAX_ATTEMPTS = 3
"""Deliveries tried before a message is marked failed."""
NOT_OFFERED = frozenset({ProspectStatus.NOT_INTERESTED, ProspectStatus.APPLIED})


def offer_payload(record: ProspectRecord) -> dict[str, object]:
    """What the message says: the pre-approved terms, nothing read after consent."""
    row = record.row
    return {
        "prospect_id": record.prospect_id,
        "uscc": row.uscc,
        "limit_fen": row.limit_fen,
        "annual_rate": str(row.annual_rate),
        "valid_until": row.valid_until.isoformat(),
    }


def send_offer(
    access: ProspectAccess,
    *,
    actor: Principal,
    prospect_id: str,
    phone: str,
    channel: Channel = Channel.SMS,
) -> OutboxMessage:
    """Queue the prospect's offer to ``phone`` (kept sealed as its contact)."""
    require(actor, Permission.PROSPECT_WORK)
    recipient = validate_mobile(phone)
    now = access.clock.now()
    with access.units() as uow:
        stored = require_prospect(uow, prospect_id)
        require_worker(actor, stored)
        require_live(stored, access.clock.today())
        if stored.status in NOT_OFFERED:
            raise Conflict(
                f"no offer goes to a prospect that is {stored.status.value}",
                details={"status": stored.status.value},
            )
        if uow.prospects.opted_out(uscc=stored.row.uscc, phone=recipient):
            raise MarketingOptedOut(
                "the enterprise or this phone opted out of marketing: no offer is sent",
                details={"prospect_id": prospect_id},
            )
        run = uow.prospects.run(stored.run_id)
        extra = sorted(set() if run is None else run.meta.sources - PRE_CONSENT_SOURCES)
        if run is None or extra:
            raise PreConsentViolation(
                "the pre-approval read data that needs the enterprise's consent: "
                + ", ".join(extra or ["unknown run"]),
                details={"sources": extra},
            )
        message = OutboxMessage(
            message_id=new_id("msg"),
            channel=channel,
            recipient=recipient,
            template=OFFER_TEMPLATE,
            payload=offer_payload(stored),
            subject_id=prospect_id,
            status=MessageStatus.PENDING,
            attempts=0,
            created_at=now,
        )
        uow.prospects.add_message(message)
        changed = replace(
            stored,
            status=ProspectStatus.CONTACTED
            if stored.status is ProspectStatus.NEW
            else stored.status,
            contact_phone=recipient,
            offer_status=OfferState.QUEUED,
            offered_at=now,
            assigned_to=stored.assigned_to or taker(actor),
            updated_at=now,
            version=stored.version + 1,
        )
        save_change(
            uow,
            actor,
            stored,
            changed,
            "offer_queued",
            detail=message.message_id,
            payload={"message_id": message.message_id, "channel": channel.value},
        )
        uow.commit()
    return message


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sent: int
    failed: int
    retrying: int
    cancelled: int = 0
    """Withdrawn before delivery: opted out, dropped by a re-run or past their validity."""


def dispatch_outbox(
    access: ProspectAccess, notifier: NotificationPort, *, actor: Principal, limit: int = 100
) -> DispatchReport:
    """Deliver pending messages, oldest first; each one's outcome in its own transaction.

    A refusal is tried again at the next dispatch, ``MAX_ATTEMPTS`` in all; one the provider
    calls permanent (the message itself is wrong) fails at once."""
    require(actor, Permission.NOTIFICATION_MANAGE)
    if not 1 <= limit <= 10_000:
        raise InvalidInput("dispatch 1 to 10000 messages at a time", details={"field": "limit"})
    with access.units() as uow:
        pending = uow.prospects.pending_messages(limit)
    sent = failed = retrying = cancelled = 0
    for message in pending:
        if message.template == OFFER_TEMPLATE and _withdrawn(access, actor, message):
            cancelled += 1
            continue
        error: str | None = None
        permanent = False
        try:
            notifier.deliver(message)
        except NotificationFailed as exc:
            # A provider may quote the number: what is kept (outbox, audit, log) is masked.
            error = mask_text(exc.message)[:400]
            permanent = exc.permanent
        attempts = message.attempts + 1
        if error is None:
            status = MessageStatus.SENT
            sent += 1
        elif permanent or attempts >= MAX_ATTEMPTS:
            status = MessageStatus.FAILED
            failed += 1
        else:
            status = MessageStatus.PENDING
            retrying += 1
        _record_delivery(access, actor, message, status=status, attempts=attempts, error=error)
    return DispatchReport(sent=sent, failed=failed, retrying=retrying, cancelled=cancelled)


def outbox_messages(
    access: ProspectAccess,
    *,
    actor: Principal,
    status: MessageStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[OutboxMessage]:
    """What the outbox holds, newest first: of one status (``failed``: what needs a look) or
    all. The recipients are in clear: the caller masks them where it shows them."""
    require(actor, Permission.NOTIFICATION_MANAGE)
    if not 1 <= limit <= 1_000:
        raise InvalidInput("list 1 to 1000 messages at a time", details={"field": "limit"})
    if not 0 <= offset <= 10_000_000:
        raise InvalidInput("a page starts at 0 to 10000000", details={"field": "offset"})
    with access.units() as uow:
        return uow.prospects.messages(status, limit, offset)


def outbox_counts(access: ProspectAccess, *, actor: Principal) -> dict[MessageStatus, int]:
    """How many messages the outbox holds of each status."""
    require(actor, Permission.NOTIFICATION_MANAGE)
    with access.units() as uow:
        return uow.prospects.message_counts()


def requeue_message(access: ProspectAccess, *, actor: Principal, message_id: str) -> OutboxMessage:
    """Queue a failed message again, its attempts from zero: the next dispatch delivers it.

    For when the provider was down longer than the retries (a phone number that is wrong fails
    again). An offer goes again only while it is the prospect's latest message and the offer
    may still be made (listed, within its validity, no opt-out); the dispatch checks that once
    more before delivering. A notice goes again whatever marketing choices say.
    """
    require(actor, Permission.NOTIFICATION_MANAGE)
    now = access.clock.now()
    with access.units() as uow:
        message = uow.prospects.get_message(message_id)
        if message is None:
            raise NotFound("no such message in the outbox", details={"message_id": message_id})
        if message.status is not MessageStatus.FAILED:
            raise MessageNotRequeued(
                f"only a failed message is queued again; this one is {message.status.value}",
                details={"message_id": message_id, "status": message.status.value},
            )
        stored = None
        if message.template == OFFER_TEMPLATE:
            stored = require_prospect(uow, message.subject_id)
            require_live(stored, access.clock.today())
            latest = uow.prospects.messages_about(message.subject_id)[-1]
            if latest.message_id != message.message_id:
                raise MessageNotRequeued(
                    "a later offer went to this prospect: the failed one is not sent again",
                    details={"message_id": message_id, "later": latest.message_id},
                )
            if uow.prospects.opted_out(uscc=stored.row.uscc, phone=message.recipient):
                raise MarketingOptedOut(
                    "the enterprise or this phone opted out of marketing since: not sent again",
                    details={"message_id": message_id},
                )
        queued = replace(message, status=MessageStatus.PENDING, attempts=0, last_error=None)
        uow.prospects.save_message(queued)
        trail = {"message_id": message_id, "failed_attempts": message.attempts}
        if stored is not None:
            changed = replace(
                stored, offer_status=OfferState.QUEUED, updated_at=now, version=stored.version + 1
            )
            save_change(
                uow, actor, stored, changed, "offer_requeued", detail=message_id, payload=trail
            )
        else:
            record(
                uow,
                actor=actor.audit_name(),
                action="notification.requeued",
                entity="notification",
                entity_id=message_id,
                payload={
                    "template": message.template,
                    "subject_id": message.subject_id,
                    "failed_attempts": message.attempts,
                    "error": None if message.last_error is None else mask_text(message.last_error),
                },
            )
        uow.commit()
    logger.info("message %s (%s) queued again by %s", message_id, message.template, actor.user_id)
    return queued


def _withdrawn(access: ProspectAccess, actor: Principal, message: OutboxMessage) -> bool:
    """Cancel the message if what allowed it changed since it was queued.

    An opt-out recorded since, a re-run that dropped the prospect, or its validity passing:
    the offer is no longer the bank's to make, so it is not sent.
    """
    with access.units() as uow:
        stored = uow.prospects.get(message.subject_id)
        if stored is None:
            reason = "no_prospect"
        elif uow.prospects.opted_out(uscc=stored.row.uscc, phone=message.recipient):
            reason = "opted_out"
        elif not is_live(stored, access.clock.today()):
            reason = "expired"
        else:
            return False
        cancel_message(uow, actor, message, reason=reason, now=access.clock.now())
        uow.commit()
    logger.info("offer %s cancelled before delivery: %s", message.message_id, reason)
    return True


def _record_delivery(
    access: ProspectAccess,
    actor: Principal,
    message: OutboxMessage,
    *,
    status: MessageStatus,
    attempts: int,
    error: str | None,
) -> None:
    now = access.clock.now()
    with access.units() as uow:
        uow.prospects.save_message(
            replace(
                message,
                status=status,
                attempts=attempts,
                sent_at=now if status is MessageStatus.SENT else None,
                last_error=error,
            )
        )
        offer = message.template == OFFER_TEMPLATE
        stored = uow.prospects.get(message.subject_id) if offer else None
        if not offer and status is not MessageStatus.PENDING:
            # A notice has no prospect to keep its history: the audit trail does.
            record(
                uow,
                actor=actor.audit_name(),
                action=f"notification.{status.value}",
                entity="notification",
                entity_id=message.message_id,
                payload={
                    "template": message.template,
                    "subject_id": message.subject_id,
                    "channel": message.channel.value,
                    "attempts": attempts,
                    "error": None if error is None else mask_text(error),
                },
            )
        if stored is not None and status is not MessageStatus.PENDING:
            state = OfferState.SENT if status is MessageStatus.SENT else OfferState.FAILED
            changed = replace(
                stored, offer_status=state, updated_at=now, version=stored.version + 1
            )
            save_change(
                uow,
                actor,
                stored,
                changed,
                f"offer_{state.value}",
                detail=message.message_id,
                payload={"message_id": message.message_id, "attempts": attempts},
            )
        uow.commit()
    if error is not None:
        logger.warning(
            "message %s (%s) not delivered (attempt %d): %s",
            message.message_id,
            message.template,
            attempts,
            error,
        )
