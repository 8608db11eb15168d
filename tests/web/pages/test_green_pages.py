"""The green-loan console page over HTTP: readers of reports see the book's loans and balance
by green label and category in yuan (zh-CN and English), equal to the book; others are refused
and have no entry."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent.parent.parent / "reporting"))

from api_support import PASSWORD, Api, build_servicing_api
from small_book import make_book, write_book

from puhui.domain.clock import FixedClock
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.pages.i18n import yuan

BOOK_DAY = date(2026, 2, 27)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LABELS = (("green", "clean_energy"), ("green", "green_services"), ("not_green", None), (None, None))


@pytest.fixture
def site(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(sqlite_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _client(api: Api, role: Role) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver")
    username = f"user-{role.value}"
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
    )
    match = CSRF.search(client.get("/console/sign-in").text)
    assert match is not None
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def _labelled_book(engine: Engine) -> dict[str, tuple[int, int]]:
    """Write a book whose applications carry labels; the expected (loans, fen) by category."""
    book = make_book(BOOK_DAY)
    by_line: dict[str, str] = {}
    for i, application in enumerate(book.applications):
        label, category = LABELS[i % len(LABELS)]
        application["green_label"] = label
        application["green_category"] = category
        if application["credit_line_id"] is not None and label == "green":
            assert category is not None
            by_line[application["credit_line_id"]] = category
    write_book(engine, book)
    expected: dict[str, tuple[int, int]] = {}
    for loan in book.loans:
        category = by_line.get(loan["line_id"])
        if category is not None and loan["outstanding_principal_fen"] > 0:
            n, fen = expected.get(category, (0, 0))
            expected[category] = (n + 1, fen + loan["outstanding_principal_fen"])
    expected["*"] = (
        sum(1 for x in book.loans if x["outstanding_principal_fen"] > 0),
        sum(x["outstanding_principal_fen"] for x in book.loans),
    )
    return expected


def _row(html: str, attribute: str, key: str) -> str:
    match = re.search(rf'<tr {attribute}="{key}">(.*?)</tr>', html, re.S)
    assert match is not None, f"no row {attribute}={key}"
    return match.group(1)


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.AUDITOR])
def test_readers_see_the_books_green_loans_in_both_languages(
    site: tuple[Api, Engine], role: Role
) -> None:
    api, engine = site
    expected = _labelled_book(engine)
    assert expected.get("clean_energy", (0, 0))[0] > 0
    client = _client(api, role)
    assert 'href="/console/green"' in client.get("/console/").text
    page = client.get("/console/green")
    assert page.status_code == 200, page.text
    assert "绿色贷款" in page.text
    for category, name in (("clean_energy", "清洁能源产业"), ("green_services", "绿色服务")):
        if category not in expected:
            continue
        row = _row(page.text, "data-category", category)
        assert name in row
        loans, fen = expected[category]
        assert f"<td>{loans}</td>" in row
        assert f"<td>{yuan(fen)}</td>" in row
    assert f"data-total>{yuan(expected['*'][1])}<" in page.text
    green = _row(page.text, "data-label", "green")
    green_fen = sum(fen for k, (_, fen) in expected.items() if k != "*")
    assert f"<td>{yuan(green_fen)}</td>" in green
    english = client.get("/console/green?lang=en")
    assert "Green loans" in english.text
    assert "Clean energy industry" in _row(english.text, "data-category", "clean_energy")
    assert "Unlabelled" in _row(english.text, "data-label", "unlabelled")


def test_an_empty_book_says_so(site: tuple[Api, Engine]) -> None:
    api, _ = site
    page = _client(api, Role.OPERATIONS).get("/console/green?lang=en")
    assert page.status_code == 200
    assert "No loan has principal outstanding." in page.text


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.APPROVER])
def test_others_have_no_entry_and_are_refused(site: tuple[Api, Engine], role: Role) -> None:
    api, engine = site
    _labelled_book(engine)
    client = _client(api, role)
    assert 'href="/console/green"' not in client.get("/console/").text
    page = client.get("/console/green")
    assert page.status_code == 403
    assert "清洁能源产业" not in page.text
