"""The feature store on SQL: bulk month loads and reads by key (queries only in here)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from puhui.adapters.db import fast
from puhui.adapters.db.engine import READ_ONLY_OPTION, one_statement_cursor
from puhui.adapters.db.features.codec import Codec
from puhui.adapters.db.features.spool import RowSpool
from puhui.adapters.db.features.tables import enterprise_features, feature_sets
from puhui.domain.errors import Conflict, NotFound
from puhui.risk.enterprise_inputs import FeatureSet
from puhui.services.features import FeatureBatch, StoredFeatures

_COLUMNS = (
    "as_of_month",
    "uscc",
    "source_month",
    "feature_set_version",
    "computed_at",
    "packed_values",
)
LOAD_SLICE_ROWS = 10_000
"""Rows per executemany / COPY call."""
_READ_ONE = select(
    enterprise_features.c.source_month,
    enterprise_features.c.feature_set_version,
    enterprise_features.c.computed_at,
    enterprise_features.c.packed_values,
).where(
    enterprise_features.c.as_of_month == bindparam("month"),
    enterprise_features.c.uscc == bindparam("uscc"),
)
_READ_SET = select(feature_sets.c.columns_json).where(feature_sets.c.version == bindparam("v"))


@dataclass(frozen=True, slots=True)
class _Layout:
    """A stored feature set, ready to unpack rows with."""

    feature_set: FeatureSet
    codec: Codec
    feature_names: tuple[str, ...]
    input_names: tuple[str, ...]


class _ReadByKey:
    """The read of one row by key, straight on a pooled driver connection.

    The decision path reads one row per application: SQLAlchemy's ``Connection`` (events,
    transaction object, result wrapping) cost three times SQLite's own work. The statement is
    compiled once by SQLAlchemy, with its columns' bind and result conversions. One SELECT is
    one consistent snapshot by itself, run in autocommit (one round trip on PostgreSQL).
    """

    def __init__(self, dialect: Any) -> None:
        compiled = _READ_ONE.compile(dialect=dialect)
        self._sql = compiled.string
        self._positional = bool(dialect.positional)
        self._order = tuple(compiled.positiontup or ())
        month_type = enterprise_features.c.as_of_month.type
        # The dialect's own implementations of the types (as ``fast.py`` uses them).
        self._month = month_type._cached_bind_processor(dialect)
        self._results = tuple(
            column.type._cached_result_processor(dialect, None)
            for column in _READ_ONE.selected_columns
        )

    def one(self, engine: Engine, month: date, uscc: str) -> tuple[Any, ...] | None:
        values: dict[str, Any] = {
            "month": month if self._month is None else self._month(month),
            "uscc": uscc,
        }
        params: Any = tuple(values[name] for name in self._order) if self._positional else values
        with one_statement_cursor(engine) as cursor:
            cursor.execute(self._sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(row, self._results, strict=True)
        )


def _aware(value: datetime) -> datetime:
    # SQLite gives timestamps back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SqlFeatureStore:
    """``FeatureStore`` and ``FeatureMonthWriter`` on the platform's database.

    Reads run in a read-only transaction of their own (a snapshot; on SQLite no write lock).
    A month's batches are packed into a temporary spool as they stream in (memory holds one
    batch), then one short writing transaction deletes the month and loads the spool. Layouts
    of feature sets are cached once read (they never change for a version).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._layouts: dict[str, _Layout] = {}
        self._read = _ReadByKey(engine.dialect)
        self._guard = threading.Lock()

    # -- reads ---------------------------------------------------------------------------

    def get(self, uscc: str, month: date) -> StoredFeatures | None:
        found = self._read.one(self._engine, month, uscc)
        if found is None:
            return None
        source_month, version, computed_at, packed = found
        layout = self._layouts.get(version)
        if layout is None:
            with self._engine.connect() as connection:
                connection.execution_options(**{READ_ONLY_OPTION: True})
                layout = self._layout(connection, version)
        values = layout.codec.decode(packed)
        width = len(layout.feature_names)
        return StoredFeatures(
            uscc=uscc,
            month=month,
            features=dict(zip(layout.feature_names, values[:width], strict=True)),
            inputs=dict(zip(layout.input_names, values[width:], strict=True)),
            source_month=source_month,
            feature_set_version=version,
            computed_at=_aware(computed_at),
        )

    def feature_set(self, version: str) -> FeatureSet:
        """The layout stored for ``version`` (NotFound if no month was ever built with it)."""
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            return self._layout(connection, version).feature_set

    def month_counts(self) -> dict[date, int]:
        """Rows stored per as-of month (for status output)."""
        query = (
            select(enterprise_features.c.as_of_month, func.count())
            .group_by(enterprise_features.c.as_of_month)
            .order_by(enterprise_features.c.as_of_month)
        )
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            return {month: int(count) for month, count in connection.execute(query)}

    def _layout(self, connection: Connection, version: str) -> _Layout:
        known = self._layouts.get(version)
        if known is not None:
            return known
        text = fast.execute(connection, _READ_SET, {"v": version}).one_or_none()
        if text is None:
            raise NotFound(f"feature set {version} is not stored", details={"version": version})
        feature_set = FeatureSet.from_json(version, text.columns_json)
        layout = _Layout(
            feature_set=feature_set,
            codec=Codec([kind for _, kind in feature_set.columns]),
            feature_names=tuple(name for name, _ in feature_set.features),
            input_names=tuple(name for name, _ in feature_set.inputs),
        )
        with self._guard:
            self._layouts[version] = layout
        return layout

    # -- writes --------------------------------------------------------------------------

    def replace_month(
        self,
        month: date,
        feature_set: FeatureSet,
        *,
        source_month: date,
        computed_at: datetime,
        batches: Iterable[FeatureBatch],
    ) -> int:
        codec = Codec([kind for _, kind in feature_set.columns])
        with RowSpool() as spool:
            # Compute and pack everything first: the transaction below only loads.
            for batch in batches:
                if len(batch.usccs) != len(batch.rows):
                    raise Conflict("a batch must hold one enterprise per row")
                for uscc, row in zip(batch.usccs, batch.rows, strict=True):
                    spool.append(uscc, codec.encode(row))
            with self._engine.begin() as connection:
                self._register(connection, feature_set, computed_at)
                connection.execute(
                    delete(enterprise_features).where(enterprise_features.c.as_of_month == month)
                )
                load = _Loader(connection, (month, source_month, feature_set.version, computed_at))
                for usccs, packed in spool.slices(LOAD_SLICE_ROWS):
                    load.rows(usccs, packed)
            return spool.rows

    def _register(self, connection: Connection, feature_set: FeatureSet, at: datetime) -> None:
        stored = connection.execute(_READ_SET, {"v": feature_set.version}).one_or_none()
        if stored is None:
            connection.execute(
                insert(feature_sets).values(
                    version=feature_set.version,
                    columns_json=feature_set.to_json(),
                    created_at=at,
                )
            )
        elif stored.columns_json != feature_set.to_json():
            raise Conflict(
                f"feature set {feature_set.version} is stored with other columns",
                details={"version": feature_set.version},
            )


