from datetime import date

import pytest

from puhui.domain.errors import InvalidIdentifier
from puhui.domain.identity import (
    birth_date_of,
    id_check_char,
    uscc_check_char,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)
from puhui.domain.privacy import mask_id_number, mask_phone, mask_text

# Published examples: the GB 11643 worked example and a well-known USCC.
VALID_ID = "11010519491231002X"
VALID_USCC = "91350100M000100Y43"


def test_known_identifiers_validate() -> None:
    assert validate_id_number(VALID_ID) == VALID_ID
    assert validate_uscc(VALID_USCC) == VALID_USCC
    assert birth_date_of(VALID_ID) == date(1949, 12, 31)


def test_wrong_check_characters_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_id_number(VALID_ID[:-1] + "1")
    with pytest.raises(InvalidIdentifier, match="check character"):
        validate_uscc(VALID_USCC[:-1] + "2")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("123", "18 characters"), ("91350100M000100YI3", "cannot contain"), ("", "18 characters")],
)
def test_malformed_uscc(bad: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        validate_uscc(bad)


def test_id_with_impossible_birth_date_is_refused() -> None:
    body = "11010519490231002"
    with pytest.raises(InvalidIdentifier, match="birth date"):
        validate_id_number(body + id_check_char(body))


def test_every_single_character_change_of_a_uscc_is_detected() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for position in range(17):
        for ch in alphabet:
            if ch == VALID_USCC[position]:
                continue
            changed = VALID_USCC[:position] + ch + VALID_USCC[position + 1 :]
            assert uscc_check_char(changed[:17]) != changed[17]


def test_mobile_numbers() -> None:
    assert validate_mobile("+86 138-0013-8000") == "13800138000"
    with pytest.raises(InvalidIdentifier):
        validate_mobile("12800138000")


def test_masks_keep_only_the_ends() -> None:
    assert mask_id_number(VALID_ID) == "110***********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_text(f"owner {VALID_ID} phone 13800138000 uscc {VALID_USCC}") == (
        f"owner 110***********002X phone 138****8000 uscc {VALID_USCC}"
    )


def test_a_uscc_of_digits_only_is_masked_in_logs_like_an_id_number() -> None:
    """A USCC is public register data and stays in clear in logs (docs/security.md), except
    one of 18 digits: the filter cannot tell it from a resident ID or account number, and
    masking a public number costs less than leaving a personal one in clear."""
    digits_only = "914403001000000020"
    assert validate_uscc(digits_only) == digits_only
    assert mask_text(f"core enterprise {digits_only}") == "core enterprise 914***********0020"
