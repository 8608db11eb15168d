"""Application features of one application in plain Python: the online twin of the batch code.

``risk.features.application_features`` is the definition (Polars, over many applications); a
Polars query on one row costs milliseconds of planning, which the online decision cannot
afford. This module computes the same values with the same arithmetic (the same IEEE
operations in the same order, the C library's ``exp`` and ``log`` that Polars calls too), and
the test suite checks that it equals the batch code exactly on generated applications.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from puhui.risk.features import APPLICATION_LOOK_BACK_DAYS, FEN_SMOOTHING, month_index


@dataclass(frozen=True, slots=True)
class EarlierRecord:
    """An earlier application of the same enterprise, as the lender recorded it."""

    application_date: date
    month: date


def application_features_online(
    *,
    application_date: date,
    month: date,
    channel: str | None,
    requested_amount_fen: int | None,
    requested_term_months: int | None,
    sales_12m_log: float | None,
    earlier: Iterable[EarlierRecord] = (),
) -> dict[str, float | str | None]:
    """The application features (``APPLICATION_FEATURE_NAMES``) of one application."""
    previous_12m = 0
    months_since: int | None = None
    for record in earlier:
        if record.application_date >= application_date:
            continue  # same day or later: not "earlier" for this application
        if (application_date - record.application_date).days <= APPLICATION_LOOK_BACK_DAYS:
            previous_12m += 1
        gap = month_index(month) - month_index(record.month)
        months_since = gap if months_since is None else min(months_since, gap)
    amount_to_sales: float | None = None
    if requested_amount_fen is not None and sales_12m_log is not None:
        monthly_sales_fen = (math.exp(sales_12m_log) - 1.0) * (100.0 / 12.0)
        amount_to_sales = math.log(
            (float(requested_amount_fen) + FEN_SMOOTHING) / (monthly_sales_fen + FEN_SMOOTHING)
        )
    return {
        "application_term": None if requested_term_months is None else str(requested_term_months),
        "application_amount_to_sales": amount_to_sales,
        "application_channel": channel,
        "application_previous_12m": float(previous_12m),
        "application_months_since_previous": None if months_since is None else float(months_since),
    }
