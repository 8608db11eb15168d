"""Calibration of a small baseline market, and behaviour the calibration relies on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.market import store
from puhui.market.calibration import auc, default_rates, measure
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.report import write_report


def test_auc_matches_hand_computed_values_with_ties() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc([1, 1, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.5)
    assert auc([0.9, 0.8, 0.1], [1, 1, 0]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    score = rng.normal(size=500)
    label = rng.random(500) < 0.3
    pairs = (score[label][:, None] > score[~label][None, :]).mean()
    assert auc(score, label) == pytest.approx(pairs)


# A 2,000-firm market holds only a handful of fraud rings and few defaulters with 15 months
# of history: those measures get a tolerance (a fraction of the range width) on each side.
TOLERANCE = {
    "fraud_share_applications": 0.5,
    "fraud_share_intermediary": 0.5,
    "signal_lead_months": 0.2,
    "annual_default_rate": 0.2,
}


def test_every_checked_target_is_within_tolerance_on_a_small_baseline(small_market: Path) -> None:
    targets, _ = measure(small_market)
    outside = []
    for t in targets:
        if not t.checked:
            continue
        slack = TOLERANCE.get(t.key, 0.0) * (t.high - t.low)
        if t.value is None or not t.low - slack <= t.value <= t.high + slack:
            outside.append((t.key, t.value))
    assert outside == []


def test_report_writes_markdown_and_charts(small_market: Path, tmp_path: Path) -> None:
    report = write_report(small_market, tmp_path / "report")
    text = report.markdown_path.read_text()
    assert "Oracle AUC" in text
    assert "Annual default rate" in text
    assert len(report.charts) == 5
    assert all(p.stat().st_size > 1_000 for p in report.charts)


def test_downturn_defaults_more_than_baseline(small_market: Path, tmp_path: Path) -> None:
    base = store.read_manifest(small_market)["parameters"]
    params = MarketParams(
        base["enterprises"], base["months"], date(2023, 1, 1), base["seed"], "downturn"
    )
    generate_market(params, tmp_path / "downturn")
    calm = default_rates(small_market, MarketParams.from_json(base))
    storm = default_rates(tmp_path / "downturn", params)
    assert storm["defaults"].sum() > 1.3 * calm["defaults"].sum()


def test_small_scale_vat_follows_the_exemption_and_one_percent_rule(small_market: Path) -> None:
    tax = store.read(small_market, "tax_monthly").join(
        store.read(small_market, "enterprises").select("uscc", "taxpayer_type"), on="uscc"
    )
    small = tax.filter(pl.col("taxpayer_type") == "small_scale")
    exempt = small.filter(pl.col("declared_sales_fen") <= 10_000_000)
    assert (exempt["vat_payable_fen"] == 0).all()
    assert exempt["vat_exempt"].all()
    taxed = small.filter(pl.col("declared_sales_fen") > 10_000_000)
    assert taxed.height > 0
    expected = (taxed["declared_sales_fen"] / 100).round(0).cast(pl.Int64)
    assert ((taxed["vat_payable_fen"] - expected).abs() <= 1).all()


def test_signals_weaken_in_the_months_before_default(small_market: Path) -> None:
    truth = store.read(small_market, "enterprises_truth").filter(
        pl.col("default_month").is_not_null() & ~pl.col("is_shell")
    )
    kwh = store.read(small_market, "utilities_monthly").join(
        truth.select("uscc", "default_month", "distress_onset_month"), on="uscc"
    )
    before = kwh.filter(pl.col("month") < pl.col("distress_onset_month"))
    during = kwh.filter(
        (pl.col("month") >= pl.col("distress_onset_month"))
        & (pl.col("month") < pl.col("default_month"))
    )
    ratio = (
        during.group_by("uscc")
        .agg(pl.col("electricity_kwh").mean().alias("d"))
        .join(before.group_by("uscc").agg(pl.col("electricity_kwh").mean().alias("b")), on="uscc")
        .filter(pl.col("b") > 0)
        .select((pl.col("d") / pl.col("b")).median())
        .item()
    )
    assert ratio < 0.85
    bureau = store.read(small_market, "bureau").join(
        truth.select("uscc", "default_month"), on="uscc"
    )
    last_months = bureau.filter(
        (pl.col("month") < pl.col("default_month"))
        & (pl.col("month") >= pl.col("default_month").dt.offset_by("-2mo"))
    )
    everyone = store.read(small_market, "bureau")
    assert (last_months["overdue_loans"] > 0).mean() > 5 * (everyone["overdue_loans"] > 0).mean()
