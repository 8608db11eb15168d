"""The prospects' personal data at rest: sealed, re-encrypted by a key rotation, still
matched by its blind index afterwards."""

from __future__ import annotations

from prospect_support import META, MONTH, PHONE, managers, row, uscc
from sqlalchemy import select

from puhui.adapters.db import key_rotation
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.outbox import notification_outbox
from puhui.adapters.db.prospects.tables import prospects
from puhui.adapters.db.prospects.unit_of_work import ProspectsUnitOfWork
from puhui.bootstrap import Platform
from puhui.services.prospects import loading, offers, queue
from puhui.services.prospects.ports import ProspectQuery
from puhui.services.security.permissions import SYSTEM

NEW_KEY = b"n" * 32


def test_phones_and_notes_are_sealed_and_survive_a_key_rotation(platform: Platform) -> None:
    access = platform.prospect_access()
    (manager,) = managers(platform, "wang")
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=[row(0)], meta=META)
    (listed,) = queue.list_prospects(access, actor=SYSTEM, query=ProspectQuery())
    queue.add_note(access, actor=manager, prospect_id=listed.prospect_id, note=f"owner {PHONE}")
    offers.send_offer(access, actor=manager, prospect_id=listed.prospect_id, phone=PHONE)
    with platform.database.engine.connect() as connection:
        stored = connection.execute(
            select(prospects.c.contact_phone_enc, prospects.c.notes_enc)
        ).one()
        recipient = connection.execute(select(notification_outbox.c.recipient_enc)).scalar_one()
    assert all(PHONE not in value for value in (*stored, recipient))

    old = platform.settings.data_key.get_secret_value().encode()
    ring = FieldCipher(NEW_KEY, key_id="2", retired={"1": old}, index_key=old)
    rotated = {r.label: r.rotated for r in key_rotation.rotate(platform.database.engine, ring)}
    assert rotated["prospects.contact_phone_enc"] == 1
    assert rotated["prospects.notes_enc"] == 1
    assert rotated["notification_outbox.recipient_enc"] == 1

    only_new = FieldCipher(NEW_KEY, key_id="2", index_key=old)
    units = ProspectsUnitOfWork(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=only_new,
    )
    with units as uow:
        found = uow.prospects.get(listed.prospect_id)
        assert found is not None
        assert found.contact_phone == PHONE
        assert PHONE in found.notes
        (message,) = uow.prospects.pending_messages(5)
        assert message.recipient == PHONE
        uow.prospects.add_opt_out(uscc=None, phone=PHONE, reason="asked", actor="test")
        assert uow.prospects.opted_out(uscc=uscc(9), phone=PHONE)
