"""The dashboards' JSON endpoints: figures of the latest end of day, for those who read them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from api_support import Api, build_servicing_api
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent.parent / "reporting"))

from small_book import make_book, write_book

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Role

BOOK_DAY = date(2026, 2, 27)
CLOSED = BOOK_DAY + timedelta(days=1)


@pytest.fixture
def reports_api(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_reports_answer_not_built_before_the_first_end_of_day(servicing_api: Api) -> None:
    headers = servicing_api.staff_headers(Role.RISK_OFFICER)
    response = servicing_api.client.get("/api/v1/reports/portfolio", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "report_not_built"


def test_dashboards_read_the_latest_end_of_days_figures(reports_api: tuple[Api, Engine]) -> None:
    api, engine = reports_api
    book = make_book(BOOK_DAY)
    write_book(engine, book)
    run_end_of_day(SqlEndOfDayStore(engine, clock=api.clock), CLOSED)
    headers = api.staff_headers(Role.OPERATIONS)

    portfolio = api.client.get("/api/v1/reports/portfolio", headers=headers)
    assert portfolio.status_code == 200, portfolio.text
    body = portfolio.json()
    assert body["as_of"] == CLOSED.isoformat()
    active = [loan for loan in book.loans if loan["status"] == "active"]
    assert body["total"]["outstanding_principal_fen"] == sum(
        loan["outstanding_principal_fen"] for loan in active
    )
    assert [c["label_zh"] for c in body["categories"]] == ["正常", "关注", "次级", "可疑", "损失"]
    assert [b["name"] for b in body["dpd_buckets"]] == ["current", "1-30", "31-60", "61-90", "90+"]
    assert isinstance(body["npl_ratio"], str)
    assert [p["as_of"] for p in body["series"]] == [CLOSED.isoformat()]

    by_branch = api.client.get(
        "/api/v1/reports/origination",
        params={
            "from": (CLOSED - timedelta(days=6)).isoformat(),
            "to": CLOSED.isoformat(),
            "by": "branch",
        },
        headers=headers,
    )
    assert by_branch.status_code == 200, by_branch.text
    assert by_branch.json()["by"] == "branch"
    assert [d["day"] for d in by_branch.json()["days"]] == [CLOSED.isoformat()]

    vintages = api.client.get("/api/v1/reports/vintages", headers=headers)
    assert vintages.status_code == 200, vintages.text
    found = vintages.json()["vintages"]
    assert sum(v["loans"] for v in found) == len(
        [x for x in book.loans if x["disbursed_on"] >= date(2023, 3, 1)]
    )
    assert any(v["predicted_bad_rate"] is not None for v in found)


def test_reports_are_for_risk_operations_supervisors_and_auditors(servicing_api: Api) -> None:
    api = servicing_api
    for role in (Role.ACCOUNT_MANAGER, Role.APPROVER):
        headers = api.staff_headers(role)
        response = api.client.get("/api/v1/reports/vintages", headers=headers)
        assert response.status_code == 403, role
    applicant = api.client.get("/api/v1/reports/vintages", headers=api.applicant_headers())
    assert applicant.status_code == 403
    auditor = api.client.get("/api/v1/reports/vintages", headers=api.staff_headers(Role.AUDITOR))
    assert auditor.status_code == 404  # allowed in, nothing built yet


def test_an_unknown_grouping_is_refused(servicing_api: Api) -> None:
    headers = servicing_api.staff_headers(Role.RISK_OFFICER)
    response = servicing_api.client.get(
        "/api/v1/reports/origination", params={"by": "region"}, headers=headers
    )
    assert response.status_code == 422


def test_green_loans_by_label_and_category(reports_api: tuple[Api, Engine]) -> None:
    api, engine = reports_api
    book = make_book(BOOK_DAY)
    for i, application in enumerate(book.applications):
        application["green_label"] = "green" if i % 2 == 0 else None
        application["green_category"] = "clean_energy" if i % 2 == 0 else None
    write_book(engine, book)
    green_lines = {a["credit_line_id"] for a in book.applications if a["green_label"] == "green"}
    expected_fen = sum(
        loan["outstanding_principal_fen"]
        for loan in book.loans
        if loan["line_id"] in green_lines and loan["outstanding_principal_fen"] > 0
    )
    response = api.client.get("/api/v1/reports/green", headers=api.staff_headers(Role.RISK_OFFICER))
    assert response.status_code == 200, response.text
    rows = {(r["label"], r["category"]): r for r in response.json()}
    assert rows[("green", "clean_energy")]["outstanding_principal_fen"] == expected_fen
    total = sum(r["outstanding_principal_fen"] for r in rows.values())
    assert total == sum(x["outstanding_principal_fen"] for x in book.loans)
    anonymous = api.client.get("/api/v1/reports/green")
    assert anonymous.status_code == 401
