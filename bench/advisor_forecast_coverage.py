"""The health report's cash-flow interval: coverage of held-out months on a synthetic market.

Usage: .venv/bin/python bench/advisor_forecast_coverage.py [--enterprises 2000] [--months 48]
           [--seed 2024] [--workdir /tmp/advisor_bench]

Generates a market into --workdir unless it is there already (deterministic per seed and
size). For every enterprise, the last three months of its settlement account are held out,
the forecast is made from the months before them (``services.advisor.forecast``), and the
held-out net flows inside the interval are counted. The interval's percentiles of the
enterprise's own backtested errors are varied in the same run (5-95, the shipped one; 10-90,
the textbook one for 80 %; 2.5-97.5), with the point forecast's mean absolute error over the
mean monthly inflow, and a naive baseline (last year's same month, no level) for the point.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.services.advisor import forecast as fc


def _series(market: Path) -> list[tuple[list[int], list[int]]]:
    flows = pl.read_parquet(market / "tables/settlement_monthly/*.parquet").sort("uscc", "month")
    return [
        (group["inflow_fen"].to_list(), group["outflow_fen"].to_list())
        for _, group in flows.group_by("uscc", maintain_order=True)
    ]


def _point_errors(series: list[tuple[list[int], list[int]]]) -> tuple[float, float]:
    """Mean |error| of the net flow over mean monthly inflow: the model, then seasonal naive."""
    model = naive = 0.0
    count = 0
    for inflow, outflow in series:
        n = len(inflow)
        if n < fc.SEASON + fc.LEVEL_MONTHS + fc.HORIZON:
            continue
        origin = n - fc.HORIZON - 1
        scale = sum(inflow[origin - 11 : origin + 1]) / 12
        if scale <= 0:
            continue
        for h in range(1, fc.HORIZON + 1):
            actual = inflow[origin + h] - outflow[origin + h]
            predicted = fc.point_forecast(inflow, origin, h) - fc.point_forecast(outflow, origin, h)
            last_year = inflow[origin + h - 12] - outflow[origin + h - 12]
            model += abs(actual - predicted) / scale
            naive += abs(actual - last_year) / scale
            count += 1
    return model / count, naive / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/advisor_bench"))
    args = parser.parse_args()
    market = args.workdir / f"market-{args.enterprises}-{args.months}-{args.seed}"
    if not (market / "manifest.json").is_file():
        params = MarketParams(
            enterprises=args.enterprises, months=args.months, start=date(2022, 1, 1), seed=args.seed
        )
        generate_market(params, market)
    series = _series(market)
    print(f"market {market}: {len(series)} enterprises, {args.months} months")
    shipped = (fc.LOWER_QUANTILE, fc.UPPER_QUANTILE)
    for low, high in (("0.05", "0.95"), ("0.10", "0.90"), ("0.025", "0.975")):
        fc.LOWER_QUANTILE, fc.UPPER_QUANTILE = Decimal(low), Decimal(high)
        started = time.perf_counter()
        coverage = fc.holdout_coverage(series)
        seconds = time.perf_counter() - started
        mark = " (shipped)" if (Decimal(low), Decimal(high)) == shipped else ""
        print(
            f"percentiles {low}-{high}{mark}: {coverage.inside}/{coverage.months} held-out months "
            f"inside = {coverage.rate:.3f} over {coverage.enterprises} enterprises "
            f"({coverage.without_interval} without an interval), {seconds:.2f} s"
        )
    fc.LOWER_QUANTILE, fc.UPPER_QUANTILE = shipped
    model, naive = _point_errors(series)
    print(
        f"point forecast: mean |error| / mean monthly inflow = {model:.3f}; "
        f"last year's same month (no level) = {naive:.3f}"
    )


if __name__ == "__main__":
    main()
