"""Enterprise-level strategy inputs read as the strategy means them, from months before as-of."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    enterprise_inputs,
    one_enterprise_inputs,
)
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables, month_start_plus

AS_OF = date(2025, 5, 1)
FIRM = "91110100000000000X"


def tax(
    months: int, *, sales: int = 1_200, vat: int = 12, skip: tuple[int, ...] = ()
) -> pl.DataFrame:
    """``months`` monthly filings up to April 2025 (lag 1 .. months), minus ``skip`` lags."""
    lags = [lag for lag in range(months, 0, -1) if lag not in skip]
    return pl.DataFrame(
        {
            "uscc": [FIRM] * len(lags),
            "month": [month_start_plus(AS_OF, -lag) for lag in lags],
            # Sales grow by one fen a month, the latest month is the largest.
            "declared_sales_fen": [sales + (months - lag) for lag in lags],
            "vat_payable_fen": [vat] * len(lags),
        },
        schema={"uscc": pl.String, "month": pl.Date, "declared_sales_fen": pl.Int64,
                "vat_payable_fen": pl.Int64},
    )  # fmt: skip


def bureau(overdue_by_lag: dict[int, int]) -> pl.DataFrame:
    lags = sorted(overdue_by_lag, reverse=True)
    return pl.DataFrame(
        {
            "uscc": [FIRM] * len(lags),
            "month": [month_start_plus(AS_OF, -lag) for lag in lags],
            "overdue_loans": [overdue_by_lag[lag] for lag in lags],
        },
        schema={"uscc": pl.String, "month": pl.Date, "overdue_loans": pl.Int32},
    )


def court(events: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    """(case_id, event, role, lag) rows."""
    return pl.DataFrame(
        {
            "case_id": [e[0] for e in events],
            "uscc": [FIRM] * len(events),
            "month": [month_start_plus(AS_OF, -e[3]) for e in events],
            "event": [e[1] for e in events],
            "role": [e[2] for e in events],
        },
        schema={"case_id": pl.String, "uscc": pl.String, "month": pl.Date,
                "event": pl.String, "role": pl.String},
    )  # fmt: skip


FEATURES = {"enterprise_age_months": 40.0, "owner_age_years": 51.0, "tax_grade": "A"}


def inputs(
    tax_rows: pl.DataFrame,
    bureau_rows: pl.DataFrame | None = None,
    court_rows: pl.DataFrame | None = None,
    features: dict[str, object] | None = None,
) -> dict[str, object]:
    frames = {
        "tax_monthly": tax_rows,
        "bureau": bureau({}) if bureau_rows is None else bureau_rows,
        "court_cases": court([]) if court_rows is None else court_rows,
    }
    return one_enterprise_inputs(frames, FEATURES if features is None else features, FIRM, AS_OF)


def test_verified_sales_and_tax_average_the_twelve_latest_filings_in_whole_fen() -> None:
    got = inputs(tax(30, sales=1_000, vat=7))
    # The twelve latest filings are 1_018 .. 1_029 fen: 12_282 fen over 12 months.
    assert got["verified_monthly_sales_fen"] == 12_282 // 12 == 1_023
    assert got["verified_monthly_tax_fen"] == 7
    assert list(got) == list(STRATEGY_INPUT_NAMES)


def test_a_short_history_still_divides_by_twelve_and_has_no_growth() -> None:
    got = inputs(tax(6, sales=1_200))
    assert got["verified_monthly_sales_fen"] == sum(1_200 + k for k in range(6)) // 12
    assert got["sales_growth_12m"] is None


def test_growth_compares_the_latest_twelve_filings_with_the_twelve_before() -> None:
    got = inputs(tax(24, sales=1_000))
    latest, before = sum(1_000 + k for k in range(12, 24)), sum(1_000 + k for k in range(12))
    assert got["sales_growth_12m"] == latest / before - 1.0


def test_missed_filings_of_the_last_year_are_a_gap_bounded_by_the_firms_age() -> None:
    assert inputs(tax(30, skip=(2, 5, 13)))["tax_filing_gap_months"] == 2  # lag 13 is older
    young = {**FEATURES, "enterprise_age_months": 4.0}
    assert inputs(tax(3), features=young)["tax_filing_gap_months"] == 1
    unknown_age = {**FEATURES, "enterprise_age_months": None}
    assert inputs(tax(0), features=unknown_age)["tax_filing_gap_months"] == 12


def test_no_filing_at_all_is_no_evidence_of_sales() -> None:
    got = inputs(tax(0))
    assert got["verified_monthly_sales_fen"] is None
    assert got["verified_monthly_tax_fen"] is None
    assert got["tax_filing_gap_months"] == 12


def test_overdues_count_months_of_the_last_two_years_and_the_latest_month() -> None:
    got = inputs(tax(12), bureau({30: 1, 24: 2, 10: 1, 3: 0, 1: 3}))
    assert got["overdue_count_24m"] == 3  # lags 24, 10 and 1; lag 30 is older
    assert got["current_overdue_count"] == 3
    nothing = inputs(tax(12), bureau({}))
    assert nothing["overdue_count_24m"] is None
    assert nothing["current_overdue_count"] is None
    old_only = inputs(tax(12), bureau({30: 1}))
    assert old_only["overdue_count_24m"] is None
    assert old_only["current_overdue_count"] == 1


def test_open_cases_are_filings_against_the_firm_not_yet_closed() -> None:
    events = [
        ("K1", "filed", "defendant", 10),
        ("K1", "closed", "defendant", 4),
        ("K2", "filed", "defendant", 3),
        ("K3", "filed", "plaintiff", 2),  # the firm sued: not a case against it
        ("K4", "filed", "defendant", 0),  # this month: not known yet
        ("K5", "executed_listed", "defendant", 1),
    ]
    assert inputs(tax(12), court_rows=court(events))["court_cases_open"] == 1


def test_ages_and_grade_are_the_features_values_as_integers() -> None:
    got = inputs(tax(12))
    assert (got["enterprise_age_months"], got["owner_age_years"], got["tax_grade"]) == (40, 51, "A")
    assert isinstance(got["enterprise_age_months"], int)


def test_rows_of_the_as_of_month_or_later_are_not_read() -> None:
    known = tax(30)
    future = known.tail(2).with_columns(
        pl.Series("month", [AS_OF, month_start_plus(AS_OF, 1)]),
        pl.lit(10**9, dtype=pl.Int64).alias("declared_sales_fen"),
    )
    overdue = bureau({2: 1, 0: 5})
    filed_now = court([("K9", "filed", "defendant", 0)])
    assert inputs(pl.concat([known, future]), overdue, filed_now) == inputs(
        known, bureau({2: 1}), court([])
    )


def test_batch_needs_the_first_day_of_a_month_and_online_needs_the_tables() -> None:
    tables = MarketTables({"tax_monthly": tax(3).lazy(), "bureau": bureau({}).lazy(),
                           "court_cases": court([]).lazy()})  # fmt: skip
    profile = pl.DataFrame({"uscc": [FIRM], **{k: [v] for k, v in FEATURES.items()}})
    with pytest.raises(InvalidTrainingData):
        enterprise_inputs(tables, profile, date(2025, 5, 2))
    with pytest.raises(InvalidTrainingData, match="bureau"):
        one_enterprise_inputs(
            {"tax_monthly": tax(3), "court_cases": court([])}, FEATURES, FIRM, AS_OF
        )
