"""The core buyer a supplier invoiced most: the window, the core list, ties, missing values."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.clusters import main_core_buyer

SELLER = "S"
AS_OF = date(2025, 6, 17)


def _invoices(*rows: tuple[str, str, date | None, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "seller_uscc": pl.String,
            "buyer_uscc": pl.String,
            "month": pl.Date,
            "amount_fen": pl.Int64,
        },
        orient="row",
    )


def _core(*usccs: str) -> pl.DataFrame:
    return pl.DataFrame({"uscc": list(usccs)}, schema={"uscc": pl.String})


def test_the_core_buyer_invoiced_most_in_the_twelve_months_before_the_month_wins() -> None:
    invoices = _invoices(
        (SELLER, "K1", date(2024, 6, 1), 500),  # first month of the window
        (SELLER, "K1", date(2025, 5, 1), 100),  # last month of the window
        (SELLER, "K2", date(2025, 1, 1), 550),
        (SELLER, "K2", date(2024, 5, 1), 10_000),  # before the window
        (SELLER, "K2", date(2025, 6, 1), 10_000),  # the as-of month: not yet complete
        (SELLER, "N1", date(2025, 1, 1), 99_999),  # not a core enterprise
        ("K1", SELLER, date(2025, 1, 1), 99_999),  # bought, not sold
    )
    assert main_core_buyer(invoices, _core("K1", "K2"), SELLER, AS_OF) == "K1"
    # Without K1's first month, K2 leads.
    assert main_core_buyer(invoices.slice(1), _core("K1", "K2"), SELLER, AS_OF) == "K2"


def test_a_tie_goes_to_the_smaller_uscc_and_missing_values_count_as_nothing() -> None:
    invoices = _invoices(
        (SELLER, "K9", date(2025, 2, 1), 300),
        (SELLER, "K3", date(2025, 3, 1), 300),
        (SELLER, "K3", date(2025, 3, 1), None),  # no amount: adds nothing
        (SELLER, "K5", None, 10_000),  # no month: outside any window
        (SELLER, None, date(2025, 3, 1), 10_000),  # no buyer
    )
    assert main_core_buyer(invoices, _core("K3", "K5", "K9"), SELLER, AS_OF) == "K3"


def test_no_sale_to_a_core_enterprise_has_no_core_buyer() -> None:
    invoices = _invoices((SELLER, "N1", date(2025, 2, 1), 300))
    assert main_core_buyer(invoices, _core("K1"), SELLER, AS_OF) is None
    assert main_core_buyer(invoices.clear(), _core("K1"), SELLER, AS_OF) is None
    assert main_core_buyer(invoices, _core(), SELLER, AS_OF) is None
