"""When a stored row may stand for online computation, and when it is stale."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from puhui.risk.enterprise_inputs import feature_set_version
from puhui.services.features import (
    STALE_AGE,
    STALE_MONTH,
    STALE_VERSION,
    StoredFeatures,
    is_stale,
    staleness,
)


def stored(
    *, month: date = date(2025, 5, 1), computed_at: datetime, version: str | None = None
) -> StoredFeatures:
    return StoredFeatures(
        uscc="91110100000000000X",
        month=month,
        features={"sales_12m_log": 14.2},
        inputs={"verified_monthly_sales_fen": 1_000_000},
        source_month=date(2025, 4, 1),
        feature_set_version=feature_set_version() if version is None else version,
        computed_at=computed_at,
    )


BUILT = datetime(2025, 5, 1, 18, 0, tzinfo=UTC)  # 2 May 02:00 in Shanghai


def test_a_row_of_this_month_and_these_definitions_is_fresh() -> None:
    row = stored(computed_at=BUILT)
    assert staleness(row, date(2025, 5, 20), max_age_days=31) is None
    assert not is_stale(row, date(2025, 5, 20), 31)


def test_a_row_computed_by_other_definitions_is_stale() -> None:
    row = stored(computed_at=BUILT, version="0123456789abcdef")
    assert staleness(row, date(2025, 5, 3), max_age_days=31) == STALE_VERSION
    assert staleness(row, date(2025, 5, 3), 31, version="0123456789abcdef") is None


@pytest.mark.parametrize("as_of", [date(2025, 4, 30), date(2025, 6, 1)])
def test_a_row_of_another_month_is_stale(as_of: date) -> None:
    assert staleness(stored(computed_at=BUILT), as_of, max_age_days=365) == STALE_MONTH


def test_age_counts_days_in_the_banks_zone_up_to_the_limit() -> None:
    row = stored(computed_at=BUILT)  # a business date of 2 May
    assert staleness(row, date(2025, 5, 9), max_age_days=7) is None
    assert staleness(row, date(2025, 5, 10), max_age_days=7) == STALE_AGE
    assert is_stale(row, date(2025, 5, 10), 7)
