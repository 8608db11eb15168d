"""Where an application comes from: its channel and the branch or village service point."""

from __future__ import annotations

import re
from enum import Enum

from puhui.domain.errors import InvalidInput


class Channel(Enum):
    """The ways an application reaches the bank (the portfolio is read by channel and branch)."""

    H5_QR = "h5_qr"
    """The owner scanned the QR code of a branch or village service point (the H5 pages)."""
    H5 = "h5"
    """The owner opened the H5 pages from a link, without a branch's code."""
    BRANCH = "branch"
    """An account manager entered the application at a branch."""
    PARTNER = "partner"
    """A partner (channel, core enterprise) referred the applicant through the open API."""
    API = "api"
    """Any other client of the JSON API."""


class InvalidChannel(InvalidInput):
    code = "invalid_channel"


class InvalidBranchCode(InvalidInput):
    code = "invalid_branch_code"


BRANCH_CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
"""A branch or service point code: 2 to 16 of A–Z, 0–9 and "-", not starting with "-"."""


def parse_channel(value: str) -> Channel:
    """The channel named ``value`` (its code, e.g. ``h5_qr``), or ``InvalidChannel``."""
    try:
        return Channel(value.strip().lower())
    except ValueError:
        raise InvalidChannel(
            "unknown channel; use one of " + ", ".join(c.value for c in Channel),
            details={"field": "channel", "allowed": [c.value for c in Channel]},
        ) from None


def parse_branch_code(value: str) -> str:
    """The canonical (upper-case) branch code, or ``InvalidBranchCode``."""
    code = value.strip().upper()
    if not is_branch_code(code):
        raise InvalidBranchCode(
            'a branch code is 2 to 16 letters, digits or "-", starting with a letter or digit',
            details={"field": "branch_code"},
        )
    return code


def is_branch_code(value: object) -> bool:
    """Whether ``value`` is a branch code in canonical form."""
    return isinstance(value, str) and BRANCH_CODE_PATTERN.fullmatch(value) is not None


def check_origin(channel: Channel | None, branch_code: str | None) -> None:
    """A QR code always belongs to a branch: an ``h5_qr`` application names its branch."""
    if channel is Channel.H5_QR and branch_code is None:
        raise InvalidBranchCode(
            "an application from a QR code names the branch of the code",
            details={"field": "branch_code"},
        )
