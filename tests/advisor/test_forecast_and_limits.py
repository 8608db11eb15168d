"""The forecast's arithmetic and interval, and the limit levers read from the real strategy."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from puhui.decision.strategy import load_shipped_strategy
from puhui.services.advisor.forecast import (
    MIN_ERRORS,
    forecast,
    holdout_coverage,
    point_forecast,
)
from puhui.services.advisor.limits import analyse_limit

STRATEGY = load_shipped_strategy("mse-online-credit")
RULE = STRATEGY.limit_rule
GRADES = ("A", "B", "C", "D")


def test_a_repeating_year_is_forecast_exactly_with_a_zero_width_interval() -> None:
    year_in = [100_000 + 10_000 * m for m in range(12)]
    year_out = [80_000 + 5_000 * m for m in range(12)]
    inflow, outflow = year_in * 3, year_out * 3
    fc = forecast(inflow, outflow)
    assert fc is not None
    assert fc.backtest_errors >= MIN_ERRORS
    for m in fc.months:
        expected_in = year_in[(len(inflow) - 1 + m.horizon) % 12]
        expected_out = year_out[(len(inflow) - 1 + m.horizon) % 12]
        assert (m.inflow_fen, m.outflow_fen) == (expected_in, expected_out)
        assert m.net_fen == expected_in - expected_out
        assert m.net_low_fen == m.net_high_fen == m.net_fen  # no error ever seen


def test_growth_scales_the_seasonal_month_and_is_clamped() -> None:
    # The last 3 months are 1.5 times the same months a year before: last year's month x 1.5.
    series = [1000] * 12 + [1000] * 9 + [1500] * 3
    assert point_forecast(series, len(series) - 1, 1) == 1500
    doubled = [1000] * 12 + [1000] * 9 + [9000] * 3  # 9x: clamped to 2
    assert point_forecast(doubled, len(doubled) - 1, 1) == 2000


def test_short_history_gives_no_forecast_and_few_errors_no_interval() -> None:
    assert forecast([1] * 14, [1] * 14) is None
    fc = forecast([100 + i for i in range(16)], [50] * 16)
    assert fc is not None
    assert fc.months[0].net_low_fen is None


def test_noisy_history_gives_an_interval_around_the_point() -> None:
    inflow = [100_000 + (7919 * i % 23_000) for i in range(36)]
    outflow = [60_000 + (104_729 * i % 17_000) for i in range(36)]
    fc = forecast(inflow, outflow)
    assert fc is not None
    for m in fc.months:
        assert m.net_low_fen is not None
        assert m.net_high_fen is not None
        assert m.net_low_fen < m.net_high_fen
        assert m.net_low_fen <= m.net_fen + 1
        assert m.net_fen - 1 <= m.net_high_fen


def test_affordability_binding_names_the_sales_that_reach_the_next_cap() -> None:
    env = {
        "verified_monthly_sales_fen": 10_000_000,  # 100,000 yuan a month
        "verified_monthly_tax_fen": 100_000,
        "requested_amount_fen": 100_000_000,
    }
    found = analyse_limit(RULE, env, "B", strategy=STRATEGY.version, grade_order=GRADES)
    assert found.binding == "affordability"
    assert found.limit_fen == 25_000_000  # 2.5 x monthly sales at grade B
    sales = next(lv for lv in found.levers if lv.basis == "verified_monthly_sales_fen")
    # Sales that would make affordability reach the request (the next cap), exactly.
    assert sales.limit_after_fen == 100_000_000
    assert sales.target_fen == 40_000_000
    assert sales.multiple == "2.5"  # the strategy's multiple at grade B
    lifted = RULE.limit(RULE.caps({**env, "verified_monthly_sales_fen": sales.target_fen}, "B"))
    assert lifted == sales.limit_after_fen
    short = RULE.limit(RULE.caps({**env, "verified_monthly_sales_fen": sales.target_fen - 1}, "B"))
    assert short < sales.limit_after_fen
    grade = next(lv for lv in found.levers if lv.kind == "better_grade")
    assert grade.grade == "A"
    assert grade.limit_after_fen == 30_000_000  # 3.0 x at grade A


def test_the_request_or_the_product_cap_binding_is_said_so() -> None:
    rich = {"verified_monthly_sales_fen": 500_000_000, "verified_monthly_tax_fen": None}
    asked = analyse_limit(
        RULE, {**rich, "requested_amount_fen": 5_000_000}, "A", strategy="s", grade_order=GRADES
    )
    assert asked.binding == "requested"
    assert asked.levers[0].kind == "ask_more"
    assert asked.levers[0].limit_after_fen == RULE.product_cap_fen
    capped = analyse_limit(
        RULE, {**rich, "requested_amount_fen": None}, "A", strategy="s", grade_order=GRADES
    )
    assert capped.binding == "product_cap"
    assert capped.levers[0].kind == "product_cap"
    assert capped.limit_fen == RULE.product_cap_fen


@pytest.mark.parametrize("grade", GRADES)
def test_without_a_decision_the_table_follows_the_strategy_multiples(grade: str) -> None:
    env = {"verified_monthly_sales_fen": 1_000_000, "verified_monthly_tax_fen": 10_000}
    found = analyse_limit(RULE, env, None, strategy="s", grade_order=GRADES)
    assert found.binding is None
    expected = max(
        env[item.basis] * item.multiple_by_grade[grade][0] // item.multiple_by_grade[grade][1]
        for item in RULE.affordability
    )
    assert found.grades[grade] == expected
    assert Decimal(found.grades["A"]) >= Decimal(found.grades["D"])


def test_the_interval_covers_about_eighty_percent_of_held_out_months(
    advisor_market: Path,
) -> None:
    flows = pl.read_parquet(advisor_market / "tables/settlement_monthly/*.parquet").sort(
        "uscc", "month"
    )
    series = [
        (group["inflow_fen"].to_list(), group["outflow_fen"].to_list())
        for _, group in flows.group_by("uscc", maintain_order=True)
    ]
    coverage = holdout_coverage(series)
    assert coverage.enterprises > 300
    assert coverage.months == 3 * coverage.enterprises
    # Nominal 80 %: measured on months the forecast never saw (docs/benchmarks.md).
    assert 0.72 <= coverage.rate <= 0.90, coverage
