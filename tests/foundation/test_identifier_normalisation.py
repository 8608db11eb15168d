"""One identifier, one spelling: compatibility forms fold to ASCII, other scripts are refused."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.domain.errors import InvalidIdentifier
from puhui.domain.identity import validate_id_number, validate_mobile, validate_uscc

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
USCC = "91350100M000100Y43"

UNICODE_DIGITS = [
    chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Nd"
]
"""Every decimal digit Unicode knows (about 700, in 70 scripts)."""


def _outcome(validate: Callable[[str], str], text: str) -> str | InvalidIdentifier:
    try:
        return validate(text)
    except InvalidIdentifier as refused:
        return refused


def _respell(text: str, digits: dict[str, str]) -> str:
    return "".join(digits.get(ch, ch) for ch in text)


@pytest.mark.parametrize("digit", UNICODE_DIGITS, ids=lambda d: f"U+{ord(d):04X}")
def test_every_unicode_digit_either_folds_to_the_same_identifier_or_is_refused(
    digit: str,
) -> None:
    value = unicodedata.decimal(digit)
    ascii_digit = str(value)
    for original, validate in (
        (ID_NUMBER, validate_id_number),
        (PHONE, validate_mobile),
        (USCC, validate_uscc),
    ):
        position = original.index(ascii_digit) if ascii_digit in original else None
        if position is None:
            continue
        respelled = original[:position] + digit + original[position + 1 :]
        outcome = _outcome(validate, respelled)
        if isinstance(outcome, InvalidIdentifier):
            assert outcome.code == "invalid_identifier"
        else:
            # Accepted only as the very same identifier: same blind index, same list entries.
            assert outcome == original, (original, respelled)


def test_full_width_forms_are_the_same_person() -> None:
    full_width = {str(n): chr(0xFF10 + n) for n in range(10)} | {"X": "Ｘ"}
    assert validate_id_number(_respell(ID_NUMBER, full_width)) == ID_NUMBER
    assert validate_mobile(_respell(PHONE, full_width)) == PHONE
    assert validate_mobile("13８1234 5678") == PHONE


@pytest.mark.parametrize(
    "written",
    ["+86 138 1234 5678", "+86-138-1234-5678", "138-1234-5678", "＋８６１３８１２３４５６７８"],
)
def test_a_phone_in_any_common_form_is_one_number(written: str) -> None:
    assert validate_mobile(written) == PHONE


@pytest.mark.parametrize("foreign", ["١٣٨١٢٣٤٥٦٧٨", "১৩৮১২৩৪৫৬৭৮", "13812345６7８\u200b"])
def test_digits_of_other_scripts_are_refused_with_a_named_error(foreign: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        validate_mobile(foreign)
    assert refused.value.code == "invalid_identifier"
    assert refused.value.details["field"] == "phone"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=24))
def test_whatever_is_accepted_is_plain_ascii(text: str) -> None:
    for validate in (validate_id_number, validate_mobile, validate_uscc):
        try:
            normalised = validate(text)
        except InvalidIdentifier:
            continue
        assert normalised.isascii()
        assert normalised == validate(normalised)
