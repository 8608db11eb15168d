"""Validation report: stability against development, out-of-time periods, characteristic PSI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.domain.errors import InvalidInput
from puhui.risk.report import (
    feature_psi,
    origination_quarters,
    period_results,
    psi_verdict,
    write_market_validation_report,
    write_validation_report,
)


def _sample(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pd = rng.beta(1.0, 30.0, n)
    y = (rng.random(n) < pd).astype(np.float64)
    y[:2] = [0.0, 1.0]  # both classes for certain
    return y, pd


def test_period_results_give_auc_only_where_both_classes_occur() -> None:
    y = np.array([0, 1, 0, 1, 0, 0], dtype=np.float64)
    pd = np.array([0.1, 0.9, 0.2, 0.3, 0.4, 0.5])
    periods = ["2024-Q1", "2024-Q1", "2024-Q2", "2024-Q2", "2024-Q3", "2024-Q3"]
    results = period_results(y, pd, periods)
    assert [r.period for r in results] == ["2024-Q1", "2024-Q2", "2024-Q3"]
    assert results[0].auc == 1.0
    assert results[1].auc == 1.0
    assert results[2].auc is None
    assert results[2].observed_bad_rate == 0.0
    assert results[0].psi is None


def test_period_psi_against_development_is_small_for_the_same_distribution() -> None:
    _, development = _sample(1)
    y, pd = _sample(2)
    periods = ["A"] * 1000 + ["B"] * 1000
    results = period_results(y, pd, periods, reference_pd=development)
    assert all(r.psi is not None and r.psi < 0.1 for r in results)
    shifted = period_results(y, pd * 3.0, periods, reference_pd=development)
    assert all(r.psi is not None and r.psi > 0.25 for r in shifted)


def test_feature_psi_covers_shared_numeric_columns_and_flags_a_shift() -> None:
    rng = np.random.default_rng(3)
    development = pl.DataFrame(
        {"steady": rng.normal(size=3000), "moved": rng.normal(size=3000), "text": ["a"] * 3000}
    )
    validation = pl.DataFrame(
        {"steady": rng.normal(size=3000), "moved": rng.normal(1.0, 1.0, 3000), "text": ["a"] * 3000}
    )
    values = feature_psi(development, validation)
    assert set(values) == {"steady", "moved"}
    assert psi_verdict(values["steady"]) == "stable"
    assert psi_verdict(values["moved"]) == "shifted"


def test_report_has_stability_out_of_time_and_oracle_sections(tmp_path: Path) -> None:
    _, development = _sample(1)
    y, pd = _sample(2)
    path = write_validation_report(
        tmp_path,
        y,
        pd,
        title="gbm on a held-out market",
        development_pd=development,
        periods=["2024-01"] * 1000 + ["2024-02"] * 1000,
        features_psi={"sales_growth_3m": 0.02},
        oracle_auc=0.95,
    )
    text = path.read_text(encoding="utf-8")
    assert "## Stability against the development window" in text
    assert "## Out-of-time results by origination period" in text
    assert "| 2024-02 | 1,000 |" in text
    assert "| sales_growth_3m | 0.0200 | stable |" in text
    assert "Oracle AUC (true PD on the same population): **0.9500**" in text
    assert (tmp_path / "roc.png").is_file()


def test_period_labels_must_match_the_rows() -> None:
    with pytest.raises(InvalidInput, match="one label per row"):
        period_results([0.0, 1.0], [0.1, 0.2], ["A"])


def test_market_report_names_both_windows_and_splits_validation_by_quarter(
    tmp_path: Path,
) -> None:
    from datetime import date

    y, pd = _sample(4, n=600)
    months = [date(2024, 1 + k % 6, 1) for k in range(600)]
    validation = pl.DataFrame({"origination_month": months, "bad": y, "x": pd})
    development = validation.with_columns(pl.col("origination_month").dt.offset_by("-1y"))
    assert origination_quarters(validation)[:4] == ["2024-Q1", "2024-Q1", "2024-Q1", "2024-Q2"]
    path = write_market_validation_report(
        tmp_path,
        title="market",
        development=development,
        development_pd=pd,
        validation=validation,
        validation_pd=pd,
        features=["x"],
    )
    text = path.read_text(encoding="utf-8")
    assert "Development window: 2023-01..2023-06 (600 loans)" in text
    assert "validation window: 2024-01..2024-06 (600 loans)" in text
    assert "| 2024-Q2 | 300 |" in text
    assert "| x | 0.0000 | stable |" in text
