"""``puhui report green``: outstanding loans and balance by the green label and category their
application was decided with (migration 0032), equal to the figures computed from the book."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import pytest
from small_book import make_book, write_book
from typer.testing import CliRunner

from puhui.adapters.db.engine import make_engine
from puhui.cli.main import app

runner = CliRunner()
DAY = date(2026, 2, 28)
LABELS = (
    ("green", "clean_energy"),
    ("green", "green_services"),
    ("not_green", None),
    ("excluded_penalty", None),
    (None, None),
)


@pytest.fixture
def expected(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], list[int]]:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    book = make_book(DAY)
    by_line: dict[str, tuple[str, str]] = {}
    for i, application in enumerate(book.applications):
        label, category = LABELS[i % len(LABELS)]
        application["green_label"] = label
        application["green_category"] = category
        if application["credit_line_id"] is not None:
            by_line[application["credit_line_id"]] = (label or "unlabelled", category or "-")
    figures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for loan in book.loans:
        if loan["outstanding_principal_fen"] > 0:
            key = by_line.get(loan["line_id"], ("unlabelled", "-"))
            figures[key][0] += 1
            figures[key][1] += loan["outstanding_principal_fen"]
    engine = make_engine(sqlite_url)
    try:
        write_book(engine, book)
    finally:
        engine.dispose()
    return dict(figures)


def test_the_report_equals_the_books_figures(expected: dict[tuple[str, str], list[int]]) -> None:
    result = runner.invoke(app, ["report", "green", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    got = {(r["label"], r["category"]): [r["loans"], r["outstanding_principal_fen"]] for r in rows}
    assert got == expected
    assert rows[0]["label"] == "green"
    assert {("green", "clean_energy"), ("green", "green_services")} <= set(got)


def test_the_report_prints_lines_for_a_person(expected: dict[tuple[str, str], list[int]]) -> None:
    result = runner.invoke(app, ["report", "green"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("label")
    loans, fen = expected[("green", "clean_energy")]
    line = next(x for x in result.stdout.splitlines() if "clean_energy" in x)
    assert str(loans) in line
    assert f"{fen // 100}.{fen % 100:02d}" in line
