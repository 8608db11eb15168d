"""A notifier that writes each message to the log, its recipient masked.

What this installation sends through until an SMS gateway or WeChat account is configured:
the outbox, the dispatcher and the audit trail work the same, and the log shows what would
have gone out without a phone number in clear.
"""

from __future__ import annotations

import json
import logging

from puhui.domain.privacy import mask_phone, mask_text
from puhui.services.notifications import OutboxMessage

logger = logging.getLogger(__name__)


class LogNotifier:
    """``NotificationPort``: logs the message (recipient masked) and keeps what it sent."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        """Message ids delivered by this instance, in order (the dispatch CLI reports them)."""

    def deliver(self, message: OutboxMessage) -> None:
        body = mask_text(json.dumps(dict(message.payload), ensure_ascii=False, sort_keys=True))
        logger.info(
            "%s message %s to %s (%s): %s",
            message.channel.value,
            message.message_id,
            mask_phone(message.recipient),
            message.template,
            body,
        )
        self.delivered.append(message.message_id)
