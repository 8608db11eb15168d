"""Re-encrypt every encrypted column under the current data key (``puhui keys rotate``).

Rows are read in primary-key order, a batch at a time, each batch in its own transaction:
an interrupted run keeps what it did, and running again only touches values still sealed
under an older key (a value already under the current key is left as it is). Each value is
written back only if it is unchanged since it was read, so a concurrent writer is never
overwritten; such a row is counted as ``skipped`` and the next run picks it up.

Blind indexes are not touched: their key is separate from the data key and does not rotate.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, Table, and_, select

from puhui.adapters.db import outbox
from puhui.adapters.db.collections import tables as collection_tables
from puhui.adapters.db.collections.repository import NOTE_COLUMN
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination import tables as origination_tables
from puhui.adapters.db.post_loan import tables as post_loan_tables
from puhui.adapters.db.post_loan.repository import CLOSE_REASON, HANDOFF_NOTE, TASK_NOTE
from puhui.adapters.db.prospects import repository as prospect_repository
from puhui.adapters.db.prospects import tables as prospect_tables
from puhui.adapters.db.security import tables as security_tables

ENCRYPTED_COLUMNS: tuple[tuple[Table, str, dict[str, str]], ...] = (
    (
        origination_tables.applications,
        "application_id",
        {f"{name}_enc": name for name in origination_tables.ENCRYPTED_COLUMNS},
    ),
    (security_tables.users, "user_id", {"phone_enc": "phone"}),
    # Staff notes are sealed under their table and column (their repositories' names).
    (collection_tables.collection_contacts, "contact_id", {"note_enc": NOTE_COLUMN}),
    (post_loan_tables.monitoring_tasks, "task_id", {"note_enc": TASK_NOTE}),
    (post_loan_tables.monitoring_alerts, "alert_id", {"close_reason_enc": CLOSE_REASON}),
    (post_loan_tables.collection_handoffs, "task_id", {"note_enc": HANDOFF_NOTE}),
    (
        prospect_tables.prospects,
        "prospect_id",
        {
            "notes_enc": prospect_repository.NOTES,
            "contact_phone_enc": prospect_repository.PHONE,
        },
    ),
    (
        outbox.notification_outbox,
        "message_id",
        {"recipient_enc": outbox.RECIPIENT},
    ),
)
"""Every table with encrypted columns: its primary key, and each ``_enc`` column with the name
its values are sealed under (part of their authenticated data)."""


@dataclass
class ColumnReport:
    table: str
    column: str
    current: int = 0
    """Values already under the current key (left alone)."""
    rotated: int = 0
    """Values re-encrypted under the current key by this run."""
    skipped: int = 0
    """Values changed by another writer while this run read them (run again)."""

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


def rotate(
    engine: Engine, cipher: FieldCipher, *, batch_size: int = 500, dry_run: bool = False
) -> list[ColumnReport]:
    """Re-encrypt what an older key sealed; with ``dry_run`` only count it."""
    reports: list[ColumnReport] = []
    for table, key, columns in ENCRYPTED_COLUMNS:
        per_column = {c: ColumnReport(table.name, c) for c in columns}
        reports.extend(per_column.values())
        pk = table.c[key]
        after: str | None = None
        while True:
            query = select(pk, *(table.c[c] for c in columns)).order_by(pk).limit(batch_size)
            if after is not None:
                query = query.where(pk > after)
            with engine.begin() as connection:
                rows = connection.execute(query).all()
                if not rows:
                    break
                for row in rows:
                    for column in columns:
                        stored = getattr(row, column)
                        if stored is None:
                            continue
                        report = per_column[column]
                        if cipher.is_current(stored):
                            report.current += 1
                            continue
                        if dry_run:
                            report.rotated += 1
                            continue
                        field = columns[column]
                        fresh = cipher.encrypt(field, cipher.decrypt(field, stored))
                        result = connection.execute(
                            table.update()
                            .where(and_(pk == getattr(row, key), table.c[column] == stored))
                            .values({column: fresh})
                        )
                        if result.rowcount == 1:
                            report.rotated += 1
                        else:
                            report.skipped += 1
            after = getattr(rows[-1], key)
    return reports
