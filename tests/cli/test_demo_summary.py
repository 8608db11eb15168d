"""The demo's monthly series and its charts, from hand-made month ends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from PIL import Image

from puhui.cli.demo_charts import write_demo_charts
from puhui.cli.demo_report import Section, plain_lines
from puhui.pipelines.portfolio_history import (
    MonthEnd,
    PortfolioHistory,
    balance_by_bucket,
    monthly_originations,
    predicted_vs_realised,
    vintage_curves,
)


def _history() -> PortfolioHistory:
    return PortfolioHistory(
        [
            MonthEnd(date(2025, 1, 31), {"r1": (0, 100_00), "r2": (5, 200_00)}),
            MonthEnd(date(2025, 2, 28), {"r1": (35, 90_00), "r3": (0, 300_00)}),
            # r1 was repaid after being 35 days past due: it stays bad in its vintage.
            MonthEnd(date(2025, 3, 31), {"r3": (95, 300_00)}),
        ]
    )


def test_monthly_originations_count_lines_opened_against_applications() -> None:
    rows = monthly_originations(
        {"a1": date(2025, 1, 3), "a2": date(2025, 1, 9), "a3": date(2025, 2, 1)},
        {"a1": "line", "a2": "declined", "a3": "line"},
    )
    assert [(r.month, r.applications, r.lines_opened) for r in rows] == [
        (date(2025, 1, 1), 2, 1),
        (date(2025, 2, 1), 1, 1),
    ]
    assert rows[0].approval_rate == 0.5


def test_balance_by_bucket_sums_principal_per_days_past_due_bucket() -> None:
    series = balance_by_bucket(_history())
    assert series[0][1] == {"current": 100_00, "1-30": 200_00, "31-60": 0, "61-90": 0, "90+": 0}
    assert series[1][1]["31-60"] == 90_00
    assert series[2][1] == {"current": 0, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 300_00}


def test_vintage_curves_keep_a_receipt_bad_once_30_days_past_due() -> None:
    curves = vintage_curves(
        _history(),
        {"r1": date(2025, 1, 5), "r2": date(2025, 1, 20), "r3": date(2025, 2, 10)},
    )
    # January's vintage: r1 bad from February on (also after it left the book), r2 never.
    assert curves[date(2025, 1, 1)] == [(1, 0.5), (2, 0.5)]
    # February's vintage is measured from its first full month end: March, r3 at 95 DPD.
    assert curves[date(2025, 2, 1)] == [(1, 1.0)]


def test_predicted_vs_realised_bands_customers_by_predicted_pd() -> None:
    predicted = {f"u{i}": Decimal(i) / 100 for i in range(1, 11)}
    bands = predicted_vs_realised(predicted, defaulted={"u9", "u10"}, bands=2)
    assert [b.n for b in bands] == [5, 5]
    assert bands[0].realised == 0.0
    assert bands[1].realised == 0.4
    assert bands[0].mean_predicted < bands[1].mean_predicted


def test_the_demo_charts_are_valid_png_images(tmp_path: Path) -> None:
    history = _history()
    paths = write_demo_charts(
        tmp_path / "charts",
        originations=monthly_originations({"a1": date(2025, 1, 3)}, {"a1": "line"}),
        balances=balance_by_bucket(history),
        vintages=vintage_curves(history, {"r1": date(2025, 1, 5)}),
        calibration=predicted_vs_realised({"u1": Decimal("0.02")}, set()),
    )
    assert [p.name for p in paths] == [
        "originations.png",
        "balance-by-dpd.png",
        "vintages.png",
        "predicted-vs-realised.png",
    ]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.width > 300
            assert image.height > 300
            image.verify()


def test_plain_sections_align_their_columns() -> None:
    section = Section(
        "Origination by month",
        ("month", "applications", "approval rate"),
        rows=[("2025-01", "36", "63.89%"), ("2025-02", "1,054", "5.70%")],
        numeric=frozenset({1, 2}),
    )
    assert plain_lines(section) == [
        "",
        "== Origination by month ==",
        "month    applications  approval rate",
        "2025-01            36         63.89%",
        "2025-02         1,054          5.70%",
    ]
