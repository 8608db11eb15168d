"""Secrets in settings, and the data-key ring of the field cipher."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from puhui.adapters.db.encryption import FieldCipher, derive_key
from puhui.bootstrap.settings import DEV_DATA_KEY, DEV_JWT_SECRET, Settings
from puhui.domain.errors import ConfigurationError

OLD = b"o" * 32
NEW = b"n" * 32
REAL = {name: name * 8 for name in ("audit_key", "data_key", "jwt_secret", "signing_key")}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_values_carry_the_id_of_the_key_that_sealed_them() -> None:
    sealed = FieldCipher(OLD, key_id="2025a").encrypt("phone", "13800138000")
    assert sealed.startswith("v2:2025a:")
    assert FieldCipher.key_id_of(sealed) == "2025a"


def test_a_retired_key_still_decrypts_and_an_unknown_one_is_named() -> None:
    sealed = FieldCipher(OLD, key_id="1").encrypt("phone", "13800138000")
    ring = FieldCipher(NEW, key_id="2", retired={"1": OLD})
    assert ring.decrypt("phone", sealed) == "13800138000"
    assert not ring.is_current(sealed)
    assert ring.is_current(ring.encrypt("phone", "13800138000"))
    assert ring.key_ids == ("2", "1")
    with pytest.raises(ConfigurationError, match="data key '1' is not configured"):
        FieldCipher(NEW, key_id="2").decrypt("phone", sealed)


def test_values_from_before_key_ids_open_under_any_configured_key() -> None:
    # The version-1 form: v1:<base64(nonce + ciphertext)>, no key id, sealed by the old key.
    current = FieldCipher(OLD).encrypt("address", "杭州市")
    legacy = "v1:" + current.split(":", 2)[2]
    assert FieldCipher(NEW, key_id="2", retired={"1": OLD}).decrypt("address", legacy) == "杭州市"
    with pytest.raises(ConfigurationError, match="wrong data key"):
        FieldCipher(NEW, key_id="2").decrypt("address", legacy)


def test_the_blind_index_follows_the_index_key_not_the_data_key() -> None:
    before = FieldCipher(OLD)
    after = FieldCipher(NEW, key_id="2", retired={"1": OLD}, index_key=OLD)
    assert after.blind_index("device_id", "DV1") == before.blind_index("device_id", "DV1")
    assert FieldCipher(NEW).blind_index("device_id", "DV1") != before.blind_index(
        "device_id", "DV1"
    )


def test_a_key_ring_refuses_bad_ids_and_short_keys() -> None:
    with pytest.raises(ConfigurationError):
        FieldCipher(NEW, key_id="has space")
    with pytest.raises(ConfigurationError):
        FieldCipher(NEW, key_id="2", retired={"2": OLD})
    with pytest.raises(ConfigurationError):
        FieldCipher(NEW, retired={"0": b"short"})
    with pytest.raises(ConfigurationError):
        FieldCipher(NEW, index_key=b"short")


def test_production_names_every_missing_or_placeholder_secret() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(environment="production", data_key=REAL["data_key"], jwt_secret="short")
    message = str(refused.value)
    for name in ("PUHUI_AUDIT_KEY", "PUHUI_JWT_SECRET", "PUHUI_SIGNING_KEY"):
        assert name in message
    assert "PUHUI_DATA_KEY" not in message
    assert "published development secret" in message
    with pytest.raises(ValidationError, match="PUHUI_INDEX_KEY"):
        settings(environment="production", **REAL, index_key=DEV_DATA_KEY)
    assert settings(environment="production", **REAL).development_secrets() == []


def test_development_secrets_are_listed_by_variable() -> None:
    assert settings().development_secrets() == [
        "PUHUI_AUDIT_KEY",
        "PUHUI_DATA_KEY",
        "PUHUI_JWT_SECRET",
        "PUHUI_SIGNING_KEY",
    ]
    assert settings(**{**REAL, "jwt_secret": DEV_JWT_SECRET}).development_secrets() == [
        "PUHUI_JWT_SECRET"
    ]


def test_retired_keys_are_parsed_and_need_a_fixed_index_key() -> None:
    s = settings(
        data_key="n" * 32,
        data_key_id="2",
        retired_data_keys="1:" + "o" * 32,
        index_key="o" * 32,
    )
    assert s.retired_keys() == {"1": OLD}
    ring = s.field_cipher()
    assert ring.key_id == "2"
    assert ring.decrypt("phone", FieldCipher(OLD).encrypt("phone", "x")) == "x"
    with pytest.raises(ValidationError, match="PUHUI_INDEX_KEY must be set"):
        settings(data_key="n" * 32, data_key_id="2", retired_data_keys="1:" + "o" * 32)
    with pytest.raises(ValidationError, match="id:key"):
        settings(retired_data_keys="no-colon", index_key="o" * 32)
    with pytest.raises(ValidationError, match="repeats the key id"):
        settings(retired_data_keys="1:" + "o" * 32, index_key="o" * 32)


def test_the_body_limit_defaults_to_one_mebibyte(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().max_body_bytes == 1024 * 1024
    monkeypatch.setenv("PUHUI_MAX_BODY_BYTES", "4096")
    assert settings().max_body_bytes == 4096


def test_code_and_request_hash_keys_survive_a_data_key_rotation() -> None:
    before = FieldCipher(OLD)
    assert before.derive("otp") == derive_key(OLD, "otp")  # as they always were
    after = FieldCipher(NEW, key_id="2", retired={"1": OLD}, index_key=OLD)
    for purpose in ("otp", "request-hash"):
        assert after.derive(purpose) == before.derive(purpose)
    assert after.derive("otp") != after.derive("request-hash")
