"""Migration 0014 seals the device ids, IP addresses and addresses already stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from puhui.adapters.db import migrate
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.engine import make_engine

CIPHER = FieldCipher(b"k" * 32)
ROWS = [
    ("app_1", "DV-1", "198.51.100.7", "北京市海淀区中关村大街 1 号"),
    ("app_2", None, "198.51.100.7", None),
    ("app_3", None, None, None),
]


def _insert_clear_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0013")
        with engine.begin() as connection:
            for n, (app_id, device, ip, address) in enumerate(ROWS):
                connection.execute(
                    text(
                        "INSERT INTO origination_applications (application_id, application_no, "
                        "uscc, id_number_enc, id_number_index, phone_enc, phone_index, "
                        "device_id, ip_address, address, status, created_at, updated_at, "
                        "version) VALUES (:id, :no, :uscc, 'x', 'x', 'x', 'x', :device, :ip, "
                        ":address, 'submitted', :at, :at, 1)"
                    ),
                    {
                        "id": app_id,
                        "no": f"A{n}",
                        "uscc": f"91310000MA1K{n:06d}",
                        "device": device,
                        "ip": ip,
                        "address": address,
                        "at": datetime(2026, 1, 1, tzinfo=UTC),
                    },
                )
            # A child row: the conversion must not rebuild the table under its foreign keys.
            connection.execute(
                text(
                    "INSERT INTO origination_consents (consent_id, application_id, scopes, "
                    "purpose, granted_by, granted_at, expires_at) VALUES ('con_1', 'app_1', "
                    "'tax', 'credit', 'usr_1', :at, :at)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
    finally:
        engine.dispose()


def test_existing_rows_are_sealed_and_indexed_and_can_be_opened_again(database_url: str) -> None:
    _insert_clear_rows(database_url)
    engine = make_engine(database_url)
    try:
        with pytest.raises(RuntimeError, match="puhui db upgrade"):
            migrate.upgrade(engine, "0014")
        migrate.upgrade(engine, "0014", field_cipher=CIPHER)
        columns = {c["name"] for c in inspect(engine).get_columns("origination_applications")}
        assert {"device_id", "ip_address", "address"}.isdisjoint(columns)
        with engine.connect() as connection:
            stored = {
                row.application_id: row
                for row in connection.execute(text("SELECT * FROM origination_applications"))
            }
        for app_id, device, ip, address in ROWS:
            row = stored[app_id]
            for name, clear in (("device_id", device), ("ip_address", ip), ("address", address)):
                sealed = getattr(row, f"{name}_enc")
                index = getattr(row, f"{name}_index")
                if clear is None:
                    assert sealed is None
                    assert index is None
                else:
                    assert clear not in sealed
                    assert CIPHER.decrypt(name, sealed) == clear
                    assert index == CIPHER.blind_index(name, clear)
        migrate.downgrade(engine, "0013", field_cipher=CIPHER)
        with engine.connect() as connection:
            back = connection.execute(
                text(
                    "SELECT application_id, device_id, ip_address, address "
                    "FROM origination_applications ORDER BY application_id"
                )
            ).all()
        assert [tuple(r) for r in back] == ROWS
    finally:
        engine.dispose()
