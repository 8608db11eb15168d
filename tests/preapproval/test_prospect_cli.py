"""``puhui prospect``: the run, its refusals, the load into the platform and the marketing map."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from puhui.adapters.db.prospects.tables import prospects as prospect_table
from puhui.bootstrap import Platform
from puhui.cli.main import app
from puhui.pipelines.preapproval import write_prospects
from puhui.pipelines.preapproval_inputs import current_exposure
from puhui.risk.features import MarketTables

runner = CliRunner()


def _run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["prospect", "run", *(str(a) for a in args)])
    return result.exit_code, result.output


def test_the_run_with_saved_models_writes_the_list_of_the_pipeline(
    score_market: Path,
    models_dir: Path,
    strategy_file: Path,
    prospects: pl.DataFrame,
    tmp_path: Path,
) -> None:
    out = tmp_path / "list.csv"
    code, output = _run(
        "--market",
        score_market,
        "--as-of",
        "2024-10",
        "--out",
        out,
        "--model",
        models_dir,
        "--strategy",
        strategy_file,
    )
    assert code == 0, output
    assert f"{prospects.height:,} enterprises pre-approved as of 2024-10" in output
    expected = write_prospects(prospects, tmp_path / "expected.csv")
    assert out.read_bytes() == expected.read_bytes()


@pytest.mark.parametrize(
    ("as_of", "out", "expected"),
    [
        ("2024-13", "list.csv", "--as-of is written YYYY-MM"),
        ("October", "list.csv", "--as-of is written YYYY-MM"),
        ("2024-10", "list.xlsx", "--out must end in .csv or .parquet"),
    ],
)
def test_bad_options_are_refused_before_any_work(
    score_market: Path, models_dir: Path, tmp_path: Path, as_of: str, out: str, expected: str
) -> None:
    code, output = _run(
        "--market", score_market, "--as-of", as_of, "--out", tmp_path / out, "--model", models_dir
    )
    assert code == 2
    assert expected in output
    assert not (tmp_path / out).exists()


def test_models_are_given_exactly_once(score_market: Path, tmp_path: Path) -> None:
    code, output = _run("--market", score_market, "--as-of", "2024-10", "--out", tmp_path / "a.csv")
    assert code == 2
    assert "exactly one of --model DIR and --train-market DIR" in output


def test_training_and_scoring_on_the_same_market_is_refused(
    train_market: Path, models_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "list.csv"
    code, output = _run(
        "--market", train_market, "--as-of", "2024-10", "--out", out, "--train-market", train_market
    )
    assert code == 2
    assert "[same_market]" in output
    assert "seed 41" in output
    code, output = _run(
        "--market", train_market, "--as-of", "2024-10", "--out", out, "--model", models_dir
    )
    assert code == 2
    assert "[same_market]" in output
    assert "the models were trained on" in output
    assert not out.exists()


def test_a_market_missing_a_table_is_refused_by_its_name(
    score_market: Path, models_dir: Path, tmp_path: Path
) -> None:
    market = tmp_path / "market"
    shutil.copytree(score_market, market)
    shutil.rmtree(market / "tables" / "settlement_monthly")
    out = tmp_path / "list.csv"
    code, output = _run(
        "--market", market, "--as-of", "2024-10", "--out", out, "--model", models_dir
    )
    assert code == 2
    assert "settlement_monthly" in output
    assert not out.exists()


def test_a_market_missing_a_month_is_refused_by_its_name(
    score_market: Path, models_dir: Path, tmp_path: Path
) -> None:
    market = tmp_path / "market"
    shutil.copytree(score_market, market)
    for part in (market / "tables" / "utilities_monthly").glob("*.parquet"):
        frame = pl.read_parquet(part)
        frame.filter(pl.col("month") != pl.date(2024, 5, 1)).write_parquet(part)
    out = tmp_path / "list.csv"
    code, output = _run(
        "--market", market, "--as-of", "2024-10", "--out", out, "--model", models_dir
    )
    assert code == 2
    assert "utilities_monthly" in output
    assert "2024-05" in output
    assert not out.exists()


def test_the_run_loads_its_list_into_the_platform_all_at_once(
    score_market: Path,
    models_dir: Path,
    strategy_file: Path,
    prospects: pl.DataFrame,
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    for _ in range(2):  # a re-run of the month replaces its list
        code, output = _run(
            "--market",
            score_market,
            "--as-of",
            "2024-10",
            "--out",
            tmp_path / "list.parquet",
            "--model",
            models_dir,
            "--strategy",
            strategy_file,
            "--load",
        )
        assert code == 0, output
        assert f"{prospects.height:,} prospects" in output
    assert "0 new" in output
    with platform.database.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(prospect_table)).scalar_one()
    assert count == prospects.height


def test_the_marketing_map_writes_tables_and_pictures_by_place(
    score_market: Path, prospects: pl.DataFrame, tmp_path: Path
) -> None:
    listed = write_prospects(prospects, tmp_path / "list.csv")
    out = tmp_path / "map"
    result = runner.invoke(
        app,
        [
            "prospect",
            "report",
            "--prospects",
            str(listed),
            "--market",
            str(score_market),
            "--out",
            str(out),
            "--as-of",
            "2024-10",
        ],
    )
    assert result.exit_code == 0, result.output
    for dimension in ("region_code", "industry_group", "park"):
        table = pl.read_csv(
            out / f"prospects_by_{dimension}.csv", schema_overrides={dimension: str}
        )
        assert table.columns[:3] == [dimension, "enterprises", "prospects"]
        # Listed customers count as customers, not prospects (as on the console).
        listed_prospects = prospects.filter(~pl.col("is_customer"))
        assert table["prospects"].sum() == listed_prospects.height
        assert table["need_amount_fen"].sum() == listed_prospects["need_amount_fen"].sum()
        assert table["enterprises"].sum() == 2_000
        for row in table.iter_rows(named=True):
            held = row["customers"] + row["prospects"]
            expected = (
                None
                if held == 0
                else float(
                    (Decimal(row["customers"]) / held).quantize(Decimal("0.0001"), ROUND_HALF_UP)
                )
            )
            assert row["penetration"] == expected, row
        picture = out / f"prospects_by_{dimension}.png"
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    customers = pl.read_csv(out / "prospects_by_park.csv")["customers"].sum()
    exposure = current_exposure(MarketTables.from_dir(score_market), date(2024, 10, 1))
    assert customers == exposure.collect().height > 0


def test_the_marketing_map_refuses_a_file_that_is_not_a_prospect_list(
    score_market: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "list.csv"
    wrong.write_text("uscc,amount\n911101051221752550,1\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "prospect",
            "report",
            "--prospects",
            str(wrong),
            "--market",
            str(score_market),
            "--out",
            str(tmp_path / "map"),
            "--as-of",
            "2024-10",
        ],
    )
    assert result.exit_code == 2
    assert "is not a prospect file" in result.output
