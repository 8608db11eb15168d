"""Masking of personal data (ID numbers, phones, bank accounts) for logs and responses."""

from __future__ import annotations

import re
import unicodedata

# Patterns run on the NFKC form of the text, so full-width digits are plain digits here.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{8})([0-9]{3})([0-9Xx])(?![0-9A-Za-z])")
_SEP = r"[ \-]?"
_PHONE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)86{_SEP})?(1[3-9][0-9]){_SEP}([0-9]{{4}}){_SEP}([0-9]{{4}})(?![0-9])"
)
_BANK_ACCOUNT = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-]?[0-9]){11,22}(?![0-9A-Za-z])")
"""Bank card and settlement account numbers: 12 to 23 digits, perhaps grouped by spaces."""


def mask_id_number(id_number: str) -> str:
    """Keep the first 3 and last 4 characters of a resident ID number: 110***********123X."""
    text = id_number.strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits of a mobile number: 138****5678."""
    text = phone.strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def _mask_phone_match(match: re.Match[str]) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def _mask_account(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_text(text: str) -> str:
    """Mask every resident ID number, mainland mobile number and bank account number in text.

    Phones are found in every common form (``+86``, ``0086``, spaces, dashes, full-width
    digits); the text is compared in its NFKC form, so a full-width number is masked too.
    """
    wide_digits = any(ch.isdigit() and not ch.isascii() for ch in text)
    # Folded only when it matters: NFKC would also change Chinese punctuation in the log.
    subject = unicodedata.normalize("NFKC", text) if wide_digits else text
    masked = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), subject)
    masked = _PHONE.sub(_mask_phone_match, masked)
    return _BANK_ACCOUNT.sub(_mask_account, masked)
