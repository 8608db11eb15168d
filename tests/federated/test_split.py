"""A market splits into a bank folder (with labels) and an owner folder (without)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams


def test_split_writes_two_parties_and_only_the_bank_holds_labels(tmp_path: Path) -> None:
    market = tmp_path / "market"
    generate_market(MarketParams(200, 10, date(2023, 1, 1), 4), market)
    result = CliRunner().invoke(
        app,
        [
            "federated",
            "split",
            "--market",
            str(market),
            "--bank",
            str(tmp_path / "bank"),
            "--owner",
            str(tmp_path / "owner"),
            "--as-of",
            "2023-08",
        ],
    )
    assert result.exit_code == 0, result.output
    bank = pl.read_parquet(tmp_path / "bank" / "features.parquet")
    owner = pl.read_parquet(tmp_path / "owner" / "features.parquet")
    assert "defaulted" in bank.columns
    assert "defaulted" not in owner.columns
    assert not {"log_sales", "sales_trend"} & set(bank.columns)
    assert not {"log_inflow", "max_days_past_due"} & set(owner.columns)
    shared = set(bank["uscc"]) & set(owner["uscc"])
    assert 0 < len(shared) < min(bank.height, owner.height)
