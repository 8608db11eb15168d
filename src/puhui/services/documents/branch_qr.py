"""The QR code of a branch or village service point: it opens the H5 pages with its origin.

An owner who scans it lands on ``{base_url}/h5/?branch=CODE&channel=h5_qr``; the H5 pages
pass the branch and channel on to the application, so the portfolio can be read by them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import segno

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.channel import Channel, parse_branch_code, parse_channel

H5_PATH = "/h5/"
ERROR_CORRECTION = "m"
"""At least level M (15 % of the symbol may be lost; segno raises it when the symbol has
room): a printed code survives smudges, without a denser symbol for the same URL."""
PNG_SCALE = 10
"""Pixels per module: a version 4 symbol is 410 px wide with its quiet zone, crisp in print."""
QUIET_ZONE = 4
"""Modules of white border, as ISO/IEC 18004 asks for reliable scanning."""


class InvalidBaseUrl(InvalidInput):
    code = "invalid_base_url"


@dataclass(frozen=True, slots=True)
class BranchCode:
    """What one QR code says: the landing page, its branch and its channel."""

    url: str
    branch_code: str
    channel: Channel

    def png(self, *, scale: int = PNG_SCALE) -> bytes:
        """The symbol as a PNG image (black on white)."""
        buffer = io.BytesIO()
        _symbol(self.url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
        return buffer.getvalue()

    def svg(self, *, scale: int = 4) -> str:
        """The symbol as inline SVG for a page (no XML declaration), titled for screen readers."""
        return str(
            _symbol(self.url).svg_inline(
                scale=scale, border=QUIET_ZONE, title=f"{self.branch_code} {self.url}"
            )
        )


def branch_code_qr(
    *, base_url: str, branch_code: str, channel: str = Channel.H5_QR.value
) -> BranchCode:
    """The QR code of ``branch_code``: validated branch, channel and landing address."""
    code = parse_branch_code(branch_code)
    chosen = parse_channel(channel)
    query = urlencode({"branch": code, "channel": chosen.value})
    return BranchCode(url=f"{_base(base_url)}{H5_PATH}?{query}", branch_code=code, channel=chosen)


def _base(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise InvalidBaseUrl(
            "the base URL is http(s)://host[:port][/path] without query or fragment",
            details={"field": "base_url"},
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _symbol(url: str) -> segno.QRCode:
    # micro=False: phones' camera apps read only full-size QR codes, not Micro QR.
    return segno.make(url, error=ERROR_CORRECTION, micro=False)
