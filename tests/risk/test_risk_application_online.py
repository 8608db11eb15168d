"""The online application features equal the batch definition exactly."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.risk.application_online import EarlierRecord, application_features_online
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_SCHEMA,
    one_application_features,
)

USCC = "91350100M000100Y43"

days = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31))


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


@settings(max_examples=150, deadline=None)
@given(
    day=days,
    channel=st.sampled_from(["qr", "branch", "partner", None]),
    amount=st.one_of(st.none(), st.integers(min_value=1, max_value=10**11)),
    term=st.one_of(st.none(), st.sampled_from([3, 6, 12, 24, 36])),
    sales_log=st.one_of(st.none(), st.floats(min_value=0.0, max_value=25.0)),
    gaps=st.lists(st.integers(min_value=-30, max_value=900), max_size=6),
)
def test_online_application_features_equal_the_batch_definition(
    day: date,
    channel: str | None,
    amount: int | None,
    term: int | None,
    sales_log: float | None,
    gaps: list[int],
) -> None:
    earlier_days = [day - timedelta(days=gap) for gap in gaps]
    application = {
        "application_id": "app_now",
        "uscc": USCC,
        "month": _month(day),
        "application_date": day,
        "channel": channel,
        "requested_amount_fen": amount,
        "requested_term_months": term,
    }
    earlier = pl.DataFrame(
        [
            {
                "application_id": f"app_{n}",
                "uscc": USCC,
                "month": _month(d),
                "application_date": d,
                "channel": "qr",
                "requested_amount_fen": 1,
                "requested_term_months": 12,
            }
            for n, d in enumerate(earlier_days)
        ],
        schema=APPLICATION_SCHEMA,
    )
    batch = one_application_features(application, earlier, {"sales_12m_log": sales_log})
    online = application_features_online(
        application_date=day,
        month=_month(day),
        channel=channel,
        requested_amount_fen=amount,
        requested_term_months=term,
        sales_12m_log=sales_log,
        earlier=[EarlierRecord(d, _month(d)) for d in earlier_days],
    )
    assert set(online) == set(APPLICATION_FEATURE_NAMES)
    assert online == batch
