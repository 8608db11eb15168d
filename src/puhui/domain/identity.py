"""Check characters of Chinese identifiers: USCC (GB 32100-2015) and resident ID (GB 11643-1999)."""

from __future__ import annotations

import unicodedata
from datetime import date

from puhui.domain.errors import InvalidIdentifier

# GB 32100-2015: 18 characters over an alphabet of 31 (digits and upper-case letters
# without I, O, Z, S, V); the last is a check character (mod 31).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}

# GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check character (0-9 or X).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def ascii_identifier(text: str, *, field: str, label: str, drop: str = "") -> str:
    """The identifier in canonical form: NFKC, ``drop`` characters removed, upper case, ASCII.

    NFKC folds full-width and other compatibility forms (``１３８``, ``Ｘ``) to ASCII, so one
    person or enterprise has one form, one blind index and one place on every list. Anything
    still outside ASCII after that (digits of other scripts, look-alike letters) is refused:
    accepting it would give the same identifier a second, distinct spelling.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    for character in drop:
        folded = folded.replace(character, "")
    if not folded.isascii():
        strange = sorted({ch for ch in folded if not ch.isascii()})
        raise InvalidIdentifier(
            f"a {label} is written with ASCII digits and letters only; "
            f"{''.join(strange)!r} is not one of them",
            details={"field": field},
        )
    return folded.upper()


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(ch not in _USCC_VALUE for ch in first17):
        raise InvalidIdentifier("a USCC body is 17 characters of 0-9 and A-Y without I, O, S, V, Z")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised code, or raise naming what is wrong with it."""
    text = ascii_identifier(code, field="uscc", label="unified social credit code")
    if len(text) != 18:
        raise InvalidIdentifier(
            f"a unified social credit code has 18 characters, got {len(text)}",
            details={"field": "uscc"},
        )
    bad = sorted({ch for ch in text if ch not in _USCC_VALUE})
    if bad:
        raise InvalidIdentifier(
            f"a unified social credit code cannot contain {''.join(bad)!r}",
            details={"field": "uscc"},
        )
    if uscc_check_char(text[:17]) != text[17]:
        raise InvalidIdentifier(
            "the check character of the unified social credit code is wrong",
            details={"field": "uscc"},
        )
    return text


def _digits(text: str) -> bool:
    """ASCII decimal digits only (``str.isdigit`` also accepts every script's digits)."""
    return text.isascii() and text.isdigit()


def id_check_char(first17: str) -> str:
    if len(first17) != 17 or not _digits(first17):
        raise InvalidIdentifier("an ID number body is 17 digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(id_number: str) -> str:
    """Validate an 18-character resident ID number: digits, birth date and check character."""
    text = ascii_identifier(id_number, field="id_number", label="resident ID number")
    details = {"field": "id_number"}
    if len(text) != 18 or not _digits(text[:17]) or not (_digits(text[17]) or text[17] == "X"):
        raise InvalidIdentifier(
            "an ID number has 17 digits and a check character (0-9 or X)", details=details
        )
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidIdentifier(
            "the birth date inside the ID number is not a date", details=details
        ) from None
    if id_check_char(text[:17]) != text[17]:
        raise InvalidIdentifier("the check digit of the ID number is wrong", details=details)
    return text


def birth_date_of(id_number: str) -> date:
    text = validate_id_number(id_number)
    return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))


def validate_mobile(phone: str) -> str:
    """A mainland mobile number: 11 digits starting with 1[3-9] (``+86``, spaces, dashes and
    full-width forms accepted and folded away)."""
    text = ascii_identifier(phone, field="phone", label="mobile number", drop=" -()")
    text = text.removeprefix("+86").removeprefix("0086")
    if len(text) != 11 or not _digits(text) or text[0] != "1" or text[1] not in "3456789":
        raise InvalidIdentifier(
            "a mobile number has 11 digits and starts with 13-19", details={"field": "phone"}
        )
    return text
