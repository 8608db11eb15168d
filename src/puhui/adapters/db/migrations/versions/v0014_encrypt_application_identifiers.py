"""Device ids, IP addresses and addresses of applications are encrypted at rest.

Each becomes ``<name>_enc`` (AES-GCM, as the ID number and phone already were) and
``<name>_index`` (the keyed blind index). The anti-fraud velocity counts compare blind
indexes instead of clear values, over the same (value, created_at) composite indexes, so
they stay index-only range counts. Existing rows are converted in batches with the
platform's field cipher, which ``puhui db upgrade`` hands to the migration.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None

TABLE = "origination_applications"
FIELDS = {"device_id": 128, "ip_address": 64, "address": 200}
BATCH = 500


def _cipher() -> Any:
    return context.config.attributes.get("field_cipher")


def _convert(select_sql: str, update_sql: str, transform: Any) -> None:
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(sa.text(select_sql), {"after": after, "n": BATCH}).mappings().all()
        if not rows:
            return
        bind.execute(sa.text(update_sql), [transform(row) for row in rows])
        after = rows[-1]["application_id"]


def _needs_cipher(column: str) -> Any:
    cipher = _cipher()
    if cipher is None:
        raise RuntimeError(
            f"{TABLE} holds {column} values to convert: run `puhui db upgrade`, which "
            "supplies the data key"
        )
    return cipher


def _drop_column(column: str) -> None:
    # Plain ALTER TABLE on both databases (SQLite since 3.35): a batch rebuild of the table
    # would drop it under its consents, offers and contracts, which foreign keys forbid.
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN {column}")


def upgrade() -> None:
    for name in FIELDS:
        op.drop_index(f"ix_{TABLE}_{name}_created_at", table_name=TABLE)
        op.add_column(TABLE, sa.Column(f"{name}_enc", sa.Text, nullable=True))
        op.add_column(TABLE, sa.Column(f"{name}_index", sa.String(64), nullable=True))
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            f"SELECT count(*) FROM {TABLE} WHERE device_id IS NOT NULL "  # noqa: S608 - constants
            "OR ip_address IS NOT NULL OR address IS NOT NULL"
        )
    ).scalar_one()
    if pending:
        cipher = _needs_cipher("device, IP and address")

        def seal(row: Any) -> dict[str, Any]:
            values: dict[str, Any] = {"b_id": row["application_id"]}
            for name in FIELDS:
                clear = row[name]
                values[f"{name}_enc"] = None if clear is None else cipher.encrypt(name, clear)
                values[f"{name}_index"] = None if clear is None else cipher.blind_index(name, clear)
            return values

        _convert(
            f"SELECT application_id, device_id, ip_address, address FROM {TABLE} "  # noqa: S608
            "WHERE application_id > :after ORDER BY application_id LIMIT :n",
            f"UPDATE {TABLE} SET "  # noqa: S608
            + ", ".join(
                f"{name}_enc = :{name}_enc, {name}_index = :{name}_index" for name in FIELDS
            )
            + " WHERE application_id = :b_id",
            seal,
        )
    for name in FIELDS:
        _drop_column(name)
    for name in FIELDS:
        op.create_index(
            f"ix_{TABLE}_{name}_index_created_at", TABLE, [f"{name}_index", "created_at"]
        )


def downgrade() -> None:
    for name, length in FIELDS.items():
        op.drop_index(f"ix_{TABLE}_{name}_index_created_at", table_name=TABLE)
        op.add_column(TABLE, sa.Column(name, sa.String(length), nullable=True))
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            f"SELECT count(*) FROM {TABLE} WHERE device_id_enc IS NOT NULL "  # noqa: S608
            "OR ip_address_enc IS NOT NULL OR address_enc IS NOT NULL"
        )
    ).scalar_one()
    if pending:
        cipher = _needs_cipher("encrypted device, IP and address")

        def open_(row: Any) -> dict[str, Any]:
            values: dict[str, Any] = {"b_id": row["application_id"]}
            for name in FIELDS:
                sealed = row[f"{name}_enc"]
                values[name] = None if sealed is None else cipher.decrypt(name, sealed)
            return values

        _convert(
            f"SELECT application_id, device_id_enc, ip_address_enc, address_enc FROM {TABLE} "  # noqa: S608
            "WHERE application_id > :after ORDER BY application_id LIMIT :n",
            f"UPDATE {TABLE} SET "  # noqa: S608
            + ", ".join(f"{name} = :{name}" for name in FIELDS)
            + " WHERE application_id = :b_id",
            open_,
        )
    for name in FIELDS:
        _drop_column(f"{name}_enc")
        _drop_column(f"{name}_index")
    for name in FIELDS:
        op.create_index(f"ix_{TABLE}_{name}_created_at", TABLE, [name, "created_at"])
