"""The demo's prosperity section: indices built into the platform's folder, one row per
industry of the latest month, suppressed cells said so; a market too short is a note."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from puhui.cli.demo_prosperity import prosperity_section
from puhui.domain.progress import NoProgress
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.prosperity.serving import IndustryIndexFile


def test_the_section_lists_every_industry_of_the_latest_month(
    prosperity_market: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "prosperity"
    section = prosperity_section(prosperity_market, folder, NoProgress())
    assert section.title.endswith("latest month 2025-12")
    industries = {row[0]: row for row in section.rows}
    assert len(industries) == 10
    assert industries["accommodation"][1] == "suppressed"  # under 10 firms (docs/prosperity.md)
    manufacturing = industries["manufacturing"]
    assert 0 <= float(manufacturing[1]) <= 100
    assert manufacturing[2].startswith(("+", "-"))
    assert any("r_truth" in note for note in section.notes)
    served = IndustryIndexFile(folder)  # the platform reads what the demo wrote
    assert served.cells("industry") == sorted(industries)


def test_a_market_too_short_for_a_year_on_year_index_gives_a_note(tmp_path: Path) -> None:
    market = tmp_path / "short"
    generate_market(MarketParams(enterprises=30, months=6, start=date(2024, 1, 1), seed=3), market)
    section = prosperity_section(market, tmp_path / "prosperity", NoProgress())
    assert section.rows == []
    assert section.notes[0].startswith("not built:")
