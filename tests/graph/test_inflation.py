"""The enterprise-level "inflated now" signal on a hand-made market whose answer is known."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from puhui.graph.packaging import inflation_scores
from puhui.graph.sources import Sources, add_months

AS_OF = date(2024, 12, 1)
PUMPED, STEADY, SEASONAL = (f"9133000000000000{i:02d}" for i in range(3))


def _enterprise(uscc: str) -> dict[str, object]:
    return {
        "uscc": uscc,
        "name": f"企业{uscc[-2:]}",
        "registration_date": date(2020, 1, 1),
        "phone": f"138000000{uscc[-2:]}",
        "address": f"杭州市某某路{uscc[-2:]}号",
        "settlement_account": f"6222{uscc[-2:]}",
        "legal_rep_id_number": f"3301021980010100{uscc[-2:]}",
    }


def _month(uscc: str, lag: int, inflow: int, related: int = 0) -> dict[str, object]:
    return {
        "uscc": uscc,
        "month": add_months(AS_OF, -lag),
        "inflow_fen": inflow,
        "related_party_transfer_fen": related,
    }


def test_pumped_firm_scores_high_steady_and_seasonal_ones_do_not(
    write_market: Callable[..., Path],
) -> None:
    settlement = []
    for lag in range(-1, 10):  # lag -1 is the month after the as-of month
        recent = 0 <= lag <= 3
        settlement.append(
            _month(PUMPED, lag, 3_500_000 if recent else 1_000_000, 2_000_000 if recent else 0)
        )
        # The steady firm's burst comes after the as-of month: the build must not see it.
        settlement.append(
            _month(STEADY, lag, 9_000_000 if lag == -1 else 1_000_000, 8_000_000 * (lag == -1))
        )
        settlement.append(_month(SEASONAL, lag, 2_500_000 if recent else 1_000_000, 50_000))
    bureau = [
        {
            "uscc": uscc,
            "month": add_months(AS_OF, -lag),
            "overdue_loans": 0,
            "max_days_past_due": 0,
            "hard_enquiries": enquiries,
        }
        for uscc, lag, enquiries in (
            (PUMPED, 0, 3),
            (PUMPED, 1, 3),
            (PUMPED, 2, 1),
            (STEADY, -1, 9),
            (STEADY, 2, 9),  # three months back: outside the two months looked at
            (SEASONAL, 0, 1),
        )
    ]
    market = write_market(
        enterprises=[_enterprise(u) for u in (PUMPED, STEADY, SEASONAL)],
        settlement_monthly=settlement,
        bureau=bureau,
    )
    sources = Sources.open(market, AS_OF)
    index = pl.DataFrame(
        {"uscc": [PUMPED, STEADY, SEASONAL], "eid": pl.Series([0, 1, 2], dtype=pl.UInt32)}
    )
    scores = dict(inflation_scores(sources, index).sort("eid").iter_rows())
    assert scores[0] >= 0.85  # all three parts full: 1 - 0.5 * 0.5 * 0.6
    assert scores[1] == 0.0
    # Inflow up 2.5x but neither paid out to related parties nor shopped around: one part.
    assert 0.45 <= scores[2] <= 0.55
