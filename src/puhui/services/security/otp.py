"""One-time codes: six digits, short-lived, few attempts, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from puhui.domain.privacy import mask_phone

logger = logging.getLogger(__name__)

OTP_DIGITS = 6
MAX_OTP_ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"


def code_hash(key: bytes, phone: str, code: str) -> str:
    """Bound to the phone, so a stolen table cannot replay a code against another number."""
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def codes_match(key: bytes, phone: str, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hash(key, phone, code), stored)


class LoggingOtpSender:
    """Development sender: writes the code to the log with the phone masked."""

    def send(self, phone: str, code: str) -> None:
        logger.info("one-time code for %s: %s", mask_phone(phone), code)
