"""A short cash-flow forecast with an interval from the enterprise's own backtested errors.

Method (docs/advisor.md, "Forecast"): each of inflows and outflows is forecast by the
seasonal naive model scaled by the recent level, ``y[t+h] = y[t+h-12] * g``, where ``g`` is
the last three months' total over the same three months a year earlier (clamped to
[0.5, 2]; 1 when the year-earlier total is nil). The net flow is inflow minus outflow.

The interval is empirical: the same model is run from every earlier month of the
enterprise's history that has fifteen months before it, its net-flow errors for horizons
1 to 3 are scaled by the mean monthly inflow at their origin, and the 5th and 95th
percentiles of those scaled errors, times today's mean monthly inflow, bound the interval
reported as 80 %: errors measured in the past run narrower than those of the months ahead
(a few dozen per enterprise, horizons pooled), and on held-out months of the synthetic
market the 5-95 band covers about 80 % where the 10-90 band covered about 70 %
(``bench/advisor_forecast_coverage.py``, docs/benchmarks.md). With fewer than
``MIN_ERRORS`` backtest errors no interval is given.
Money stays integer fen: the ratios are applied and rounded half-up to the fen once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HORIZON = 3
SEASON = 12
LEVEL_MONTHS = 3
GROWTH_BOUNDS = (Decimal("0.5"), Decimal("2"))
LOWER_QUANTILE = Decimal("0.05")
UPPER_QUANTILE = Decimal("0.95")
NOMINAL_COVERAGE = "80%"
MIN_ERRORS = 6
"""Fewer backtest errors than this and the interval would be a guess: none is shown."""
METHOD = (
    "seasonal naive scaled by the last 3 months against a year earlier; "
    "80% interval from the 5th-95th percentiles of the enterprise's own backtested errors"
)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _growth(series: Sequence[int], origin: int) -> Decimal:
    """Level of the 3 months ending at ``origin`` over the same months a year earlier."""
    recent = sum(series[origin - LEVEL_MONTHS + 1 : origin + 1])
    earlier = sum(series[origin - SEASON - LEVEL_MONTHS + 1 : origin - SEASON + 1])
    if earlier <= 0:
        return Decimal(1)
    low, high = GROWTH_BOUNDS
    return min(max(Decimal(recent) / Decimal(earlier), low), high)


def point_forecast(series: Sequence[int], origin: int, horizon: int) -> int:
    """The forecast of ``series[origin + horizon]`` from data up to index ``origin``."""
    if origin < SEASON + LEVEL_MONTHS - 1 or horizon < 1 or horizon > SEASON:
        raise ValueError("a forecast needs fifteen months before its origin")
    return _round(Decimal(series[origin + horizon - SEASON]) * _growth(series, origin))


def _quantile(values: Sequence[Decimal], q: Decimal) -> Decimal:
    """The nearest-rank quantile (no interpolation: a value actually seen)."""
    ordered = sorted(values)
    rank = int((q * len(ordered)).to_integral_value(rounding=ROUND_HALF_UP))
    return ordered[min(max(rank - 1, 0), len(ordered) - 1)]


@dataclass(frozen=True, slots=True)
class ForecastMonth:
    horizon: int
    inflow_fen: int
    outflow_fen: int
    net_fen: int
    net_low_fen: int | None
    net_high_fen: int | None


@dataclass(frozen=True, slots=True)
class CashForecast:
    months: tuple[ForecastMonth, ...]
    backtest_errors: int
    method: str = METHOD
    coverage: str = NOMINAL_COVERAGE


def _mean_inflow(inflow: Sequence[int], origin: int) -> Decimal:
    window = inflow[max(0, origin - SEASON + 1) : origin + 1]
    return Decimal(sum(window)) / Decimal(len(window)) if window else Decimal(0)


def scaled_errors(inflow: Sequence[int], outflow: Sequence[int]) -> list[Decimal]:
    """Backtested net-flow errors for horizons 1-3, each over the origin's mean inflow."""
    errors: list[Decimal] = []
    first = SEASON + LEVEL_MONTHS - 1
    for origin in range(first, len(inflow) - 1):
        scale = _mean_inflow(inflow, origin)
        if scale <= 0:
            continue
        for h in range(1, HORIZON + 1):
            if origin + h >= len(inflow):
                break
            predicted = point_forecast(inflow, origin, h) - point_forecast(outflow, origin, h)
            actual = inflow[origin + h] - outflow[origin + h]
            errors.append(Decimal(actual - predicted) / scale)
    return errors


def forecast(inflow: Sequence[int], outflow: Sequence[int]) -> CashForecast | None:
    """Three months ahead of the last month given; None with fewer than fifteen months."""
    if len(inflow) != len(outflow):
        raise ValueError("inflows and outflows cover the same months")
    origin = len(inflow) - 1
    if origin < SEASON + LEVEL_MONTHS - 1:
        return None
    errors = scaled_errors(inflow, outflow)
    scale = _mean_inflow(inflow, origin)
    low = high = None
    if len(errors) >= MIN_ERRORS:
        low = _quantile(errors, LOWER_QUANTILE) * scale
        high = _quantile(errors, UPPER_QUANTILE) * scale
    months: list[ForecastMonth] = []
    for h in range(1, HORIZON + 1):
        i = point_forecast(inflow, origin, h)
        o = point_forecast(outflow, origin, h)
        net = i - o
        months.append(
            ForecastMonth(
                horizon=h,
                inflow_fen=i,
                outflow_fen=o,
                net_fen=net,
                net_low_fen=None if low is None else net + _round(low),
                net_high_fen=None if high is None else net + _round(high),
            )
        )
    return CashForecast(months=tuple(months), backtest_errors=len(errors))


@dataclass(frozen=True, slots=True)
class Coverage:
    """How often held-out months fell inside the forecast's interval."""

    enterprises: int
    months: int
    inside: int
    without_interval: int

    @property
    def rate(self) -> float:
        return self.inside / self.months if self.months else 0.0


def holdout_coverage(series: Sequence[tuple[Sequence[int], Sequence[int]]]) -> Coverage:
    """Forecast each enterprise's last three months from the months before them and count
    the actual net flows inside the interval (each series: its inflows and outflows)."""
    enterprises = months = inside = without = 0
    for inflow, outflow in series:
        if len(inflow) < SEASON + LEVEL_MONTHS + HORIZON:
            continue
        fc = forecast(inflow[:-HORIZON], outflow[:-HORIZON])
        if fc is None:
            continue
        if fc.months[0].net_low_fen is None:
            without += 1
            continue
        enterprises += 1
        for m in fc.months:
            actual = inflow[-HORIZON - 1 + m.horizon] - outflow[-HORIZON - 1 + m.horizon]
            months += 1
            if m.net_low_fen is not None and m.net_high_fen is not None:
                inside += int(m.net_low_fen <= actual <= m.net_high_fen)
    return Coverage(enterprises, months, inside, without)
