"""The store on SQLite and PostgreSQL: what a month's build writes reads back, with lineage."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db.features import SqlFeatureStore, enterprise_features, feature_sets
from puhui.domain.errors import Conflict
from puhui.pipelines.feature_store import build_month, compute_chunk, enterprises_before
from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    FeatureSet,
    feature_set_version,
)
from puhui.risk.features import FEATURE_NAMES, MarketTables
from puhui.services.features import FeatureBatch

LATE_MONTH = date(2025, 5, 1)  # the market's data: 2023-01 to 2025-06
EARLY_MONTH = date(2023, 9, 1)

FIRST_RUN = datetime(2025, 5, 2, 1, 0, tzinfo=UTC)
SECOND_RUN = datetime(2025, 5, 3, 1, 0, tzinfo=UTC)


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right) and type(left) is type(right)


def _rows(engine: Engine, month: date) -> int:
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(enterprise_features)
            .where(enterprise_features.c.as_of_month == month)
        ).scalar_one()
    return int(count)


def test_every_stored_row_reads_back_exactly_what_the_batch_computed(
    engine: Engine, tables: MarketTables
) -> None:
    store = SqlFeatureStore(engine)
    report = build_month(tables, LATE_MONTH, store, computed_at=FIRST_RUN, chunk_size=45)
    usccs = enterprises_before(tables, LATE_MONTH)
    assert report.rows == len(usccs) == _rows(engine, LATE_MONTH)
    assert report.feature_set_version == feature_set_version()
    # The same chunks as the build: a float sum's last bit may depend on a chunk's rows.
    expected = pl.concat(
        [compute_chunk(tables, usccs[i : i + 45], LATE_MONTH) for i in range(0, len(usccs), 45)]
    )
    fresh = SqlFeatureStore(engine)  # reads the layout from the database, not a cache
    for row in expected.iter_rows(named=True):
        stored = fresh.get(row["uscc"], LATE_MONTH)
        assert stored is not None
        assert list(stored.features) == list(FEATURE_NAMES)
        assert list(stored.inputs) == list(STRATEGY_INPUT_NAMES)
        for name in FEATURE_NAMES:
            assert same(stored.features[name], row[name]), (row["uscc"], name)
        for name in STRATEGY_INPUT_NAMES:
            assert same(stored.inputs[name], row[f"input:{name}"]), (row["uscc"], name)
    # Money-like inputs come back as integers, model features as floats.
    some = fresh.get(usccs[0], LATE_MONTH)
    assert some is not None
    assert isinstance(some.inputs["verified_monthly_sales_fen"], int)
    assert isinstance(some.features["sales_12m_log"], float)


def test_a_stored_row_carries_its_lineage(engine: Engine, tables: MarketTables) -> None:
    store = SqlFeatureStore(engine)
    build_month(tables, LATE_MONTH, store, computed_at=FIRST_RUN)
    uscc = enterprises_before(tables, LATE_MONTH)[0]
    stored = store.get(uscc, LATE_MONTH)
    assert stored is not None
    assert stored.uscc == uscc
    assert stored.month == LATE_MONTH
    assert stored.source_month == date(2025, 4, 1)  # the last month of data before May
    assert stored.feature_set_version == feature_set_version()
    assert stored.computed_at == FIRST_RUN
    assert stored.computed_at.tzinfo is not None
    # Written through the columns' own types: plain SQLAlchemy reads the same lineage.
    with engine.connect() as connection:
        plain = connection.execute(
            select(enterprise_features.c.source_month, enterprise_features.c.computed_at).where(
                enterprise_features.c.uscc == uscc
            )
        ).one()
    assert plain.source_month == date(2025, 4, 1)
    assert plain.computed_at.replace(tzinfo=plain.computed_at.tzinfo or UTC) == FIRST_RUN
    layout = store.feature_set(stored.feature_set_version)
    assert [name for name, _ in layout.features] == list(FEATURE_NAMES)
    assert dict(layout.inputs)["verified_monthly_sales_fen"] == "int"
    assert dict(layout.features)["industry_group"] == "str"


def test_rebuilding_a_month_replaces_it_and_leaves_other_months_alone(
    engine: Engine, tables: MarketTables
) -> None:
    store = SqlFeatureStore(engine)
    early = build_month(tables, EARLY_MONTH, store, computed_at=FIRST_RUN)
    build_month(tables, LATE_MONTH, store, computed_at=FIRST_RUN, chunk_size=50)
    again = build_month(tables, LATE_MONTH, store, computed_at=SECOND_RUN, chunk_size=70)
    assert _rows(engine, LATE_MONTH) == again.rows
    assert _rows(engine, EARLY_MONTH) == early.rows
    uscc = enterprises_before(tables, EARLY_MONTH)[0]
    late, early_row = store.get(uscc, LATE_MONTH), store.get(uscc, EARLY_MONTH)
    assert late is not None
    assert early_row is not None
    assert late.computed_at == SECOND_RUN
    assert early_row.computed_at == FIRST_RUN
    assert store.month_counts() == {EARLY_MONTH: early.rows, LATE_MONTH: again.rows}
    with engine.connect() as connection:
        versions = connection.execute(select(feature_sets.c.version)).scalars().all()
    assert versions == [feature_set_version()]


def test_a_failed_rebuild_leaves_the_month_as_it_was(engine: Engine, tables: MarketTables) -> None:
    store = SqlFeatureStore(engine)
    before = build_month(tables, LATE_MONTH, store, computed_at=FIRST_RUN)
    uscc = enterprises_before(tables, LATE_MONTH)[0]
    current = store.get(uscc, LATE_MONTH)
    assert current is not None
    layout = store.feature_set(current.feature_set_version)
    row = [*current.features.values(), *current.inputs.values()]

    class SourceWentAway(Exception):
        pass

    def batches() -> Iterator[FeatureBatch]:
        yield FeatureBatch(usccs=[uscc], rows=[row])
        raise SourceWentAway

    with pytest.raises(SourceWentAway):
        store.replace_month(
            LATE_MONTH, layout, source_month=date(2025, 4, 1), computed_at=SECOND_RUN,
            batches=batches(),
        )  # fmt: skip
    assert _rows(engine, LATE_MONTH) == before.rows
    unchanged = store.get(uscc, LATE_MONTH)
    assert unchanged is not None
    assert unchanged.computed_at == FIRST_RUN


def test_nothing_stored_reads_as_none(engine: Engine, tables: MarketTables) -> None:
    store = SqlFeatureStore(engine)
    assert store.get("911101000000000000", LATE_MONTH) is None
    build_month(tables, LATE_MONTH, store, computed_at=FIRST_RUN)
    assert store.get("911101000000000000", LATE_MONTH) is None
    assert store.get(enterprises_before(tables, LATE_MONTH)[0], date(2025, 6, 1)) is None


def test_a_version_stored_with_other_columns_is_refused(engine: Engine) -> None:
    store = SqlFeatureStore(engine)
    one = FeatureSet(version="v-test", features=(("a", "float"),), inputs=(("b", "int"),))
    other = FeatureSet(version="v-test", features=(("a", "str"),), inputs=(("b", "int"),))
    batch = FeatureBatch(usccs=["91110100000000000X"], rows=[[1.5, 7]])
    written = store.replace_month(
        LATE_MONTH, one, source_month=date(2025, 4, 1), computed_at=FIRST_RUN, batches=[batch]
    )
    assert written == 1
    with pytest.raises(Conflict):
        store.replace_month(
            LATE_MONTH, other, source_month=date(2025, 4, 1), computed_at=FIRST_RUN, batches=[]
        )
    stored = store.get("91110100000000000X", LATE_MONTH)
    assert stored is not None
    assert stored.features == {"a": 1.5}
    assert stored.inputs == {"b": 7}


def test_nulls_nan_text_and_large_integers_survive_the_database(engine: Engine) -> None:
    store = SqlFeatureStore(engine)
    layout = FeatureSet(
        version="v-kinds",
        features=(("x", "float"), ("y", "float"), ("z", "str"), ("w", "float")),
        inputs=(("money_fen", "int"), ("grade", "str"), ("count", "int")),
    )
    rows = [
        [math.nan, None, "制造业", -0.0, 9_007_199_254_740_993, None, None],
        [1e-300, math.inf, None, 2.5, -(2**63), "A", 0],
    ]
    store.replace_month(
        LATE_MONTH, layout, source_month=date(2025, 4, 1), computed_at=FIRST_RUN,
        batches=[FeatureBatch(usccs=["U1", "U2"], rows=rows)],
    )  # fmt: skip
    first, second = store.get("U1", LATE_MONTH), store.get("U2", LATE_MONTH)
    assert first is not None
    assert second is not None
    assert math.isnan(first.features["x"])
    assert first.features["y"] is None
    assert first.features["z"] == "制造业"
    assert first.inputs == {"money_fen": 9_007_199_254_740_993, "grade": None, "count": None}
    assert second.features == {"x": 1e-300, "y": math.inf, "z": None, "w": 2.5}
    assert second.inputs == {"money_fen": -(2**63), "grade": "A", "count": 0}


def test_a_month_before_any_registration_writes_no_rows(
    engine: Engine, tables: MarketTables
) -> None:
    store = SqlFeatureStore(engine)
    before_any = date(1900, 1, 1)  # before any enterprise was registered
    report = build_month(tables, before_any, store, computed_at=FIRST_RUN)
    assert report.rows == 0
    assert _rows(engine, before_any) == 0


def test_an_enterprise_twice_in_a_month_is_refused_and_nothing_is_written(
    engine: Engine,
) -> None:
    store = SqlFeatureStore(engine)
    layout = FeatureSet(version="v-twice", features=(("a", "float"),), inputs=())
    twice = FeatureBatch(usccs=["U1", "U1"], rows=[[1.0], [2.0]])
    with pytest.raises(IntegrityError):
        store.replace_month(
            LATE_MONTH, layout, source_month=date(2025, 4, 1), computed_at=FIRST_RUN,
            batches=[FeatureBatch(usccs=["U0"], rows=[[0.0]]), twice],
        )  # fmt: skip
    assert _rows(engine, LATE_MONTH) == 0


def test_other_writers_are_not_kept_waiting_while_a_month_is_computed(engine: Engine) -> None:
    store = SqlFeatureStore(engine)
    layout = FeatureSet(version="v-lock", features=(("a", "float"),), inputs=())
    writes_during_computation = []

    def batches() -> Iterator[FeatureBatch]:
        yield FeatureBatch(usccs=["U1"], rows=[[1.0]])
        # Another writer (origination, say) commits while the next chunk is being computed.
        with engine.begin() as other:
            other.execute(
                feature_sets.insert().values(
                    version="v-other", columns_json='{"features":[],"inputs":[]}',
                    created_at=FIRST_RUN,
                )
            )  # fmt: skip
        writes_during_computation.append(True)
        yield FeatureBatch(usccs=["U2"], rows=[[2.0]])

    written = store.replace_month(
        LATE_MONTH, layout, source_month=date(2025, 4, 1), computed_at=FIRST_RUN,
        batches=batches(),
    )  # fmt: skip
    assert written == 2
    assert writes_during_computation == [True]
    assert _rows(engine, LATE_MONTH) == 2
