"""Need features: point in time, partition independent, deterministic, pre-consent only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from puhui.market.catalog import INDUSTRIES, SPRING_FESTIVAL_MONTH
from puhui.market.simulation.demand import NEED_REASONS
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import ENTERPRISES, SETTLEMENT_MONTHLY, UTILITIES_MONTHLY, MarketTables
from puhui.risk.need import NEED_FEATURE_NAMES, PRE_CONSENT_SOURCES, calendar, need_features

AS_OF = date(2024, 9, 1)  # the session model's month (conftest)


def test_calendar_facts_match_the_market_catalogue() -> None:
    assert tuple(i.group for i in INDUSTRIES) == calendar.INDUSTRY_GROUPS
    assert {i.group for i in INDUSTRIES if i.season == "consumer"} == (
        calendar.CONSUMER_INDUSTRY_GROUPS
    )
    assert calendar.SPRING_FESTIVAL_MONTH == SPRING_FESTIVAL_MONTH
    assert "seasonal_stock" in NEED_REASONS


def test_season_months_follow_the_festival() -> None:
    # Spring Festival 2025 on 29 January: a consumer firm stocks up in December 2024.
    assert calendar.is_season_month(True, date(2024, 12, 1))
    assert not calendar.is_season_month(True, date(2025, 12, 1))  # 2026's festival: February
    assert calendar.is_season_month(True, date(2024, 1, 1))  # 2024's festival: February
    assert not calendar.is_season_month(True, date(2025, 1, 1))  # the festival month itself
    assert calendar.is_season_month(False, date(2024, 3, 1))  # the month after it
    assert calendar.months_to_season(False, date(2024, 9, 1)) == 2  # November
    assert calendar.season_months_ahead(True, date(2024, 8, 1)) == 2  # September, October


def test_the_market_stocks_up_in_the_months_the_risk_calendar_says(
    need_tables: MarketTables, need_events: pl.LazyFrame
) -> None:
    # The generated market (2023-01 .. 2024-12) is the world: its consumer firms' seasonal
    # needs fall only in the risk layer's season months, December 2024 among them (festival
    # 2025 in January) and December 2023 not (festival 2024 in February).
    consumer = (
        need_tables[ENTERPRISES]
        .filter(pl.col("industry_group").is_in(sorted(calendar.CONSUMER_INDUSTRY_GROUPS)))
        .select("uscc")
    )
    months = set(
        need_events.filter(pl.col("reason") == "seasonal_stock")
        .join(consumer, on="uscc")
        .select(pl.col("month").unique())
        .collect()
        .get_column("month")
        .to_list()
    )
    assert date(2024, 12, 1) in months
    assert date(2023, 12, 1) not in months
    assert all(calendar.is_season_month(True, m) for m in months)


def test_one_row_per_registered_enterprise_with_every_feature(need_tables: MarketTables) -> None:
    frame = need_features(need_tables, AS_OF)
    registered = (
        need_tables[ENTERPRISES]
        .filter(pl.col("registration_date") < date(2024, 10, 1))
        .select(pl.len())
        .collect()
        .item()
    )
    assert frame.columns == ["uscc", *NEED_FEATURE_NAMES]
    assert frame.height == registered
    assert frame.get_column("uscc").is_unique().all()
    assert frame.get_column("kwh_12m_log").null_count() < frame.height // 10


def test_data_after_the_as_of_month_changes_nothing(need_tables: MarketTables) -> None:
    later = {
        name: frame.with_columns(
            pl.when(pl.col("month") > AS_OF)
            .then(pl.col(column) * 7 + 1)
            .otherwise(pl.col(column))
            .alias(column)
        )
        for name, column in (
            (SETTLEMENT_MONTHLY, "inflow_fen"),
            (UTILITIES_MONTHLY, "electricity_kwh"),
        )
        for frame in [need_tables[name]]
    }
    changed = replace(need_tables, frames={**need_tables.frames, **later})
    assert_frame_equal(need_features(changed, AS_OF), need_features(need_tables, AS_OF))
    # ...while the as-of month itself counts: the same change from it on moves the features.
    moved = {
        UTILITIES_MONTHLY: need_tables[UTILITIES_MONTHLY].with_columns(
            pl.when(pl.col("month") >= AS_OF)
            .then(pl.col("electricity_kwh") * 7 + 1)
            .otherwise(pl.col("electricity_kwh"))
        )
    }
    other = need_features(replace(need_tables, frames={**need_tables.frames, **moved}), AS_OF)
    assert not other.get_column("kwh_12m_log").equals(
        need_features(need_tables, AS_OF).get_column("kwh_12m_log")
    )


def test_a_partition_gives_the_full_runs_rows(need_tables: MarketTables) -> None:
    full = need_features(need_tables, AS_OF)
    chunk = full.get_column("uscc").gather_every(7).to_list()
    part = need_features(need_tables.for_enterprises(chunk), AS_OF)
    assert_frame_equal(part, full.filter(pl.col("uscc").is_in(chunk)))
    assert part.height == len(chunk)


def test_features_are_deterministic(need_tables: MarketTables) -> None:
    assert_frame_equal(need_features(need_tables, AS_OF), need_features(need_tables, AS_OF))


def test_sources_needing_consent_are_never_required(need_tables: MarketTables) -> None:
    assert not PRE_CONSENT_SOURCES & {"tax_monthly", "invoices", "bureau"}
    # The tables given hold no tax, invoice or bureau rows at all, and the features compute.
    assert set(need_tables.frames) >= PRE_CONSENT_SOURCES
    assert not {"tax_monthly", "invoices", "bureau"} & set(need_tables.frames)


def test_a_source_left_out_leaves_its_features_missing(need_tables: MarketTables) -> None:
    frame = need_features(need_tables, AS_OF, sources=PRE_CONSENT_SOURCES - {UTILITIES_MONTHLY})
    assert frame.get_column("kwh_12m_log").null_count() == frame.height
    assert (frame.get_column("need_base_kind") == 1.0).sum() > 0.8 * frame.height  # inflows


def test_a_missing_table_or_a_bad_month_is_refused(need_tables: MarketTables) -> None:
    frames = {k: v for k, v in need_tables.frames.items() if k != SETTLEMENT_MONTHLY}
    with pytest.raises(InvalidTrainingData, match="settlement_monthly"):
        need_features(MarketTables(frames), AS_OF)
    with pytest.raises(InvalidTrainingData, match="first day"):
        need_features(need_tables, date(2024, 9, 15))
