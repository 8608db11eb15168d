"""The CJK font the PDFs embed: configured, or found where Debian's font packages put it,
and registered with reportlab once per process."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from puhui.domain.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class FontFile:
    """A TrueType font (or one face of a collection) with CJK glyphs."""

    path: Path
    face: int = 0
    """The face of a TrueType collection (``.ttc``); 0 for a single ``.ttf``."""


DEBIAN_FONTS = (
    # fonts-wqy-microhei (Apache-2.0 or GPL-3 with the font exception): Latin and CJK in one
    # face with TrueType outlines; scripts/ensure-fonts.sh installs it.
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),
    # fonts-droid-fallback (Apache-2.0): the same Droid glyphs, when already installed.
    FontFile(Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")),
    # fonts-wqy-zenhei (GPL-2 with the font exception).
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
)
"""Fonts with TrueType outlines that reportlab can subset, best first."""


def cjk_font(configured: Path | None = None) -> FontFile:
    """The configured font file, or the first of ``DEBIAN_FONTS`` that is installed."""
    if configured is not None:
        if not configured.is_file():
            raise ConfigurationError(
                f"the contract font {configured} does not exist",
                details={"setting": "PUHUI_CONTRACT_FONT"},
            )
        return FontFile(configured)
    for font in DEBIAN_FONTS:
        if font.path.is_file():
            return font
    raise ConfigurationError(
        "no Chinese font for contract PDFs: run scripts/ensure-fonts.sh "
        "(installs fonts-wqy-microhei) or set PUHUI_CONTRACT_FONT to a TrueType font",
        details={"setting": "PUHUI_CONTRACT_FONT"},
    )


_registering = threading.Lock()
"""reportlab's font registry is process-wide: one registration at a time."""


def registered_font(font: FontFile) -> str:
    """Register ``font`` with reportlab unless it is already, and return its font name.

    The name is tied to the file and face, so every renderer that embeds the same file shares
    one registration; safe to call from several threads at once (the font is loaded once)."""
    digest = hashlib.sha256(f"{font.path}#{font.face}".encode()).hexdigest()[:8]
    name = f"PuhuiCJK-{digest}"
    with _registering:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(font.path), subfontIndex=font.face))
    return name


class CJKFont:
    """The CJK font of one renderer: found and registered on first use, then remembered."""

    def __init__(self, configured: Path | None = None) -> None:
        self._configured = configured
        self._name: str | None = None
        self._lock = threading.Lock()

    def name(self) -> str:
        """The registered font name (a missing font raises ``ConfigurationError`` each time)."""
        with self._lock:
            if self._name is None:
                self._name = registered_font(cjk_font(self._configured))
            return self._name
