"""The CJK font the PDFs embed: configured, or found where Debian's font packages put it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
