"""The batch green screen of a market, its measure against the truth and ``puhui green``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.domain.lending.schedule import add_months
from puhui.market import store
from puhui.pipelines.green.screen import screen_market, write_screen
from puhui.risk.green.catalogue import load_catalogue
from puhui.risk.green.errors import InvalidGreenScreen

runner = CliRunner()
AS_OF = date(2025, 12, 1)


@pytest.fixture(scope="module")
def screen_frame(green_market: Path) -> pl.DataFrame:
    return screen_market(green_market, AS_OF, load_catalogue()).frame


def test_every_registered_enterprise_gets_one_label_with_evidence(
    green_market: Path, screen_frame: pl.DataFrame
) -> None:
    enterprises = store.read(green_market, "enterprises").filter(
        pl.col("registration_date") < date(2026, 1, 1)
    )
    assert screen_frame.height == enterprises.height
    assert screen_frame.get_column("uscc").is_unique().all()
    assert set(screen_frame.get_column("label").unique()) == {
        "green",
        "not_green",
        "excluded_penalty",
    }
    assert screen_frame.filter(pl.col("evidence").list.len() != 3).is_empty()
    green = screen_frame.filter(pl.col("label") == "green")
    assert green.filter(
        pl.col("category").is_null()
        | (pl.col("penalties") > 0)
        | (pl.col("energy_percentile") > 0.75)
    ).is_empty()


def test_energy_intensity_and_penalties_are_recomputed_by_hand(
    green_market: Path, screen_frame: pl.DataFrame
) -> None:
    row = screen_frame.filter(pl.col("energy_intensity").is_not_null()).row(7, named=True)
    first = add_months(AS_OF, -11)
    in_window = (pl.col("uscc") == row["uscc"]) & pl.col("month").is_between(first, AS_OF)
    kwh = store.read(green_market, "utilities_monthly").filter(in_window)
    sales = store.read(green_market, "tax_monthly").filter(in_window)
    both = kwh.join(sales, on=["uscc", "month"])
    kwh_sum = int(both.get_column("electricity_kwh").sum())
    sales_sum = int(both.get_column("declared_sales_fen").sum())
    expected = kwh_sum / (sales_sum / 1_000_000)
    assert row["energy_intensity"] == pytest.approx(expected)
    assert row["energy_months"] == both.height

    penalised = screen_frame.filter(pl.col("penalties") > 0).row(0, named=True)
    records = store.read(green_market, "environmental_penalties").filter(
        (pl.col("uscc") == penalised["uscc"])
        & pl.col("month").is_between(add_months(AS_OF, -23), AS_OF)
    )
    assert penalised["penalties"] == records.height
    assert penalised["label"] == "excluded_penalty"


def test_percentiles_rank_within_the_division(screen_frame: pl.DataFrame) -> None:
    peers = screen_frame.filter(
        (pl.col("industry_code") == "C38") & pl.col("energy_intensity").is_not_null()
    ).sort("energy_intensity")
    assert peers.get_column("energy_percentile").is_sorted()
    assert peers.get_column("energy_percentile")[-1] == 1.0
    assert peers.get_column("energy_percentile")[0] == pytest.approx(1 / peers.height)


def test_the_screen_beats_the_base_rate_and_excludes_polluters(green_market: Path) -> None:
    measure = screen_market(green_market, AS_OF, load_catalogue()).measure
    assert measure is not None
    base_rate = measure["truly_green"] / measure["enterprises"]
    assert measure["precision"] > 2 * base_rate
    assert measure["recall"] > 0.4
    assert measure["excluded_penalty_are_polluters"] > 0.4
    assert measure["polluters_labelled_green"] < 0.2 * measure["labelled_green"]


def test_a_month_outside_the_market_is_refused(green_market: Path) -> None:
    with pytest.raises(InvalidGreenScreen, match="2026-01 is outside the market"):
        screen_market(green_market, date(2026, 1, 1), load_catalogue())


def test_cli_writes_the_screen_and_report(green_market: Path, tmp_path: Path) -> None:
    out = tmp_path / "screen"
    args = ["green", "screen", "--market", str(green_market), "--as-of", "2025-12"]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["catalogue_version"] == "2019.1"
    assert sum(report["labels"].values()) == report["enterprises"]
    written = pl.read_parquet(out / "screen.parquet")
    assert written.height == report["enterprises"]
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["catalogue"]["version"] == "2019.1"
    assert saved["labels"] == report["labels"]


def test_cli_prints_lines_for_a_person(green_market: Path) -> None:
    result = runner.invoke(
        app, ["green", "screen", "--market", str(green_market), "--as-of", "2025-06"]
    )
    assert result.exit_code == 0, result.output
    assert "green screen 2025-06 (catalogue 2019.1)" in result.stdout
    assert "against the truth: precision" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--as-of", "2025-13"], "a month is written YYYY-MM"),
        (["--as-of", "2022-12"], "outside the market"),
        (["--as-of", "2025-12", "--catalogue", "1999"], "unknown green catalogue version"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(
    green_market: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "screen"
    result = runner.invoke(
        app, ["green", "screen", "--market", str(green_market), "--out", str(out), *args]
    )
    assert result.exit_code == 2
    assert says in result.stderr
    assert not out.exists()


def test_cli_missing_market_folder(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["green", "screen", "--market", str(tmp_path / "none"), "--as-of", "2025-12"]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_write_screen_leaves_no_temporary_files(green_market: Path, tmp_path: Path) -> None:
    written = write_screen(screen_market(green_market, AS_OF, load_catalogue()), tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(p.name for p in written)


def test_catalogue_cli(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["green", "catalogue", "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["divisions"]["C38"]["category"] == "clean_energy"
    bad = runner.invoke(app, ["green", "catalogue", "--catalogue", "x"])
    assert bad.exit_code == 2
    assert "unknown green catalogue version 'x'" in bad.stderr


def test_show_prints_one_enterprises_label_and_evidence(green_market: Path, tmp_path: Path) -> None:
    screen = screen_market(green_market, AS_OF, load_catalogue())
    write_screen(screen, tmp_path)
    row = screen.frame.filter(pl.col("label") == "green").row(0, named=True)
    shown = runner.invoke(app, ["green", "show", "--screen", str(tmp_path), "--uscc", row["uscc"]])
    assert shown.exit_code == 0, shown.output
    assert f"{row['uscc']} as of 2025-12: green, category {row['category_name']}" in shown.stdout
    assert shown.stdout.count("  - ") == 3
    as_json = runner.invoke(
        app, ["green", "show", "--screen", str(tmp_path), "--uscc", row["uscc"], "--json"]
    )
    assert json.loads(as_json.stdout)["evidence"] == row["evidence"]
    unknown = runner.invoke(app, ["green", "show", "--screen", str(tmp_path), "--uscc", "X1"])
    assert unknown.exit_code == 2
    assert "enterprise X1 is not in the screen" in unknown.stderr
    empty = runner.invoke(
        app, ["green", "show", "--screen", str(tmp_path / "none"), "--uscc", row["uscc"]]
    )
    assert empty.exit_code == 2
    assert "no green screen in" in empty.stderr
