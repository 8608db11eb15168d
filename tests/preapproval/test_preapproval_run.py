"""The pre-approval run on a small market: who is listed, in what order, in what file."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from puhui.domain.errors import InvalidInput
from puhui.domain.prospects import PROSPECT_FILE_COLUMNS
from puhui.pipelines.preapproval import prospect_rows, write_prospects
from puhui.pipelines.preapproval_inputs import (
    check_sources,
    current_exposure,
    preapproval_inputs,
    restricted_tables,
)
from puhui.pipelines.preapproval_models import ProspectModels
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables
from puhui.risk.need import need_features

AS_OF = date(2024, 10, 1)


def test_the_run_lists_pre_approved_enterprises_with_limits_within_the_need_floor(
    prospects: pl.DataFrame,
) -> None:
    assert 50 <= prospects.height < 2_000
    assert prospects.get_column("uscc").is_unique().all()
    assert (prospects["limit_fen"] <= prospects["need_floor_fen"]).all()
    assert (prospects["limit_fen"] <= prospects["need_amount_fen"]).all()
    assert (prospects["limit_fen"] % 100_000 == 0).all()  # the 1,000-yuan step
    assert (prospects["limit_fen"] >= 1_000_000).all()  # the 10,000-yuan minimum
    assert (prospects["need_probability"] >= 0.08).all()  # the tests' strategy's floor
    assert set(prospects["grade"].unique()) == {"A", "B"}  # the grades it invites
    months = set(prospects["need_month"].unique())
    assert months <= {date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1)}


def test_the_list_is_in_expected_value_order_ties_by_uscc(prospects: pl.DataFrame) -> None:
    assert prospects["priority"].to_list() == list(range(1, prospects.height + 1))
    value = prospects["need_probability"] * prospects["limit_fen"] * (1.0 - prospects["pd"])
    assert value.to_list() == prospects["expected_value"].to_list()
    pairs = list(zip(value.to_list(), prospects["uscc"].to_list(), strict=True))
    assert pairs == sorted(pairs, key=lambda p: (-p[0], p[1]))


def test_customers_are_listed_only_for_need_beyond_their_exposure(
    prospects: pl.DataFrame, score_market: Path, models: ProspectModels
) -> None:
    tables = MarketTables.from_dir(score_market)
    exposure = current_exposure(tables, AS_OF).collect()
    assert exposure.height > 0
    need = models.need.score(need_features(tables, AS_OF, sources=models.need.sources), AS_OF)
    covered = exposure.join(need, on="uscc").filter(
        pl.col("need_amount_fen") <= pl.col("exposure_fen")
    )
    assert covered.height > 0
    assert covered.join(prospects, on="uscc").height == 0
    listed = prospects.filter(pl.col("is_customer"))
    assert (listed["need_amount_fen"] > listed["exposure_fen"]).all()
    assert set(listed["uscc"]) <= set(exposure["uscc"])
    # A customer's limit is within the part of the need its loans do not already cover.
    assert (listed["limit_fen"] <= listed["need_amount_fen"] - listed["exposure_fen"]).all()


def test_data_needing_consent_does_not_change_the_list(
    prospects: pl.DataFrame,
    score_market: Path,
    run_on: Callable[[Path], pl.DataFrame],
    tmp_path: Path,
) -> None:
    # Tax and bureau records that would decline everyone online (tax grade D, no sales,
    # overdue everywhere): the run may not read them, so nothing changes.
    market = tmp_path / "market"
    shutil.copytree(score_market, market)
    for name, changes in (
        ("tax_monthly", {"tax_credit_grade": "D", "declared_sales_fen": 0}),
        ("bureau", {"overdue_loans": 9, "max_days_past_due": 180}),
    ):
        for part in (market / "tables" / name).glob("*.parquet"):
            frame = pl.read_parquet(part)
            frame.with_columns(
                pl.lit(value, dtype=frame.schema[column]).alias(column)
                for column, value in changes.items()
            ).write_parquet(part)
    assert run_on(market).equals(prospects)


def test_the_file_has_exactly_the_contract_columns_and_formats(
    prospects: pl.DataFrame, tmp_path: Path
) -> None:
    csv = write_prospects(prospects, tmp_path / "list.csv")
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(PROSPECT_FILE_COLUMNS)
    assert len(lines) == prospects.height + 1
    first = dict(zip(PROSPECT_FILE_COLUMNS, lines[1].split(","), strict=True))
    assert first["uscc"] == prospects["uscc"][0]
    assert re.fullmatch(r"\d{4}-\d{2}", first["need_month"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first["valid_until"])
    assert first["valid_until"] == "2024-11-30"
    assert re.fullmatch(r"0\.\d+", first["annual_rate"])
    assert Decimal(first["annual_rate"]) == Decimal(prospects["annual_rate"][0])
    parquet = pl.read_parquet(write_prospects(prospects, tmp_path / "list.parquet"))
    assert tuple(parquet.columns) == PROSPECT_FILE_COLUMNS
    assert parquet.schema["need_month"] == pl.String
    assert parquet.schema["annual_rate"] == pl.String
    assert parquet["uscc"].to_list() == prospects["uscc"].to_list()
    assert not list(tmp_path.glob(".*partial"))


def test_an_unknown_file_extension_is_refused_before_writing(
    prospects: pl.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"\.csv or \.parquet"):
        write_prospects(prospects, tmp_path / "list.xlsx")
    assert not list(tmp_path.iterdir())


def test_rows_become_the_platforms_prospect_values(prospects: pl.DataFrame) -> None:
    rows = prospect_rows(prospects)
    assert len(rows) == prospects.height
    first = rows[0]
    assert first.priority == 1
    assert first.month == AS_OF
    assert first.valid_until == date(2024, 11, 30)
    assert first.limit_fen <= first.need_amount_fen
    assert first.annual_rate == Decimal(prospects["annual_rate"][0])
    assert all(len(r.region_code) == 6 for r in rows)
    cautioned = [r for r in rows if r.reasons]
    assert all(code.isupper() for r in cautioned for code in r.reasons)


def test_inputs_from_tables_outside_the_sources_are_missing_not_zero(score_market: Path) -> None:
    sources = frozenset({"enterprises", "owners", "settlement_monthly", "loan_history"})
    visible = restricted_tables(MarketTables.from_dir(score_market), sources)
    assert visible["tax_monthly"].collect().height == 0
    _, inputs = preapproval_inputs(visible, AS_OF, sources)
    # An empty tax table would read as a year without filings (a knock-out): it is unknown.
    assert inputs["tax_filing_gap_months"].null_count() == inputs.height
    assert inputs["court_cases_open"].null_count() == inputs.height  # courts not allowed here
    assert inputs["current_overdue_count"].null_count() == inputs.height
    assert inputs["settlement_monthly_inflow_fen"].null_count() < inputs.height // 10
    assert inputs["owner_age_years"].null_count() < inputs.height // 10
    with pytest.raises(InvalidTrainingData, match="tax_records"):
        check_sources(["enterprises", "tax_records"])
