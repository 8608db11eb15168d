"""The notification outbox in the console (``/console/outbox``): what the bank told customers.

Offers to prospects and notices to borrowers (a recall) wait in the outbox until
``puhui outbox dispatch`` delivers them. The page counts the messages by status, lists them
newest first (one status or all, a page at a time) with their recipients masked and the
provider's last error masked too, links each to what it is about, and queues a failed message
again (the service refuses an offer superseded, lapsed or opted out since). What a message
says is not shown: it is the provider's to render from its template.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from puhui.domain.errors import ConfigurationError, InvalidInput
from puhui.domain.privacy import mask_phone, mask_text
from puhui.services.monitoring.tasks import RECALL_NOTICE_TEMPLATE
from puhui.services.notifications import Channel, MessageStatus, OutboxMessage
from puhui.services.prospects import offers
from puhui.services.prospects.access import ProspectAccess
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.forms import page_offset
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.ops import CHINA_TIME

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 50


def failed_messages(deps: ApiDependencies, principal: Principal) -> int:
    """Messages the provider refused for good: the customers were not told."""
    if deps.prospects is None:
        raise ConfigurationError("the outbox is not wired in this site")
    counts = offers.outbox_counts(deps.prospects, actor=principal)
    return counts.get(MessageStatus.FAILED, 0)


NAV = (
    NavItem(
        "/console/outbox",
        N_("Outbox"),
        N_("Offers and notices to customers: what was sent, what failed; send a failed one again."),
        Permission.NOTIFICATION_MANAGE,
        order=92,
        waiting=failed_messages,
        waiting_label=N_("Failed messages: %(count)s"),
    ),
)

ERRORS = {
    "message_not_requeued": N_(
        "This message cannot be sent again: only a failed message is, and an offer only while "
        "it is the prospect's latest."
    ),
}
LOCAL_ERRORS = {
    "marketing_opted_out": N_(
        "The enterprise or this phone asked for no marketing since: the offer is not sent again."
    ),
    "prospect_expired": N_("The pre-approval has lapsed: the offer is not sent again."),
}
"""The prospects area's refusals, as they read on this page (the prospect pages keep theirs)."""
STATUS_NAMES = {
    MessageStatus.PENDING: N_("Waiting"),
    MessageStatus.SENT: N_("Sent"),
    MessageStatus.FAILED: N_("Failed"),
    MessageStatus.CANCELLED: N_("Withdrawn"),
}
TEMPLATE_NAMES = {
    offers.OFFER_TEMPLATE: N_("Pre-approval offer"),
    RECALL_NOTICE_TEMPLATE: N_("Notice: loans called in"),
}
CHANNEL_NAMES = {Channel.SMS: N_("Text message"), Channel.WECHAT: N_("WeChat")}
CANCEL_REASONS = {
    "opted_out": N_("asked for no marketing"),
    "expired": N_("the pre-approval lapsed"),
    "no_prospect": N_("the prospect is no longer listed"),
}
"""Why the dispatch withdrew an offer (kept as the message's last error)."""
NOTICES = {"requeued": N_("The message is queued again: the next dispatch sends it.")}


def _access(request: Request) -> tuple[ApiDependencies, ProspectAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.prospects is None:
        raise ConfigurationError("the outbox is not wired in this site")
    return deps, deps.prospects


def _status(value: str | None) -> MessageStatus | None:
    if not value:
        return None
    try:
        return MessageStatus(value)
    except ValueError:
        raise InvalidInput("choose a status from the list", details={"field": "status"}) from None


def _subject_link(message: OutboxMessage) -> str | None:
    """Where the console shows what the message is about."""
    if message.template == offers.OFFER_TEMPLATE:
        return f"/console/prospects/{message.subject_id}"
    if message.template == RECALL_NOTICE_TEMPLATE:
        return f"/console/lines?customer={message.subject_id}"
    return None


def _row(message: OutboxMessage) -> dict[str, object]:
    """A message as the page shows it: the phone and the provider's error masked."""
    error = message.last_error
    return {
        "message_id": message.message_id,
        "created_at": message.created_at.astimezone(CHINA_TIME),
        "sent_at": None if message.sent_at is None else message.sent_at.astimezone(CHINA_TIME),
        "template": message.template,
        "subject_id": message.subject_id,
        "subject_link": _subject_link(message),
        "channel": message.channel,
        "recipient": mask_phone(message.recipient),
        "status": message.status,
        "attempts": message.attempts,
        "reason": CANCEL_REASONS.get(error or "")
        if message.status is MessageStatus.CANCELLED
        else None,
        "error": None if error is None else mask_text(error),
    }


@router.get("/console/outbox")
async def outbox_list(
    request: Request, principal: StaffUser, status: str | None = None, offset: str | None = None
) -> HTMLResponse:
    deps, access = _access(request)
    chosen = _status(status)
    start = page_offset(offset)
    counts = await call(deps, offers.outbox_counts, access, actor=principal)
    found = await call(
        deps,
        offers.outbox_messages,
        access,
        actor=principal,
        status=chosen,
        limit=PAGE,
        offset=start,
    )
    return console_page(
        request,
        principal,
        "outbox/list.html",
        {
            "messages": [_row(m) for m in found],
            "counts": counts,
            "total": sum(counts.values()),
            "chosen": chosen,
            "statuses": STATUS_NAMES,
            "templates": TEMPLATE_NAMES,
            "channels": CHANNEL_NAMES,
            "failed": MessageStatus.FAILED,
            "cancelled": MessageStatus.CANCELLED,
            "offset": start,
            "previous_offset": max(0, start - PAGE) if start else None,
            "next_offset": start + PAGE if len(found) == PAGE else None,
            "notice": NOTICES.get(request.query_params.get("done") or ""),
        },
    )


@router.post("/console/outbox/{message_id}/requeue")
async def outbox_requeue(
    request: Request, principal: StaffUser, message_id: str
) -> RedirectResponse:
    await session.verified_form(request)
    deps, access = _access(request)
    await call(deps, offers.requeue_message, access, actor=principal, message_id=message_id[:64])
    return RedirectResponse("/console/outbox?status=pending&done=requeued", status_code=303)
