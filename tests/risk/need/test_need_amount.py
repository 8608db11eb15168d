"""The need amount's start: offsets per proxy kind, the bounded margin slope, the sanity cap."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from puhui.risk.features import MarketTables
from puhui.risk.need import NeedModel, need_features
from puhui.risk.need.features import (
    BASE_CAPITAL,
    BASE_ELECTRICITY,
    BASE_INFLOW,
    SETTLEMENT_FEATURES,
    UTILITY_FEATURES,
)
from puhui.risk.need.model import MAX_NEED_OVER_TYPICAL, AmountStart
from puhui.risk.need.training import MAX_MARGIN_SLOPE, amount_start, margin_slope

AS_OF = date(2024, 9, 1)  # the session model's month (conftest)
CAPITAL_FEN = 100_000_000  # RMB 1 million


def _rows(industry: list[float], kind: list[float], base: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "industry_code": industry,
            "need_base_kind": kind,
            "need_base_log": base,
            "margin_12m": [0.1] * len(kind),
        }
    )


def test_an_industry_with_few_needs_falls_back_to_its_proxy_kinds_offset() -> None:
    # "*" is fitted mostly on electricity (kWh); added to a proxy in fen it is nonsense.
    start = AmountStart({"*": 9.0, "0:0": 9.2, "*:1": 1.0}, margin_slope=0.0, margin_fill=0.0)
    rows = _rows(
        [0.0, 0.0, 3.0, 3.0],
        [BASE_CAPITAL, BASE_INFLOW, BASE_ELECTRICITY, BASE_ELECTRICITY],
        [18.0, 16.0, 10.0, 10.0],
    )
    # capital: no "*:2" fitted, so the prior for fen (0); inflow: "*:1"; kWh: "*", "0:0" unseen.
    assert start.apply(rows).tolist() == pytest.approx([18.0, 17.0, 19.0, 19.0])
    cap = math.log(MAX_NEED_OVER_TYPICAL)
    assert start.ceiling(rows).tolist() == pytest.approx([18 + cap, 17 + cap, 19 + cap, 19 + cap])
    electric = _rows([0.0], [BASE_ELECTRICITY], [10.0])
    assert start.apply(electric).tolist() == pytest.approx([19.2])  # its industry's own


def test_training_fits_an_offset_per_proxy_kind_with_enough_needs() -> None:
    kinds = [BASE_ELECTRICITY] * 35 + [BASE_INFLOW] * 20 + [BASE_CAPITAL] * 5
    gaps = [9.0] * 35 + [0.5] * 20 + [-1.0] * 5
    needs = pl.DataFrame(
        {
            "industry_code": [float(i % 3) for i in range(60)],
            "need_base_kind": kinds,
            "need_base_log": [10.0] * 60,
            "margin_12m": [0.0] * 60,
            "margin_prev_12m": [0.0] * 60,
            "need_amount_fen": [round(math.exp(10.0 + g)) for g in gaps],
        }
    )
    offsets = amount_start(needs).offsets
    assert offsets["*:0"] == pytest.approx(9.0, abs=1e-4)
    assert offsets["*:1"] == pytest.approx(0.5, abs=1e-4)
    assert "*:2" not in offsets  # five needs: the prior for fen stands
    assert offsets["*"] == pytest.approx(9.0, abs=1e-4)


def _margins(instrument_strength: float, n: int = 400) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    health = rng.normal(0.0, 0.1, n)
    margin = health + rng.normal(0.0, 0.05, n)
    previous = instrument_strength * health + rng.normal(0.0, 0.1, n)
    gap = -2.0 * health + rng.normal(0.0, 0.3, n)
    return pl.DataFrame(
        {
            "need_amount_fen": np.round(np.exp(12.0 + gap)).astype(np.int64),
            "need_base_log": np.full(n, 12.0),
            "margin_12m": margin,
            "margin_prev_12m": previous,
        }
    )


def test_the_margin_slope_is_the_instruments_when_it_is_strong() -> None:
    assert margin_slope(_margins(1.0)) == pytest.approx(-2.0, abs=0.4)


def test_a_weak_instrument_gives_a_bounded_slope() -> None:
    weak = _margins(0.0)  # the previous margin is unrelated: the ratio is noise over noise
    g = np.log(weak["need_amount_fen"].to_numpy()) - 12.0
    x, z = (weak[c].to_numpy() - weak[c].mean() for c in ("margin_12m", "margin_prev_12m"))
    instrumental = float((g - g.mean()) @ z) / float(x @ z)
    assert abs(instrumental) > MAX_MARGIN_SLOPE  # what the unbounded estimate said
    slope = margin_slope(weak)
    assert -MAX_MARGIN_SLOPE <= slope < 0.0  # least squares: towards zero, the right sign
    assert slope == pytest.approx(float((g - g.mean()) @ x) / float(x @ x))


def test_a_firm_without_utilities_or_settlement_gets_a_need_of_its_capitals_order(
    need_model: NeedModel, need_tables: MarketTables
) -> None:
    # Just registered: no electricity, no inflows; the amount scales from the capital.
    capital_log = math.log(CAPITAL_FEN)
    firms = (
        need_features(need_tables, AS_OF)
        .head(5)
        .with_columns(
            *(pl.lit(None, pl.Float64).alias(n) for n in (*UTILITY_FEATURES, *SETTLEMENT_FEATURES)),
            pl.lit(None, pl.Float64).alias("kwh_to_inflow_log"),
            pl.lit(capital_log).alias("registered_capital_log"),
            pl.lit(capital_log).alias("need_base_log"),
            pl.lit(BASE_CAPITAL).alias("need_base_kind"),
        )
    )
    amounts = need_model.score(firms, AS_OF).get_column("need_amount_fen")
    assert amounts.is_between(CAPITAL_FEN / MAX_NEED_OVER_TYPICAL, CAPITAL_FEN * 20).all()
