"""Concentration check over an exposure table: shares, warning rates, multipliers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from puhui.decision.concentration import (
    LIMIT_MULTIPLIER,
    BreachCode,
    CompiledConcentration,
    Dimension,
    ExposuresRefused,
    breaches_frame,
    limit_multipliers,
    load_shipped_concentration,
)


@pytest.fixture(scope="module")
def limits() -> CompiledConcentration:
    return load_shipped_concentration()


def book(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """Rows of (customer, exposure_fen, under_alert, industry, region, park, core, circle)."""
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "exposure_fen": pl.Int64,
            "under_alert": pl.Boolean,
            "industry": pl.String,
            "region": pl.String,
            "park": pl.String,
            "core_enterprise": pl.String,
            "guarantee_circle": pl.String,
        },
        orient="row",
    )


def spread_book(n: int = 20) -> list[tuple[Any, ...]]:
    """A book of ``n`` equal exposures spread so that no cluster is concentrated."""
    return [
        (f"c{k:02d}", 1_000_000, False, f"I{k:02d}", f"R{k:02d}", None, None, None)
        for k in range(n)
    ]


def test_a_spread_book_breaches_nothing(limits: CompiledConcentration) -> None:
    assert limits.evaluate(book(spread_book())) == []


def test_a_cluster_over_its_share_is_exceeded_and_one_at_the_warning_share_is_near(
    limits: CompiledConcentration,
) -> None:
    rows = spread_book(20)
    # Industry C13 holds 6 of 20 equal exposures = 30% > 25%; region R99 holds 5 = 25% >= 25%.
    rows = [
        (c, e, a, "C13" if k < 6 else i, "R99" if k >= 15 else r, p, ce, g)
        for k, (c, e, a, i, r, p, ce, g) in enumerate(rows)
    ]
    breaches = limits.evaluate(book(rows))
    found = [(b.dimension, b.cluster, b.code, b.value, b.threshold) for b in breaches]
    assert found == [
        (Dimension.INDUSTRY, "C13", BreachCode.LIMIT_EXCEEDED, Decimal("0.3000"), Decimal("0.25")),
        (Dimension.REGION, "R99", BreachCode.NEAR_LIMIT, Decimal("0.2500"), Decimal("0.25")),
    ]
    assert breaches[0].exposure_fen == 6_000_000
    assert breaches[0].base_fen == 20_000_000
    assert (breaches[0].parameter, breaches[0].multiplier) == (LIMIT_MULTIPLIER, Decimal(0))


def test_shares_compare_exactly_at_the_limit(limits: CompiledConcentration) -> None:
    # Exactly 25% of the book is at the limit, not over it: near, not exceeded.
    rows = [
        ("a", 1, False, "X", "R1", None, None, None),
        ("b", 3, False, "Y", "R2", None, None, None),
    ]
    codes = {(b.cluster, b.code) for b in limits.evaluate(book(rows))}
    assert ("X", BreachCode.NEAR_LIMIT) in codes
    assert ("X", BreachCode.LIMIT_EXCEEDED) not in codes


def test_a_named_cluster_has_its_own_stricter_limit(limits: CompiledConcentration) -> None:
    rows = spread_book(20)
    rows[0] = ("c00", 1_000_000, False, "K70", "R00", None, None, None)  # real estate: 5% cap
    rows[1] = ("c01", 1_000_000, False, "K70", "R01", None, None, None)
    breaches = limits.evaluate(book(rows))
    assert [(b.cluster, b.code, b.threshold) for b in breaches] == [
        ("K70", BreachCode.LIMIT_EXCEEDED, Decimal("0.05"))
    ]


def test_a_cluster_with_many_alerts_has_a_high_warning_rate(limits: CompiledConcentration) -> None:
    rows = spread_book(40)
    # Park P1: five customers, one of them (20% of its exposure) under alert; the park's cap is
    # 10% of the book and it holds 12.5%; its warning-rate cap is 20%.
    for k in range(5):
        c, e, _a, i, r, _p, ce, g = rows[k]
        rows[k] = (c, e, k == 0, i, r, "P1", ce, g)
    breaches = [b for b in limits.evaluate(book(rows)) if b.dimension is Dimension.PARK]
    assert [(b.code, b.value, b.base_fen) for b in breaches] == [
        (BreachCode.LIMIT_EXCEEDED, Decimal("0.1250"), 40_000_000),
        (BreachCode.WARNING_RATE_HIGH, Decimal("0.2000"), 5_000_000),
    ]
    assert limit_multipliers(breaches) == {(Dimension.PARK, "P1"): Decimal(0)}


def test_a_small_clusters_warning_rate_is_not_checked(limits: CompiledConcentration) -> None:
    rows = spread_book(100)
    # A guarantee circle of two, both under alert: 2% of the book, below the size for a rate.
    for k in range(2):
        c, e, _a, i, r, p, ce, _g = rows[k]
        rows[k] = (c, e, True, i, r, p, ce, "G1")
    assert limits.evaluate(book(rows)) == []


def test_multipliers_take_the_strictest_breach_per_cluster() -> None:
    limits = load_shipped_concentration()
    rows = spread_book(40)
    for k in range(4):
        c, e, _a, i, r, p, _ce, g = rows[k]
        rows[k] = (c, e, k < 1, i, r, p, "CORE1", g)  # 10% of book: near; 25% alerted
    breaches = limits.evaluate(book(rows))
    assert {b.code for b in breaches} == {BreachCode.NEAR_LIMIT}
    assert limit_multipliers(breaches) == {(Dimension.CORE_ENTERPRISE, "CORE1"): Decimal("0.5")}


def test_breaches_as_a_frame_keep_decimals_as_text(limits: CompiledConcentration) -> None:
    rows = spread_book(4)
    frame = breaches_frame(limits.evaluate(book(rows)))
    assert frame.schema["value"] == pl.String
    # Every industry and every region holds 25% of a four-loan book: at the warning share.
    assert frame.height == 8
    assert set(frame["code"]) == {"CONCENTRATION_NEAR_LIMIT"}
    assert set(frame["value"]) == {"0.2500"}


def test_an_empty_book_breaches_nothing(limits: CompiledConcentration) -> None:
    assert limits.evaluate(book([])) == []


def test_bad_exposure_tables_are_refused(limits: CompiledConcentration) -> None:
    with pytest.raises(ExposuresRefused) as caught:
        limits.evaluate(book(spread_book()).drop("park"))
    assert caught.value.code == "exposures_refused"
    negative = book([("a", -1, False, "X", "R", None, None, None)])
    with pytest.raises(ExposuresRefused):
        limits.evaluate(negative)
    floats = book(spread_book()).with_columns(pl.col("exposure_fen").cast(pl.Float64))
    with pytest.raises(ExposuresRefused):
        limits.evaluate(floats)