class _Loader:
    """Bulk insert of one month's rows: COPY on PostgreSQL, executemany elsewhere.

    Both go straight to the driver (SQLAlchemy's per-row parameter handling would cost more
    than the database); the constant columns are converted once by the columns' own types.
    """

    def __init__(self, connection: Connection, constants: tuple[date, date, str, datetime]) -> None:
        self._connection = connection
        dialect = connection.dialect
        month, source_month, version, computed_at = constants
        columns = enterprise_features.c
        self._constants = {
            "as_of_month": _bound(columns.as_of_month.type, dialect, month),
            "source_month": _bound(columns.source_month.type, dialect, source_month),
            "feature_set_version": version,
            "computed_at": _bound(columns.computed_at.type, dialect, computed_at),
        }
        self._copy = dialect.name == "postgresql"
        self._driver: Any = connection.connection.driver_connection
        if not self._copy:
            compiled = insert(enterprise_features).compile(dialect=dialect)
            self._sql = compiled.string
            self._order: Sequence[str] = (
                tuple(compiled.positiontup or ()) if dialect.positional else _COLUMNS
            )
            self._positional = dialect.positional

    def rows(self, usccs: Sequence[str], packed: Sequence[bytes]) -> None:
        if len(usccs) != len(packed):
            raise Conflict("a batch must hold one enterprise per row")
        dbapi_error = self._connection.dialect.loaded_dbapi.Error
        try:
            if self._copy:
                self._copy_rows(usccs, packed)
            else:
                self._insert_rows(usccs, packed)
        except dbapi_error as exc:
            # As SQLAlchemy would raise it (IntegrityError for an enterprise twice, ...).
            raise DBAPIError.instance(
                "bulk load of enterprise_features", None, exc, dbapi_error,
                dialect=self._connection.dialect,
            ) from exc  # fmt: skip

    def _copy_rows(self, usccs: Sequence[str], packed: Sequence[bytes]) -> None:
        constants = self._constants
        names = ", ".join(_COLUMNS)
        cursor = self._driver.cursor()
        try:
            with cursor.copy(f"COPY enterprise_features ({names}) FROM STDIN") as copy:
                for uscc, values in zip(usccs, packed, strict=True):
                    copy.write_row(
                        (
                            constants["as_of_month"],
                            uscc,
                            constants["source_month"],
                            constants["feature_set_version"],
                            constants["computed_at"],
                            values,
                        )
                    )
        finally:
            cursor.close()

    def _insert_rows(self, usccs: Sequence[str], packed: Sequence[bytes]) -> None:
        constants = self._constants
        records: list[Any]
        if self._positional:
            # Each row: the constants, with the enterprise and its values at their places.
            template = [constants.get(name) for name in self._order]
            at_uscc = self._order.index("uscc")
            at_values = self._order.index("packed_values")
            records = []
            for uscc, values in zip(usccs, packed, strict=True):
                template[at_uscc] = uscc
                template[at_values] = values
                records.append(tuple(template))
        else:
            records = [
                dict(constants, uscc=uscc, packed_values=values)
                for uscc, values in zip(usccs, packed, strict=True)
            ]
        cursor = self._driver.cursor()
        try:
            cursor.executemany(self._sql, records)
        finally:
            cursor.close()


def _bound(type_: Any, dialect: Any, value: Any) -> Any:
    processor = type_._cached_bind_processor(dialect)
    return value if processor is None else processor(value)
