"""Typed identifiers and the one function that makes them."""

from __future__ import annotations

import base64
import secrets
import time
from typing import NewType

from puhui.domain.errors import InvalidInput

AuditEventId = NewType("AuditEventId", int)
EnterpriseId = NewType("EnterpriseId", str)
"""An enterprise is identified by its unified social credit code (统一社会信用代码)."""
ApplicationId = NewType("ApplicationId", str)
CreditLineId = NewType("CreditLineId", str)
ReceiptId = NewType("ReceiptId", str)
LoanId = NewType("LoanId", str)
ProductId = NewType("ProductId", str)
UserId = NewType("UserId", str)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def new_id(prefix: str) -> str:
    """A sortable, unique identifier: ``prefix_`` + 26 Crockford base-32 characters (a ULID).

    Time-ordered so that index inserts stay local; 80 random bits so that two processes
    never collide. The prefix says what the id names (``app``, ``line``, ``rcpt``).
    """
    if not prefix.isascii() or not prefix.isalnum() or not prefix.islower():
        raise InvalidInput(f"id prefix must be lower-case ASCII letters or digits: {prefix!r}")
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return f"{prefix}_{crockford_128(value)}"


def crockford_128(value: int) -> str:
    """A 128-bit value as 26 Crockford base-32 digits, most significant first.

    Right-aligned in 160 bits, the standard encoder's last 26 of 32 digits are exactly these
    (the first six encode zero bits), in its alphabet, which one translation makes Crockford's.
    """
    if not 0 <= value < 1 << 128:
        raise ValueError("a ULID is 128 bits")
    return base64.b32encode(value.to_bytes(20, "big"))[6:].translate(_FROM_RFC4648).decode()
