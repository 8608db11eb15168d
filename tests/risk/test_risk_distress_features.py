"""Distress and long-run health features read as defined on a hand-built firm."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from puhui.risk.features import (
    MarketTables,
    compute_features,
    enterprise_features,
    month_start_plus,
)

AS_OF = date(2024, 7, 1)
N_MONTHS = 30  # January 2022 .. June 2024
FIRM = "D1"


def _months() -> list[date]:
    return [month_start_plus(AS_OF, -lag) for lag in range(N_MONTHS, 0, -1)]


def _lag(month: date) -> int:
    return (AS_OF.year - month.year) * 12 + AS_OF.month - month.month


def _tables() -> MarketTables:
    months = _months()
    lags = [_lag(m) for m in months]
    n = len(months)
    firm = [FIRM] * n
    frames = {
        "enterprises": pl.DataFrame(
            {
                "uscc": [FIRM], "legal_form": ["company"], "industry_group": ["retail"],
                "region_code": ["110101"], "registration_date": [date(2018, 1, 1)],
                "registered_capital_fen": [10**8], "taxpayer_type": ["general"],
                "employees": [10], "legal_rep_id_number": ["P1"],
            }
        ),
        "owners": pl.DataFrame(
            {
                "id_number": ["P1"], "birth_date": [date(1980, 1, 1)], "education": ["college"],
                "years_in_trade": [10], "enterprises_represented": [1],
            }
        ),
        "tax_monthly": pl.DataFrame(
            {
                "uscc": firm, "month": months,
                # Sales halve in the latest month; late returns in months 1 and 10 back.
                "declared_sales_fen": [500_000 if k == 1 else 1_000_000 for k in lags],
                "late_filing": [k in (1, 10) for k in lags],
                "arrears_fen": [0] * n, "tax_credit_grade": ["B"] * n,
            }
        ),
        "utilities_monthly": pl.DataFrame(
            {"uscc": firm, "month": months, "electricity_kwh": [1_000] * n,
             "late_payment": [k == 2 for k in lags]}
        ),
        "settlement_monthly": pl.DataFrame(
            {
                "uscc": firm, "month": months, "inflow_fen": [100_000] * n,
                # Paying out more than comes in over the last two months.
                "outflow_fen": [110_000 if k <= 2 else 95_000 for k in lags],
                "balance_fen": [50_000] * n, "counterparties": [5] * n,
                "related_party_transfer_fen": [30_000 if k == 1 else 0 for k in lags],
            }
        ),
        "bureau": pl.DataFrame(
            {
                "uscc": firm, "month": months,
                "other_lender_loans": [3 if k <= 3 else 1 for k in lags],
                "other_lender_balance_fen": [1_000_000] * n,
                "overdue_loans": [1 if k == 2 else 0 for k in lags],
                "max_days_past_due": [15 if k == 2 else 0 for k in lags],
                "hard_enquiries": [2 if k == 1 else 0 for k in lags],
            }
        ),
        "invoices": pl.DataFrame(
            {
                "seller_uscc": firm, "buyer_uscc": ["X9"] * n, "month": months,
                "amount_fen": [1_000_000] * n, "invoice_count": [3] * n,
                "voided_count": [0] * n, "red_letter_count": [0] * n,
            }
        ),
        "court_cases": pl.DataFrame(
            {
                "case_id": ["K1"], "uscc": [FIRM], "event_date": [date(2024, 5, 3)],
                "month": [date(2024, 5, 1)], "event": ["filed"], "role": ["defendant"],
            }
        ),
    }  # fmt: skip
    return MarketTables({name: frame.lazy() for name, frame in frames.items()})


@pytest.fixture(scope="module")
def row() -> dict[str, object]:
    return compute_features(_tables(), AS_OF).row(0, named=True)


def test_net_outflow_in_the_latest_months_shows_as_a_run_and_a_negative_margin(
    row: dict[str, object],
) -> None:
    assert row["settlement_negative_run"] == 2
    assert row["settlement_negative_months_6m"] == 2
    assert row["settlement_margin_1m"] == pytest.approx(-10_000 / 100_100)
    assert row["settlement_margin_3m"] == pytest.approx((300_000 - 315_000) / 300_100)
    # Before the decline the margin was 5%; over the last quarter it is -5%.
    assert row["settlement_margin_drop"] == pytest.approx(45_000 / 900_100 + 15_000 / 300_100)


def test_only_transfers_above_a_fifth_of_inflow_count_as_heavy_related(
    row: dict[str, object],
) -> None:
    assert row["settlement_heavy_related_months_6m"] == 1
    assert row["settlement_related_months_3m"] == 1


def test_latest_sales_are_compared_with_the_same_month_a_year_earlier(
    row: dict[str, object],
) -> None:
    assert row["sales_growth_1m_yoy"] == pytest.approx(math.log(500_100 / 1_000_100))
    assert row["sales_1m_vs_6m"] == pytest.approx(math.log(3_000_100 / 5_500_100))


def test_recent_and_long_run_late_filings_are_counted(row: dict[str, object]) -> None:
    assert row["tax_late_filings_3m"] == 1
    assert row["tax_late_filing_rate"] == pytest.approx(2 / N_MONTHS)
    assert row["utility_late_payments_3m"] == 1
    assert row["utility_late_payment_rate"] == pytest.approx(1 / N_MONTHS)


def test_bureau_new_loans_enquiries_and_overdue_history(row: dict[str, object]) -> None:
    assert row["bureau_new_loans_12m"] == 2
    assert row["bureau_enquiries_1m"] == 2
    assert row["bureau_enquiries_3m"] == 2
    assert row["bureau_overdue_months_3m"] == 1
    assert row["bureau_overdue_rate"] == pytest.approx(1 / N_MONTHS)
    sales_12m = 11 * 1_000_000 + 500_000
    assert row["bureau_balance_to_sales"] == pytest.approx(1_000_000 / (sales_12m + 100))


def test_steady_electricity_reads_as_no_change_and_per_yuan_of_sales(
    row: dict[str, object],
) -> None:
    assert row["electricity_3m_vs_12m"] == pytest.approx(0.0)
    assert row["electricity_1m_vs_12m"] == pytest.approx(0.0)
    assert row["electricity_12m_vs_24m"] == pytest.approx(0.0)
    sales_12m = 11 * 1_000_000 + 500_000
    assert row["electricity_per_sales"] == pytest.approx(
        math.log((100 * 12_000 + 100) / (sales_12m + 100))
    )


def test_new_court_cases_count_in_recent_and_long_windows(row: dict[str, object]) -> None:
    assert row["court_cases_filed_6m"] == 1
    assert row["court_cases_filed_36m"] == 1


def test_signals_of_a_later_month_do_not_reach_an_earlier_as_of_date() -> None:
    earlier = enterprise_features(_tables(), FIRM, month_start_plus(AS_OF, -2))
    assert earlier["settlement_negative_run"] == 0
    assert earlier["bureau_enquiries_1m"] == 0
    assert earlier["court_cases_filed_6m"] == 0
    assert earlier["sales_growth_1m_yoy"] == pytest.approx(0.0)
