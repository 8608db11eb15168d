"""Personal data at rest and in logs: encrypted columns, blind indexes, masked log lines."""

from __future__ import annotations

import logging

import pytest
from flow_scenarios import ALL_SCOPES, new
from origination_fakes import OWNER_ID, PHONE
from origination_wiring import DATA_KEY, Wired
from sqlalchemy import Engine, text

from puhui.adapters.db.encryption import FieldCipher
from puhui.domain.errors import ConfigurationError
from puhui.services.origination import use_cases as uc

RAW_TABLES = (
    "origination_applications",
    "origination_consents",
    "origination_offers",
    "origination_contracts",
    "origination_fraud_list_entries",
    "origination_idempotency_keys",
    "security_users",
    "security_otp_codes",
    "audit_events",
)


def _raw_dump(engine: Engine) -> str:
    with engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in RAW_TABLES
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()
        )


def test_id_numbers_and_phones_are_not_stored_in_clear(db: Wired, engine: Engine) -> None:
    owner = db.applicant(PHONE)
    app = uc.create_application(db.origination, actor=owner, request=new(), idempotency_key="k")
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=app.application_id,
        scopes=ALL_SCOPES,
        purpose="credit",
    )
    uc.assess_application(db.origination, actor=owner, application_id=app.application_id)
    uc.accept_offer(db.origination, actor=owner, application_id=app.application_id)
    dump = _raw_dump(engine)
    assert app.application_id in dump
    assert OWNER_ID not in dump
    assert PHONE not in dump
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT id_number_enc, phone_enc FROM origination_applications")
        ).one()
    cipher = FieldCipher(DATA_KEY)
    assert cipher.decrypt("id_number", stored.id_number_enc) == OWNER_ID
    assert cipher.decrypt("phone", stored.phone_enc) == PHONE


def test_a_ciphertext_does_not_open_under_another_column_or_key() -> None:
    cipher = FieldCipher(DATA_KEY)
    sealed = cipher.encrypt("phone", PHONE)
    assert cipher.encrypt("phone", PHONE) != sealed  # a fresh nonce every time
    with pytest.raises(ConfigurationError):
        cipher.decrypt("id_number", sealed)
    with pytest.raises(ConfigurationError):
        FieldCipher(b"x" * 32).decrypt("phone", sealed)
    assert cipher.blind_index("phone", PHONE) == cipher.blind_index("phone", PHONE)
    assert cipher.blind_index("phone", PHONE) != FieldCipher(b"x" * 32).blind_index("phone", PHONE)


def test_a_short_data_key_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        FieldCipher(b"short")


def test_logs_carry_no_clear_id_number_or_phone(
    db: Wired, caplog: pytest.LogCaptureFixture
) -> None:
    from puhui.services.security.otp import LoggingOtpSender

    caplog.set_level(logging.DEBUG)
    db.security.otp_sender = LoggingOtpSender()
    from puhui.services.security import accounts

    accounts.request_code(db.security, phone=PHONE, client="t")
    code_lines = [r.getMessage() for r in caplog.records if "one-time code" in r.getMessage()]
    assert code_lines
    assert "138****5678" in code_lines[0]
    code = code_lines[0].rsplit(" ", 1)[-1]
    token = accounts.verify_code(db.security, phone=PHONE, code=code)
    owner = accounts.authenticate_token(db.security, token.access_token)
    app = uc.create_application(db.origination, actor=owner, request=new())
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=app.application_id,
        scopes=ALL_SCOPES,
        purpose="credit",
    )
    uc.assess_application(db.origination, actor=owner, application_id=app.application_id)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure must not leak either
        uc.create_application(db.origination, actor=owner, request=new())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged
    assert OWNER_ID not in logged
    assert PHONE not in logged
