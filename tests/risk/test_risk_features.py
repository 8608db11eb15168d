"""Market features: point in time, identical online and in batch, labels from loan history."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from puhui.market import schema
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    FEATURE_NAMES,
    REQUIRED_COLUMNS,
    MarketTables,
    compute_features,
    enterprise_features,
    labelled_dataset,
    month_start_plus,
    observed_outcomes,
)

START = date(2023, 1, 1)
AS_OF = date(2024, 7, 1)
FIRMS = ("A1", "B2", "C3")


def _months(n: int) -> list[date]:
    return [month_start_plus(START, k) for k in range(n)]


def _monthly(rng: np.random.Generator, months: list[date]) -> dict[str, pl.DataFrame]:
    keys = [(u, m) for u in FIRMS for m in months]
    n = len(keys)
    uscc = [k[0] for k in keys]
    month = [k[1] for k in keys]

    def ints(lo: int, hi: int) -> list[int]:
        return rng.integers(lo, hi, n).tolist()

    def flags(p: float) -> list[bool]:
        return (rng.random(n) < p).tolist()

    return {
        "tax_monthly": pl.DataFrame(
            {
                "uscc": uscc, "month": month, "declared_sales_fen": ints(10**6, 10**8),
                "late_filing": flags(0.1), "arrears_fen": ints(0, 10**5),
                "tax_credit_grade": rng.choice(["A", "B", "M"], n).tolist(),
            }
        ),
        "utilities_monthly": pl.DataFrame(
            {"uscc": uscc, "month": month, "electricity_kwh": ints(100, 10_000),
             "late_payment": flags(0.1)}
        ),
        "settlement_monthly": pl.DataFrame(
            {
                "uscc": uscc, "month": month, "inflow_fen": ints(10**6, 10**8),
                "outflow_fen": ints(10**6, 10**8), "balance_fen": ints(0, 10**8),
                "counterparties": ints(1, 40), "related_party_transfer_fen": ints(0, 10**6),
            }
        ),
        "bureau": pl.DataFrame(
            {
                "uscc": uscc, "month": month, "other_lender_loans": ints(0, 4),
                "other_lender_balance_fen": ints(0, 10**8), "overdue_loans": ints(0, 2),
                "max_days_past_due": ints(0, 60), "hard_enquiries": ints(0, 3),
            }
        ),
        "invoices": pl.DataFrame(
            {
                "seller_uscc": uscc, "buyer_uscc": [FIRMS[(FIRMS.index(u) + 1) % 3] for u in uscc],
                "month": month, "amount_fen": ints(10**5, 10**7), "invoice_count": ints(1, 20),
                "voided_count": ints(0, 2), "red_letter_count": ints(0, 2),
            }
        ),
        "court_cases": pl.DataFrame(
            {
                "case_id": [f"K{i}" for i in range(n)], "uscc": uscc,
                "event_date": month, "month": month,
                "event": rng.choice(["filed", "executed_listed", "closed"], n).tolist(),
                "role": rng.choice(["defendant", "plaintiff"], n).tolist(),
            }
        ).filter(pl.Series(flags(0.05))),
    }  # fmt: skip


def _tables(n_months: int, seed: int = 0) -> MarketTables:
    rng = np.random.default_rng(seed)
    months = _months(n_months)
    frames = _monthly(rng, months)
    frames["enterprises"] = pl.DataFrame(
        {
            "uscc": list(FIRMS), "legal_form": ["company", "company", "individual_business"],
            "industry_group": ["retail", "manufacturing", "catering"],
            "region_code": ["110101", "320102", "440103"],
            "registration_date": [date(2015, 3, 9), date(2020, 6, 1), date(2022, 11, 20)],
            "registered_capital_fen": [10**8, 5 * 10**7, 10**6],
            "taxpayer_type": ["general", "small_scale", "small_scale"],
            "employees": [25, 8, 3], "legal_rep_id_number": ["P1", "P2", "P3"],
        }
    )  # fmt: skip
    frames["owners"] = pl.DataFrame(
        {
            "id_number": ["P1", "P2", "P3"],
            "birth_date": [date(1970, 1, 5), date(1985, 8, 1), date(1995, 2, 2)],
            "education": ["bachelor", "college", "senior_high"],
            "years_in_trade": [20, 8, 2],
            "enterprises_represented": [2, 1, 1],
        }
    )
    loans = []
    for u, origination, dpd_path in (
        ("A1", date(2023, 3, 1), [0] * 12),
        ("B2", date(2023, 4, 1), [0, 0, 30, 60, 90, 120] + [150] * 6),
        ("C3", date(2023, 5, 1), [0] * 11 + [95]),  # month 12 of 12: inside the horizon
    ):
        for k, dpd in enumerate(dpd_path):
            loans.append(
                {
                    "uscc": u, "month": month_start_plus(origination, k),
                    "origination_month": origination, "days_past_due": dpd,
                    "status": "current" if dpd == 0 else "overdue",
                }
            )  # fmt: skip
    frames["loan_history"] = pl.DataFrame(loans)
    return MarketTables({name: frame.lazy() for name, frame in frames.items()})


def test_features_ignore_everything_after_the_as_of_date() -> None:
    before = compute_features(_tables(18), AS_OF)  # data ends June 2024
    # The same market run 12 months longer: same history, new rows from July 2024 on.
    longer = _tables(30)
    cut = {
        name: frame.filter(pl.col("month") < AS_OF) if "month" in frame.collect_schema() else frame
        for name, frame in longer.frames.items()
    }
    assert compute_features(MarketTables(cut), AS_OF).equals(compute_features(longer, AS_OF))
    assert before.columns == ["uscc", *FEATURE_NAMES]
    assert before.height == 3


def test_one_enterprise_online_equals_its_batch_row() -> None:
    tables = _tables(20)
    batch = compute_features(tables, AS_OF)
    for uscc in FIRMS:
        online = enterprise_features(tables, uscc, AS_OF)
        row = batch.filter(pl.col("uscc") == uscc).row(0, named=True)
        row.pop("uscc")
        assert online == row


def test_features_read_as_expected_for_a_known_firm() -> None:
    features = compute_features(_tables(20), AS_OF).filter(pl.col("uscc") == "A1")
    row = features.row(0, named=True)
    assert row["owner_age_years"] == 54  # born January 1970, as of July 2024
    assert row["enterprise_age_months"] == (2024 - 2015) * 12 + (6 - 2)
    assert row["province"] == "11"
    assert row["invoice_customers_12m"] == 1
    assert row["invoice_suppliers_12m"] == 1
    assert 0 <= row["invoice_top_customer_share"] <= 1


def test_an_enterprise_registered_after_the_as_of_date_is_absent() -> None:
    features = compute_features(_tables(20), date(2020, 1, 1))
    assert features.get_column("uscc").to_list() == ["A1"]


def test_labels_come_from_observed_loan_history_within_the_horizon() -> None:
    outcomes = observed_outcomes(_tables(30), date(2024, 6, 1), window_months=6)
    assert dict(zip(outcomes["uscc"], outcomes["bad"], strict=True)) == {
        "A1": 0,
        "B2": 1,
        "C3": 1,
    }
    # As of May 2024 C3's 95 days past due (April 2024) is known; as of April it is not yet.
    early = observed_outcomes(_tables(30), date(2024, 4, 1), window_months=6)
    assert dict(zip(early["uscc"], early["bad"], strict=True)) == {"A1": 0, "B2": 1}


def test_labelled_rows_carry_features_as_of_their_origination_month() -> None:
    tables = _tables(30)
    labelled = labelled_dataset(tables, date(2024, 6, 1), window_months=6, warm_up_months=0)
    b2 = labelled.filter(pl.col("uscc") == "B2").row(0, named=True)
    expected = enterprise_features(tables, "B2", date(2023, 4, 1))
    assert {k: b2[k] for k in expected} == expected


def test_loans_in_the_markets_first_months_are_left_out_as_warm_up() -> None:
    tables = _tables(30)  # data from January 2023; loans originated March to May 2023
    kept = labelled_dataset(tables, date(2024, 6, 1), window_months=6, warm_up_months=3)
    assert kept.get_column("uscc").to_list() == ["B2", "C3"]
    with pytest.raises(InvalidTrainingData, match="warm-up"):
        labelled_dataset(tables, date(2024, 6, 1), window_months=6, warm_up_months=6)


def test_no_loans_in_the_window_is_refused() -> None:
    with pytest.raises(InvalidTrainingData, match="no loans originated"):
        observed_outcomes(_tables(30), date(2023, 6, 1))


def test_table_and_column_names_match_the_market_schema() -> None:
    for name, columns in REQUIRED_COLUMNS.items():
        assert set(columns) <= set(schema.TABLES[name].column_names), name
        assert not schema.TABLES[name].truth
