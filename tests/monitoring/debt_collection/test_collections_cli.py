"""``puhui collections`` and ``puhui concentration`` on a database servicing made delinquent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl
import pytest
from collection_book import Book
from typer.testing import CliRunner

from puhui.bootstrap.concentration import DataSourceClusters
from puhui.cli.main import app
from puhui.domain.errors import NotFound
from puhui.domain.origination.consent import DataScope
from puhui.risk.features import CORE_ENTERPRISES
from puhui.services.origination.assessment import TABLES_KEY

runner = CliRunner()


def test_refresh_then_queue_on_the_cli(
    book: Book, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    receipt = book.draw("91350100M000100Y43", 100_000_00)
    book.close_through(date(2026, 2, 25))
    refreshed = runner.invoke(app, ["collections", "refresh", "--json"])
    assert refreshed.exit_code == 0, refreshed.output
    report = json.loads(refreshed.output.strip().splitlines()[-1])
    assert report["as_of"] == "2026-02-25"  # the last completed end of day
    assert report["opened"] == 1
    queued = runner.invoke(app, ["collections", "queue", "--bucket", "collection", "--json"])
    assert queued.exit_code == 0, queued.output
    page = json.loads(queued.output.strip().splitlines()[-1])
    assert [c["receipt_id"] for c in page["cases"]] == [receipt]
    assert page["cases"][0]["days_past_due"] == 35
    wrong = runner.invoke(app, ["collections", "queue", "--bucket", "overdue"])
    assert wrong.exit_code == 2
    evaluated = runner.invoke(app, ["concentration", "evaluate", "--as-of", "2026-02-25", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.output.strip().splitlines()[-1])
    assert result["book_fen"] == 100_000_00
    assert result["document"] == "mse-concentration@1"


class RegistrySource:
    def __init__(
        self, rows: Mapping[str, dict[str, Any]], invoices: pl.DataFrame | None = None
    ) -> None:
        self.rows = rows
        self.invoices = invoices

    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        if uscc not in self.rows:
            raise NotFound(f"no enterprise {uscc}")
        if scope is DataScope.INVOICE:
            if self.invoices is None:
                return {TABLES_KEY: {}}
            mine = self.invoices.filter(pl.col("seller_uscc") == uscc)
            core = pl.DataFrame({"uscc": ["K1", "K2"]})
            return {TABLES_KEY: {"invoices": mine, CORE_ENTERPRISES: core}}
        assert scope is DataScope.REGISTRATION
        return {TABLES_KEY: {"enterprises": pl.DataFrame([self.rows[uscc]])}}


def test_clusters_come_from_the_registration_invoices_and_guarantees() -> None:
    invoices = pl.DataFrame(
        {
            "seller_uscc": ["B", "B", "B", "B"],
            "buyer_uscc": ["K1", "K2", "K3", "K1"],
            "month": [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1), date(2024, 6, 1)],
            "amount_fen": [1_000, 5_000, 9_000, 100_000],
        }
    )
    source = RegistrySource(
        {
            "A": {"uscc": "A", "industry_code": "C13", "region_code": "330100", "park": None},
            "B": {"uscc": "B", "industry_code": "F51", "region_code": "440300", "park": "P1"},
        },
        invoices,
    )
    found = DataSourceClusters(source, lambda as_of: {"A": "A"}).clusters(
        ["A", "B", "C"], as_of=date(2026, 3, 1)
    )
    assert set(found) == {"A", "B"}
    assert (found["A"].industry, found["A"].region, found["A"].park) == ("C13", "330100", None)
    assert found["B"].park == "P1"
    # The core buyer B sold most to in the last 12 months (K3 is not a core enterprise; the
    # large 2024 sale to K1 is too old).
    assert found["B"].core_enterprise == "K2"
    assert found["A"].core_enterprise is None
    assert found["A"].guarantee_circle == "A"
    assert found["B"].guarantee_circle is None
