"""Batch and online give the same values: risk features and strategy inputs, every enterprise."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.domain.origination.consent import DataScope
from puhui.pipelines.feature_store import compute_chunk, enterprises_before
from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    enterprise_inputs,
    one_enterprise_inputs,
)
from puhui.risk.features import FEATURE_NAMES, MarketTables, compute_features
from puhui.services.origination.assessment import StrategyAssessor, pulled_frames
from puhui.services.origination.governance import FixedSetup, LiveSetup
from puhui.services.origination.ports import AssessmentRequest

LATE_MONTH = date(2025, 5, 1)  # the market's data: 2023-01 to 2025-06
EARLY_MONTH = date(2023, 9, 1)


# Polars sums a standard deviation in an order that depends on the frame (one enterprise or
# thousands): the last bit of a float feature may differ. Everything else is exact.
FLOAT_TOLERANCE = 1e-12


def same(left: Any, right: Any, *, rel: float = 0.0) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left):
            return math.isnan(right)
        return left == right or math.isclose(left, right, rel_tol=rel)
    return bool(left == right) and type(left) is type(right)


def differences(
    expected: dict[str, Any], got: dict[str, Any], *, rel: float = 0.0
) -> dict[str, Any]:
    return {
        k: (expected[k], got.get(k)) for k in expected if not same(expected[k], got.get(k), rel=rel)
    }


ONLINE_ONLY = StrategyAssessor(FixedSetup(LiveSetup(None, None, None)))
"""The assessor without a feature store: every value computed online from the pull."""


@pytest.mark.parametrize("month", [EARLY_MONTH, LATE_MONTH])
def test_every_enterprise_gets_from_its_pull_what_the_chunked_batch_gives(
    market: Path, tables: MarketTables, month: date
) -> None:
    usccs = enterprises_before(tables, month)
    assert len(usccs) > 60
    # Small chunks: values may not depend on which other enterprises share the chunk.
    batch = pl.concat(
        [compute_chunk(tables, usccs[i : i + 37], month) for i in range(0, len(usccs), 37)]
    )
    assert batch.get_column("uscc").to_list() == usccs
    source = MarketDataSource(market)
    checked_inputs = dict.fromkeys(STRATEGY_INPUT_NAMES, 0)
    for row in batch.iter_rows(named=True):
        uscc = row["uscc"]
        data = {scope: source.pull(uscc, scope, as_of=month) for scope in DataScope}
        frames = pulled_frames(data)
        online = compute_features(
            MarketTables({name: frame.lazy() for name, frame in frames.items()}), month
        ).row(0, named=True)
        expected_features = {name: row[name] for name in FEATURE_NAMES}
        assert differences(expected_features, online, rel=FLOAT_TOLERANCE) == {}, uscc
        inputs = one_enterprise_inputs(frames, online, uscc, month)
        expected_inputs = {name: row[f"input:{name}"] for name in STRATEGY_INPUT_NAMES}
        assert differences(expected_inputs, inputs) == {}, uscc
        for name, value in inputs.items():
            checked_inputs[name] += value is not None
        # The assessor's online path (no stored row) reads the same values from the pull.
        request = AssessmentRequest(
            application_id="A-1",
            uscc=uscc,
            requested_amount_fen=None,
            as_of=month,
            data=data,
            fraud_hits=(),
        )
        computed = ONLINE_ONLY.enterprise_values(request)
        assert computed.source == "online"
        assert differences(expected_inputs, computed.inputs) == {}, uscc
        assert differences(expected_features, computed.features, rel=FLOAT_TOLERANCE) == {}
    if month == LATE_MONTH:
        # Every input was compared on real values, not only on missing ones.
        assert all(count > 0 for count in checked_inputs.values()), checked_inputs


def test_the_batch_over_the_whole_market_equals_the_batch_by_chunks(
    tables: MarketTables,
) -> None:
    features = compute_features(tables, LATE_MONTH)
    whole = features.join(enterprise_inputs(tables, features, LATE_MONTH), on="uscc", suffix="_in")
    usccs = enterprises_before(tables, LATE_MONTH)
    chunked = pl.concat(
        [compute_chunk(tables, usccs[i : i + 50], LATE_MONTH) for i in range(0, len(usccs), 50)]
    )
    assert whole.height == chunked.height == len(usccs)
    for name in FEATURE_NAMES:
        left, right = whole.get_column(name), chunked.get_column(name)
        if left.dtype.is_float():
            assert (
                ((left - right).abs() <= FLOAT_TOLERANCE * left.abs())
                | (left.is_nan() & right.is_nan())
            ).all(), name
            assert left.is_null().equals(right.is_null()), name
        else:
            assert left.equals(right, null_equal=True), name
    for name in STRATEGY_INPUT_NAMES:
        column = f"{name}_in" if name in FEATURE_NAMES else name
        assert whole.get_column(column).equals(
            chunked.get_column(f"input:{name}").alias(column), null_equal=True
        ), name
