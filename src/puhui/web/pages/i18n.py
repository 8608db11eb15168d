"""Languages of the console and the H5 pages: zh-CN first, English the alternative.

Messages are written in English in the templates and the page modules and translated through
Babel catalogs, one per page area (``locale/zh_CN/LC_MESSAGES/<area>.po``): the areas are
extracted and updated separately (``make messages``) and merged here into one translation per
language. English is the source language and needs no catalog.

A compiled ``.mo`` (``make messages``, also run by ``make demo`` and ``make test``) is read when
it is at least as new as its ``.po``; otherwise the ``.po`` is compiled in memory, so an edited
catalog takes effect without a build step.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from puhui.domain.clock import BANK_ZONE

logger = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "zh-CN"
LOCALES: tuple[str, ...] = ("zh-CN", "en")
"""The page languages, as ``<html lang>`` and the language cookie spell them."""
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}
_CATALOG_DIRS = {"zh-CN": "zh_CN"}
"""Babel's directory name of each language that has catalogs (English is the source)."""


def parse_locale(value: str | None) -> str:
    """The supported language ``value`` names (``zh``, ``zh-cn``, ``en-GB`` …), else zh-CN."""
    if not value:
        return DEFAULT_LOCALE
    lowered = value.strip().lower().replace("_", "-")
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def _catalog(po: Path) -> Translations:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=po.stem)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=po.stem)


@cache
def _merged(locale: str) -> NullTranslations:
    directory = _CATALOG_DIRS.get(locale)
    if directory is None:
        return NullTranslations()
    merged = Translations()
    for po in sorted((LOCALE_DIR / directory / "LC_MESSAGES").glob("*.po")):
        merged.merge(_catalog(po))
    return merged


@cache
def translations(locale: str, area: str | None = None) -> NullTranslations:
    """The messages of ``locale`` as ``area`` words them, then as any area does.

    The same English can need different Chinese on different pages ("Draw" is 借款 to an owner
    and 放款 in a loan officer's ledger), so an area's own catalog is read first; what it does
    not hold (the layouts' messages, another area's navigation labels) comes from all catalogs
    merged. English: the messages as written.
    """
    directory = _CATALOG_DIRS.get(locale)
    if directory is None:
        return NullTranslations()
    po = LOCALE_DIR / directory / "LC_MESSAGES" / f"{area}.po"
    if area is None or not po.exists():
        return _merged(locale)
    own = _catalog(po)
    own.add_fallback(_merged(locale))
    return own


# --- formats the pages share: amounts in yuan, dates, rates -------------------------------


def yuan(fen: int | None, *, decimals: bool = True) -> str:
    """Fen as yuan with thousands separators: 1234567 -> ``12,345.67``; None -> ``—``."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    if not decimals:
        rounded = (Decimal(abs(fen)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{sign}{int(rounded):,}"
    return f"{sign}{whole:,}.{cents:02d}"


def iso_date(value: date | datetime | str | None) -> str:
    """Dates as ``YYYY-MM-DD``; a timestamp keeps its minutes, in the bank's (Beijing) time:
    ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        local = value.astimezone(BANK_ZONE) if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def percent(value: float | Decimal | None, digits: int = 1) -> str:
    """A share as a percentage: 0.1234 -> ``12.3%``."""
    if value is None:
        return "—"
    # Half-up, as the charts and the reports round (a float would round 1.25 to 1.2).
    share = Decimal(str(value)) * 100
    return f"{share.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)}%"


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    code: str
    name: str
    current: bool


def language_choices(current: str) -> list[LanguageChoice]:
    return [LanguageChoice(code, LANGUAGE_NAMES[code], code == current) for code in LOCALES]
