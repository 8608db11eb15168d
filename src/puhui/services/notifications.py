"""Messages to customers through the outbox: pre-approval offers, and notices of what the bank
did to their loans (a recall).

A message is written to the outbox (``notification_outbox``, the recipient sealed) in the
transaction of the change it tells of, and delivered later, each in its own transaction, by
``puhui outbox dispatch`` through the ``NotificationPort`` (the bank's SMS platform,
``adapters.notify.sms_gateway``, or a log when none is configured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from puhui.domain.errors import PuhuiError


class NotificationFailed(PuhuiError):
    """A provider did not take a message: the outbox tries it again, unless the provider said
    the message itself is wrong (``permanent``: a number it refuses, a template it rejects),
    when it is failed at once."""

    code = "notification_failed"

    def __init__(
        self, message: str, *, permanent: bool = False, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.permanent = permanent


class Channel(StrEnum):
    """Where a message goes; the providers plug in behind ``NotificationPort``."""

    SMS = "sms"
    WECHAT = "wechat"


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """Withdrawn before delivery (an offer after an opt-out, or its prospect no longer live)."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    message_id: str
    channel: Channel
    recipient: str
    template: str
    payload: Mapping[str, Any]
    subject_id: str
    """What the message is about: a prospect (an offer) or a customer (a notice)."""
    status: MessageStatus
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None = None
    last_error: str | None = None


class NotificationPort(Protocol):
    """Delivers one message to its recipient (an SMS gateway, WeChat, a log)."""

    def deliver(self, message: OutboxMessage) -> None:
        """Hand the message over; ``NotificationFailed`` when the provider refused it."""
        ...


class Outbox(Protocol):
    """Where a unit of work writes the messages its change sends."""

    def add_message(self, message: OutboxMessage) -> None: ...
