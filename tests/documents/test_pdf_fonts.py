"""The CJK font is registered with reportlab once per file, from one thread or several."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfbase import pdfmetrics

from puhui.adapters.pdf import fonts
from puhui.adapters.pdf.fonts import CJKFont, FontFile, cjk_font, registered_font
from puhui.domain.errors import ConfigurationError


@pytest.fixture
def fresh_font(tmp_path: Path) -> FontFile:
    """The installed CJK font under a path of its own: a name no other test has registered."""
    installed = cjk_font()
    copy = tmp_path / f"cjk{installed.path.suffix}"
    shutil.copyfile(installed.path, copy)
    return FontFile(copy, installed.face)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the fonts reportlab loads from file while the test runs."""
    loaded: list[str] = []
    real = fonts.TTFont

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        loaded.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(fonts, "TTFont", counting)
    return loaded


def test_registering_twice_gives_the_same_name_and_loads_the_font_once(
    fresh_font: FontFile, loads: list[str]
) -> None:
    name = registered_font(fresh_font)
    assert loads == [name]
    assert registered_font(fresh_font) == name
    assert loads == [name]
    # (Not the face's file name: reportlab shares one parsed face between identical files,
    # so after another test loaded the installed font it names that file.)
    assert name in pdfmetrics.getRegisteredFontNames()


def test_another_file_gets_another_name(fresh_font: FontFile, tmp_path: Path) -> None:
    other = tmp_path / f"other{fresh_font.path.suffix}"
    shutil.copyfile(fresh_font.path, other)
    assert registered_font(fresh_font) != registered_font(FontFile(other, fresh_font.face))


def test_threads_registering_at_once_share_one_registration(
    fresh_font: FontFile, loads: list[str]
) -> None:
    threads = 8
    start = threading.Barrier(threads)
    names: list[str] = []
    errors: list[BaseException] = []

    def register() -> None:
        start.wait()
        try:
            names.append(registered_font(fresh_font))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    workers = [threading.Thread(target=register) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(names) == threads
    assert len(set(names)) == 1
    assert loads == names[:1]


def test_a_renderers_font_is_found_once_and_shared_across_threads(
    fresh_font: FontFile, loads: list[str]
) -> None:
    font = CJKFont(fresh_font.path)
    threads = 6
    start = threading.Barrier(threads)
    names: list[str] = []

    def name() -> None:
        start.wait()
        names.append(font.name())

    workers = [threading.Thread(target=name) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(names) == threads
    assert set(names) == {registered_font(FontFile(fresh_font.path))}
    assert len(loads) == 1


def test_a_missing_configured_font_is_an_error_on_every_use(tmp_path: Path) -> None:
    font = CJKFont(tmp_path / "missing.ttf")
    for _ in range(2):
        with pytest.raises(ConfigurationError, match="does not exist"):
            font.name()
