"""The message catalogs of the pages: extract, update, compile and check (``make messages``).

Each page area has its own catalog, so areas are translated independently: the area ``X`` is
the templates under ``templates/X/`` and the page code in ``pages/X.py`` or ``pages/X/``; the
area ``common`` also takes the page modules no other area claims (layouts, sign-in, errors).
English is the source language; every message needs a zh-CN translation (``check`` fails, and
so does a test, on a missing or fuzzy one).

    python -m puhui.web.pages.catalogs update    # extract every area and merge into its .po
    python -m puhui.web.pages.catalogs compile   # .po -> .mo (read by the app when current)
    python -m puhui.web.pages.catalogs check     # exit 1 naming every untranslated message
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from puhui.web.pages.i18n import LOCALE_DIR

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = WEB_DIR / "templates"
PAGES = WEB_DIR / "pages"
TRANSLATED = ("zh_CN",)
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
COMMON = "common"


@dataclass(frozen=True, slots=True)
class Message:
    msgid: str
    locations: tuple[tuple[str, int], ...]


def areas() -> list[str]:
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())


def sources(area: str) -> list[Path]:
    """The files whose messages belong to ``area``'s catalog."""
    found = sorted((TEMPLATES / area).rglob("*.html"))
    found += [PAGES / f"{area}.py"] if (PAGES / f"{area}.py").exists() else []
    found += sorted((PAGES / area).rglob("*.py")) if (PAGES / area).is_dir() else []
    if area == COMMON:
        claimed = {a for a in areas() if a != COMMON}
        found += [
            p for p in sorted(PAGES.glob("*.py")) if p.stem not in claimed and p.stem != "catalogs"
        ]
    return found


def _extract_file(path: Path) -> Iterator[tuple[str, int]]:
    if path.suffix == ".html":
        method, options = "jinja2.ext:babel_extract", JINJA_OPTIONS
    else:
        method, options = "python", {}
    for lineno, message, _comments, _context in extract_from_file(
        method, str(path), keywords=KEYWORDS, options=options
    ):
        texts = message if isinstance(message, tuple) else (message,)
        for text in texts:
            if text:
                yield str(text), lineno


def extract(area: str) -> Catalog:
    """The area's messages, as a template catalog with their source locations."""
    catalog = Catalog(project="puhui", domain=area, charset="utf-8")
    for path in sources(area):
        relative = str(path.relative_to(WEB_DIR))
        for text, lineno in _extract_file(path):
            catalog.add(text, locations=[(relative, lineno)])
    return catalog


def po_path(locale: str, area: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{area}.po"


def read(locale: str, area: str) -> Catalog | None:
    path = po_path(locale, area)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=area)


def update() -> list[Path]:
    """Merge every area's extracted messages into its catalogs (creating new ones)."""
    written: list[Path] = []
    for area in areas():
        template = extract(area)
        for locale in TRANSLATED:
            catalog = read(locale, area) or Catalog(locale=locale, domain=area, project="puhui")
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            path = po_path(locale, area)
            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            write_po(buffer, catalog, width=100, sort_output=False, omit_header=False)
            new = buffer.getvalue()
            if path.exists() and _without_dates(path.read_bytes()) == _without_dates(new):
                continue  # nothing but the extraction date would change
            path.write_bytes(new)
            written.append(path)
    return written


def _without_dates(po: bytes) -> bytes:
    return b"\n".join(
        line for line in po.splitlines() if not line.startswith(b'"POT-Creation-Date:')
    )


def compile_all() -> list[Path]:
    written: list[Path] = []
    for locale in TRANSLATED:
        for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=locale, domain=po.stem)
            mo = po.with_suffix(".mo")
            with mo.open("wb") as handle:
                write_mo(handle, catalog)
            written.append(mo)
    return written


def untranslated() -> list[str]:
    """Every message a page can show without a zh-CN translation, as ``area: msgid``."""
    missing: list[str] = []
    for area in areas():
        template = extract(area)
        for locale in TRANSLATED:
            catalog = read(locale, area)
            for message in template:
                if not message.id:
                    continue
                entry = catalog.get(message.id) if catalog is not None else None
                if entry is None or not entry.string or entry.fuzzy:
                    missing.append(f"{locale}/{area}: {message.id!r}")
    return missing


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _placeholders(text: str) -> tuple[list[str], bool]:
    """The named placeholders of ``text`` and whether a bare ``%`` is left (pages format every
    message with ``%``, so a bare one fails at render time)."""
    names = [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1)]
    return sorted(names), "%" in _PLACEHOLDER.sub("", text)


def mismatched(message: str, translation: str) -> bool:
    """Whether ``translation`` loses or adds a placeholder of ``message``, or has a bare ``%``
    that ``message`` has not."""
    names, bare_in_message = _placeholders(message)
    found, bare = _placeholders(translation)
    return (bare and not bare_in_message) or found != names


def misformatted() -> list[str]:
    """Translations whose placeholders differ from the message's, or with a bare ``%`` the
    message has not (a message formatted on the page then renders in English and fails in
    Chinese)."""
    wrong: list[str] = []
    for area in areas():
        for locale in TRANSLATED:
            catalog = read(locale, area)
            if catalog is None:
                continue
            for entry in catalog:
                if not entry.id or not isinstance(entry.string, str) or not entry.string:
                    continue
                if mismatched(str(entry.id), entry.string):
                    wrong.append(f"{locale}/{area}: {entry.id!r} -> {entry.string!r}")
    return wrong


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command in ("extract", "update"):
        for path in update():
            sys.stdout.write(f"updated {path.relative_to(WEB_DIR.parent.parent.parent)}\n")
        return 0
    if command == "compile":
        for path in compile_all():
            sys.stdout.write(f"compiled {path.name} ({path.parent.parent.name})\n")
        return 0
    if command == "check":
        missing = untranslated()
        for line in missing:
            sys.stderr.write(f"untranslated: {line}\n")
        wrong = misformatted()
        for line in wrong:
            sys.stderr.write(f"placeholders differ or a stray %: {line}\n")
        return 1 if missing or wrong else 0
    sys.stderr.write("usage: python -m puhui.web.pages.catalogs update|compile|check\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
