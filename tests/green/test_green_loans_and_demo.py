"""Loans by green category (exact fen) and the demo's green section."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from puhui.cli.demo_green import green_section
from puhui.cli.demo_report import plain_lines
from puhui.pipelines.green.loans import loans_by_green_category

SCREEN = pl.DataFrame(
    {
        "uscc": ["A", "B", "C"],
        "label": ["green", "not_green", "green"],
        "category": ["clean_energy", None, "green_services"],
    }
)


def test_loans_are_counted_and_summed_by_label_and_category() -> None:
    table = loans_by_green_category(
        SCREEN, [("A", 100_000_01), ("A", 50_000_00), ("B", 7), ("C", 1), ("Z", 3)]
    )
    rows = {(r["label"], r["category"]): r for r in table.iter_rows(named=True)}
    assert rows[("green", "clean_energy")]["loans"] == 2
    assert rows[("green", "clean_energy")]["principal_fen"] == 150_000_01
    assert rows[("green", "clean_energy")]["enterprises"] == 1
    assert rows[("not_green", "-")]["principal_fen"] == 7
    assert rows[("unscreened", "-")]["loans"] == 1
    assert table.get_column("principal_fen").dtype == pl.Int64
    assert table.get_column("label").to_list()[:2] == ["green", "green"]
    assert table.get_column("principal_fen").sum() == 150_000_01 + 7 + 1 + 3


def test_no_loans_give_an_empty_table() -> None:
    assert loans_by_green_category(SCREEN, []).is_empty()


def test_the_demo_section_screens_the_month_before_lending(green_market: Path) -> None:
    section = green_section(green_market, date(2025, 7, 1), [])
    text = "\n".join(plain_lines(section))
    assert "screen as of 2025-06, catalogue 2019.1" in text
    assert "against the truth: precision" in text
    assert [row[0] for row in section.rows] == ["green:", "not_green:", "excluded_penalty:"]


def test_the_demo_section_says_why_it_could_not_screen(green_market: Path) -> None:
    section = green_section(green_market, date(2023, 1, 1), [])
    assert section.rows == []
    assert "outside the market" in section.notes[0]


def test_the_demo_section_lists_booked_green_loans(green_market: Path) -> None:
    from puhui.pipelines.green.screen import screen_market
    from puhui.risk.green.catalogue import load_catalogue

    screen = screen_market(green_market, date(2025, 6, 1), load_catalogue()).frame
    green = screen.filter(pl.col("label") == "green").row(0, named=True)
    section = green_section(green_market, date(2025, 7, 1), [(green["uscc"], 30_000_000)])
    booked = [row for row in section.rows if row[0].startswith("booked")]
    assert booked == [
        (f"booked green {green['category']}:", "1", "1", booked[0][3]),
    ]
    assert booked[0][3] == "300000.00"
