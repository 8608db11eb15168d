"""The demo's printed portfolio: line utilisation and prospects, from hand-made figures."""

from __future__ import annotations

from collections import Counter
from datetime import date

from puhui.cli.demo_report import (
    plain_lines,
    portfolio_lines,
    prospect_lines,
    prospects_section,
    utilisation_section,
)
from puhui.pipelines.borrowing import MonthUtilisation
from puhui.pipelines.portfolio_summary import PortfolioSummary
from puhui.pipelines.prospect_channel import MonthConversion

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def _summary(
    prospects: list[MonthConversion], utilisation: list[MonthUtilisation] | None = None
) -> PortfolioSummary:
    return PortfolioSummary(
        first_day=JAN,
        last_day=date(2025, 2, 28),
        applications=0,
        outcomes=Counter(),
        refused_at_entry=Counter(),
        repeat_customers=0,
        lines_opened=0,
        limits_fen=0,
        drawn_fen=0,
        repaid_fen=0,
        outstanding_principal_fen=0,
        receipts=0,
        dpd_buckets={},
        categories={},
        predicted_bad_rate=None,
        realised_90dpd_rate=None,
        realised_truth_default_rate=None,
        fraud={},
        packaged={},
        trial_balance_fen=0,
        eod_days=0,
        prospects=prospects,
        utilisation=utilisation or [],
        draw_outcomes={"in_full": 7, "capped": 2, "frozen": 1},
        payment_outcomes={"in_full": 20, "partial": 3},
    )


def test_the_summary_shows_conversion_by_month_only_when_there_were_prospects() -> None:
    assert prospect_lines(_summary([])) == []
    summary = _summary([MonthConversion(JAN, 1_200, 30, 21)])
    lines = prospect_lines(summary)
    assert lines[1].split() == [
        "2025-01",
        "1,200",
        "pre-approved",
        "30",
        "applied",
        "(2.50%)",
        "21",
        "lines",
        "opened",
    ]
    table = plain_lines(prospects_section(summary))
    assert table[-1].split() == ["2025-01", "1,200", "30", "2.50%", "21"]


def test_the_summary_prints_utilisation_by_month_overall_and_how_draws_went() -> None:
    summary = _summary(
        [],
        [
            MonthUtilisation(JAN, 2, 100_000_00, 80_000_00, 3, 90_000_00),
            MonthUtilisation(FEB, 4, 300_000_00, 60_000_00, 1, 10_000_00),
        ],
    )
    lines = portfolio_lines(summary)
    first = next(i for i, line in enumerate(lines) if line.startswith("line utilisation"))
    assert lines[first].endswith("overall 35.00%")  # (80k + 60k) / (100k + 300k)
    assert lines[first + 1].split() == [
        "2025-01",
        "2",
        "lines",
        "limit",
        "100000.00",
        "drawn",
        "80000.00",
        "80.00%",
        "draws",
        "in",
        "the",
        "month",
        "3",
        "(90000.00",
        "yuan)",
    ]
    assert lines[first + 2].split()[7] == "20.00%"
    assert lines[first + 3] == (
        "draws as needs called for: 7 in full, 2 capped by the available limit; not drawn: frozen 1"
    )
    assert lines[first + 4].endswith("20 in full, 3 partly, 0 not at all")
    table = plain_lines(utilisation_section(summary))
    assert table[-3].split()[-1] == "35.00%"
    assert table[-3].split()[0] == "overall"
