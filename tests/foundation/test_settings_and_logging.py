import io
import json
import logging
import sys

import pytest
from pydantic import ValidationError

from puhui.bootstrap.logging import JsonFormatter, PersonalDataFilter, configure_logging
from puhui.bootstrap.settings import Settings

ID_NUMBER = "11010519491231002X"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_the_embedded_sqlite_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUHUI_DATABASE_URL", raising=False)
    s = settings()
    assert s.database_url == "sqlite:///./var/puhui.db"
    assert s.effective_log_format == "text"


def test_environment_variables_use_the_puhui_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PUHUI_LOG_LEVEL", "DEBUG")
    s = settings()
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.log_level == "DEBUG"


def test_production_logs_json_and_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="PUHUI_AUDIT_KEY"):
        settings(environment="production")
    with pytest.raises(ValidationError, match="PUHUI_AUDIT_KEY"):
        settings(environment="production", audit_key="short")
    secrets = {name: name * 8 for name in ("audit_key", "data_key", "jwt_secret", "signing_key")}
    with pytest.raises(ValidationError, match="PUHUI_JWT_SECRET"):
        settings(environment="production", **{**secrets, "jwt_secret": "x" * 10})
    s = settings(environment="production", **secrets)
    assert s.effective_log_format == "json"


def test_log_records_never_carry_clear_id_numbers_or_phones() -> None:
    record = logging.LogRecord(
        "puhui.test",
        logging.INFO,
        __file__,
        1,
        "applicant %s phone %s",
        (ID_NUMBER, "13800138000"),
        None,
    )
    PersonalDataFilter().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert ID_NUMBER not in line
    assert "13800138000" not in line
    assert entry["message"] == "applicant 110***********002X phone 138****8000"
    assert entry["level"] == "INFO"


def test_configure_logging_installs_the_masking_filter(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("puhui.test").info("owner %s", ID_NUMBER)
    err = capsys.readouterr().err
    assert ID_NUMBER not in err
    assert "110***********002X" in err


def test_logging_follows_stderr_when_it_is_swapped_and_the_old_one_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A handler bound to the stderr of its set-up broke every later record once that stream
    was closed (an in-process CLI run, a test's capture): logging printed a traceback instead."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO", "text")
    logging.getLogger("puhui.test").info("to the first stream")
    assert "to the first stream" in first.getvalue()
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    monkeypatch.setattr(logging, "raiseExceptions", True)
    logging.getLogger("puhui.test").warning("owner %s after the swap", ID_NUMBER)
    written = second.getvalue()
    assert "after the swap" in written
    assert "110***********002X" in written
    assert "Logging error" not in written
    assert "closed file" not in written


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("+86 138 1234 5678", "138****5678"),
        ("+86-138-1234-5678", "138****5678"),
        ("0086 13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("身份证 11010519491231002X", "身份证 110***********002X"),
        ("card 6222 0212 3456 7890 123", "card 6222***********0123"),
        ("账户6222021234567890123，", "账户6222***********0123，"),
    ],
)
def test_personal_data_is_masked_in_every_common_form(written: str, masked: str) -> None:
    from puhui.domain.privacy import mask_text

    assert mask_text(written) == masked


@pytest.mark.parametrize(
    "kept",
    [
        "application PH2026030212345678 decided",
        "contract HT2026030212345678",
        "uscc 91350100M000100Y43",
        "2026-12-02 01:52:00,329 INFO amount 30000000 fen",
    ],
)
def test_identifiers_that_are_not_personal_data_are_left_alone(kept: str) -> None:
    from puhui.domain.privacy import mask_text

    assert mask_text(kept) == kept
