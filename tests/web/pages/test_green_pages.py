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
from origination_fakes import OWNER_ID, PHONE, USCC_A
from small_book import make_book, write_book

from puhui.domain.clock import FixedClock
from puhui.domain.origination.decision_record import DecisionEvidence
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.pages.i18n import yuan

BOOK_DAY = date(2026, 2, 27)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALL_SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]
H5_GREEN = "绿色企业"
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
    shown = re.findall(r'<tr data-label="([a-z_]+)">', page.text)
    assert shown == [
        k for k in ("green", "not_green", "excluded_penalty", "unlabelled") if k in shown
    ]
    assert shown[0] == "green"
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


def _evidence(label: str, category: str | None) -> DecisionEvidence:
    inputs = {"green_label": label} | ({} if category is None else {"green_category": category})
    return DecisionEvidence(
        as_of=BOOK_DAY,
        licence_type="bank",
        strategy_name="mse-default",
        strategy_version=1,
        strategy_hash="0" * 64,
        model_name="market-pd",
        model_version="v1",
        arm="champion",
        inputs=inputs,
        features={"f": 1.0},
        feature_source="store",
    )


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None, path
    return match.group(1)


def _offered_on_h5(api: Api) -> tuple[TestClient, str]:
    """The owner signs in on H5, applies and consents; the (fake) decision offers a line."""
    client = TestClient(api.client.app, base_url="https://testserver")
    token = _csrf(client, "/h5/sign-in")
    assert client.post("/h5/sign-in/code", data={"phone": PHONE, "csrf_token": token}).is_success
    code = next(c for p, c in reversed(api.sender.sent) if p == PHONE)
    signed = client.post(
        "/h5/sign-in",
        data={"phone": PHONE, "code": code, "csrf_token": token, "next": "/h5/apply"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    applied = client.post(
        "/h5/apply",
        data={
            "uscc": USCC_A,
            "id_number": OWNER_ID,
            "amount": "200000",
            "term": "12",
            "csrf_token": _csrf(client, "/h5/apply"),
        },
        follow_redirects=False,
    )
    assert applied.status_code == 303, applied.text
    app_id = str(applied.headers["location"]).rsplit("/", 1)[1]
    consented = client.post(
        f"/h5/apply/{app_id}/consent",
        data={"scope": ALL_SCOPES, "csrf_token": _csrf(client, f"/h5/apply/{app_id}")},
        follow_redirects=False,
    )
    assert consented.status_code == 303, consented.text
    return client, app_id


def test_a_green_application_shows_its_label_to_the_owner_and_to_staff(
    site: tuple[Api, Engine],
) -> None:
    api, _ = site
    api.assessor.evidence = _evidence("green", "clean_energy")  # type: ignore[attr-defined]
    owner, app_id = _offered_on_h5(api)
    answer = owner.get(f"/h5/apply/{app_id}")
    assert "已获批" in answer.text
    assert H5_GREEN in answer.text
    assert "清洁能源产业" in answer.text
    assert "利率优惠" in answer.text
    english = owner.get(f"/h5/apply/{app_id}?lang=en")
    assert "Green enterprise" in english.text
    assert "Clean energy industry" in english.text
    # Once the owner accepts, the line's page says it too (in English: chosen just above).
    accepted = owner.post(
        f"/h5/apply/{app_id}/acceptance",
        data={"read": "yes", "csrf_token": _csrf(owner, f"/h5/apply/{app_id}/contract")},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    line_page = owner.get(str(accepted.headers["location"]))
    assert line_page.status_code == 200, line_page.text
    assert "Green enterprise" in line_page.text
    assert "Clean energy industry" in line_page.text
    staff = _client(api, Role.APPROVER)
    detail = staff.get(f"/console/applications/{app_id}")
    assert detail.status_code == 200, detail.text
    assert 'data-green-label="green"' in detail.text
    assert "绿色标签" in detail.text
    assert "清洁能源产业" in detail.text
    detail_en = staff.get(f"/console/applications/{app_id}?lang=en")
    assert "Green label" in detail_en.text
    assert "Clean energy industry" in detail_en.text


@pytest.mark.parametrize("label", ["not_green", "excluded_penalty", None])
def test_an_application_not_green_tells_the_owner_nothing_green(
    site: tuple[Api, Engine], label: str | None
) -> None:
    api, _ = site
    if label is not None:
        api.assessor.evidence = _evidence(label, None)  # type: ignore[attr-defined]
    owner, app_id = _offered_on_h5(api)
    answer = owner.get(f"/h5/apply/{app_id}")
    assert "已获批" in answer.text
    assert H5_GREEN not in answer.text
    assert "利率优惠" not in answer.text
    detail = _client(api, Role.APPROVER).get(f"/console/applications/{app_id}?lang=en")
    assert detail.status_code == 200
    if label is None:
        assert "data-green-label" not in detail.text
    else:
        assert f'data-green-label="{label}"' in detail.text
        assert "Green label" in detail.text
