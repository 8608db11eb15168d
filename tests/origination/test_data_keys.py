"""Device, IP address and address at rest; data keys that rotate; blind indexes that do not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flow_scenarios import new
from origination_fakes import OWNER_ID, PHONE
from origination_wiring import AUDIT_KEY, DATA_KEY, Wired
from sqlalchemy import Engine, text

from puhui.adapters.db import key_rotation
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.domain.clock import FixedClock
from puhui.services.origination import use_cases as uc

DEVICE = "DV-7f3a9c21e4b8"
IP = "203.0.113.77"
ADDRESS = "上海市浦东新区张江路 88 号 3 楼"
NEW_KEY = b"n" * 32


def _apply(w: Wired) -> str:
    owner = w.applicant(PHONE)
    request = replace(new(), device_id=DEVICE, ip_address=IP, address=ADDRESS)
    return uc.create_application(w.origination, actor=owner, request=request).application_id


def _stored(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM origination_applications")).mappings().one()
    return dict(row)


def test_device_ip_and_address_are_sealed_and_still_counted(
    db: Wired, engine: Engine, clock: FixedClock
) -> None:
    application_id = _apply(db)
    stored = _stored(engine)
    dump = repr(stored)
    for clear in (DEVICE, IP, ADDRESS, OWNER_ID, PHONE):
        assert clear not in dump
    cipher = FieldCipher(DATA_KEY)
    assert cipher.decrypt("device_id", str(stored["device_id_enc"])) == DEVICE
    assert cipher.decrypt("address", str(stored["address_enc"])) == ADDRESS
    assert stored["ip_address_index"] == cipher.blind_index("ip_address", IP)
    units = OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=cipher)
    with units.reader() as uow:
        application = uow.applications.get(application_id)
        assert application is not None
        assert application.applicant.address == ADDRESS
        counts = uow.applications.screening_counts(
            velocity={"device_id": DEVICE, "ip_address": IP, "address": ADDRESS},
            phone=PHONE,
            id_number=OWNER_ID,
            since=clock.now() - timedelta(days=30),
        )
        other = uow.applications.screening_counts(
            velocity={"device_id": "another device"},
            phone=PHONE,
            id_number=OWNER_ID,
            since=clock.now() - timedelta(days=30),
        )
    assert counts.applications_by == {"device_id": 1, "ip_address": 1, "address": 1}
    assert other.applications_by == {"device_id": 0}


def test_rotation_re_encrypts_under_the_new_key_once_and_keeps_indexes(
    db: Wired, engine: Engine, clock: FixedClock
) -> None:
    application_id = _apply(db)
    before = _stored(engine)
    assert FieldCipher.key_id_of(str(before["phone_enc"])) == "1"
    # The new key encrypts, the old one (id 1) still decrypts; the index key stays the old
    # data key, so the blind indexes need no rewrite.
    ring = FieldCipher(NEW_KEY, key_id="2", retired={"1": DATA_KEY}, index_key=DATA_KEY)
    dry = key_rotation.rotate(engine, ring, dry_run=True)
    assert _stored(engine) == before
    first = key_rotation.rotate(engine, ring, batch_size=1)
    assert {r.label: r.rotated for r in first} == {r.label: r.rotated for r in dry}
    by_label = {r.label: r for r in first}
    for column in ("id_number_enc", "phone_enc", "device_id_enc", "ip_address_enc"):
        assert by_label[f"origination_applications.{column}"].rotated == 1
    assert by_label["security_users.phone_enc"].rotated == 1  # the applicant's account
    again = key_rotation.rotate(engine, ring)
    assert sum(r.rotated for r in again) == 0
    assert sum(r.current for r in again) == sum(r.rotated for r in first)

    after = _stored(engine)
    assert FieldCipher.key_id_of(str(after["address_enc"])) == "2"
    for name in ("id_number", "phone", "device_id", "ip_address", "address"):
        assert after[f"{name}_index"] == before[f"{name}_index"]
    # Without the retired key everything still opens and still matches.
    only_new = FieldCipher(NEW_KEY, key_id="2", index_key=DATA_KEY)
    units = OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=only_new)
    with units.reader() as uow:
        application = uow.applications.get(application_id)
        assert application is not None
        assert application.applicant.device_id == DEVICE
        counts = uow.applications.screening_counts(
            velocity={"device_id": DEVICE},
            phone=PHONE,
            id_number=OWNER_ID,
            since=clock.now() - timedelta(days=30),
        )
    assert counts.applications_by == {"device_id": 1}
    assert counts.enterprises_sharing_phone == 1


def test_velocity_counts_on_sealed_values_read_the_index_alone(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # the plan's wording is SQLite's; PostgreSQL plans by statistics
    with engine.connect() as connection:
        for name in ("device_id", "ip_address", "address"):
            plan = " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT count(*) FROM origination_applications "
                    f"WHERE {name}_index = ? AND created_at >= ?",
                    ("x" * 64, "2026-01-01"),
                )
            )
            assert f"COVERING INDEX ix_origination_applications_{name}_index_created_at" in plan
