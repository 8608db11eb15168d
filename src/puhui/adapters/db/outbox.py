"""The notification outbox on SQL (``services.notifications``): the caller commits.

Created by migration 0021 for pre-approval offers; post-loan notices (a recall) use it too.
The recipient is sealed with the field cipher, with a blind index in the one domain of every
phone column (an opt-out matches any of them).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from puhui.adapters.db.columns import HASH, ID, UtcDateTime
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.tables import metadata
from puhui.domain.errors import ConfigurationError
from puhui.services.notifications import Channel, MessageStatus, OutboxMessage

RECIPIENT = "notification_outbox.recipient"
PHONE_INDEX = "phone"
"""One blind-index domain for every phone column: an opt-out matches any of them."""

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("message_id", String(ID), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("recipient_enc", Text, nullable=False),
    Column("recipient_index", String(HASH), nullable=False),
    Column("template", String(64), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("subject_id", String(ID), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", String(400), nullable=True),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name="status"),
    Index("ix_notification_outbox_status", "status", "created_at"),
    Index("ix_notification_outbox_subject_id", "subject_id"),
)


class SqlOutbox:
    """``services.notifications.Outbox`` and the dispatcher's reads, on one connection."""

    def __init__(self, connection: Connection, cipher: FieldCipher | None) -> None:
        self._connection = connection
        self._cipher = cipher

    def _sealing(self) -> FieldCipher:
        if self._cipher is None:
            raise ConfigurationError("no field cipher: a message's recipient cannot be sealed")
        return self._cipher

    def add_message(self, message: OutboxMessage) -> None:
        cipher = self._sealing()
        self._connection.execute(
            insert(notification_outbox).values(
                message_id=message.message_id,
                channel=message.channel.value,
                recipient_enc=cipher.encrypt(RECIPIENT, message.recipient),
                recipient_index=cipher.blind_index(PHONE_INDEX, message.recipient),
                template=message.template,
                payload_json=json.dumps(dict(message.payload), ensure_ascii=False, sort_keys=True),
                subject_id=message.subject_id,
                status=message.status.value,
                attempts=message.attempts,
                created_at=message.created_at,
                sent_at=message.sent_at,
                last_error=message.last_error,
            )
        )

    def pending_messages(self, limit: int) -> list[OutboxMessage]:
        rows = self._connection.execute(
            select(notification_outbox)
            .where(notification_outbox.c.status == MessageStatus.PENDING.value)
            .order_by(notification_outbox.c.created_at, notification_outbox.c.message_id)
            .limit(limit)
        )
        return [self.message(row) for row in rows]

    def newest(
        self, status: MessageStatus | None, limit: int, offset: int = 0
    ) -> list[OutboxMessage]:
        """The newest messages first, of one status (served by its index) or all."""
        query = select(notification_outbox)
        if status is not None:
            query = query.where(notification_outbox.c.status == status.value)
        query = (
            query.order_by(
                notification_outbox.c.created_at.desc(), notification_outbox.c.message_id.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        return [self.message(row) for row in self._connection.execute(query)]

    def counts(self) -> dict[MessageStatus, int]:
        """How many messages the outbox holds of each status (every status named)."""
        found = dict.fromkeys(MessageStatus, 0)
        rows = self._connection.execute(
            select(notification_outbox.c.status, func.count()).group_by(
                notification_outbox.c.status
            )
        )
        for status, count in rows:
            found[MessageStatus(status)] = int(count)
        return found

    def get(self, message_id: str) -> OutboxMessage | None:
        row = self._connection.execute(
            select(notification_outbox).where(notification_outbox.c.message_id == message_id)
        ).first()
        return None if row is None else self.message(row)

    def of_subject(self, subject_id: str) -> list[OutboxMessage]:
        """Every message about ``subject_id``, oldest first (served by its index)."""
        rows = self._connection.execute(
            select(notification_outbox)
            .where(notification_outbox.c.subject_id == subject_id)
            .order_by(notification_outbox.c.created_at, notification_outbox.c.message_id)
        )
        return [self.message(row) for row in rows]

    def message(self, row: Row[Any]) -> OutboxMessage:
        return OutboxMessage(
            message_id=row.message_id,
            channel=Channel(row.channel),
            recipient=self._sealing().decrypt(RECIPIENT, row.recipient_enc),
            template=row.template,
            payload=json.loads(row.payload_json),
            subject_id=row.subject_id,
            status=MessageStatus(row.status),
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )

    def save_message(self, message: OutboxMessage) -> None:
        self._connection.execute(
            update(notification_outbox)
            .where(notification_outbox.c.message_id == message.message_id)
            .values(
                status=message.status.value,
                attempts=message.attempts,
                sent_at=message.sent_at,
                last_error=message.last_error,
            )
        )
