"""Prebuilt Core statements run straight on the DBAPI cursor: SQLAlchemy's SQL, types and
transaction, without its per-call execution machinery.

On the application path a statement costs SQLite about 12 µs and SQLAlchemy's execution
context (events, parameter construction, result setup) another 45 µs; with some thirty
statements per application that was a fifth of the server's CPU. Here a statement is
compiled once per dialect and set of parameter names, by SQLAlchemy, with its bind and
result processors (the same conversions ``Connection.execute`` applies), and then runs on
the connection's own DBAPI cursor inside the unit of work's transaction. Statements whose
compilation needs more than that (Python-side column defaults, expanding ``IN``
parameters, ``RETURNING``) are run through ``Connection.execute`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Prepared:
    sql: str
    names: tuple[str, ...]
    """Bind names in the order the driver takes them (positional dialects)."""
    positional: bool
    binds: tuple[tuple[str, Processor], ...]
    defaults: dict[str, Any]
    """Values of binds the statement carries itself (literals such as ``id == 1``)."""
    row: type[tuple[Any, ...]] | None
    types: tuple[Any, ...]
    """The SQLAlchemy type of each result column."""
    results: tuple[tuple[int, Processor], ...] | None = None
    """Result converters, made on the first run (they depend on the driver's column types)."""


_PREPARED: dict[tuple[int, str, tuple[str, ...]], _Prepared | None] = {}
_KEEP_ALIVE: dict[int, Executable] = {}


class FastResult:
    """Rows as named tuples (attribute access like SQLAlchemy's rows) and the row count."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise RuntimeError("expected at most one row")
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise RuntimeError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def all(self) -> list[Any]:
        return self.rows

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


def _prepare(
    statement: Executable, connection: Connection, keys: tuple[str, ...]
) -> _Prepared | None:
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    if not isinstance(compiled, SQLCompiler):
        return None
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or getattr(compiled, "postfetch", None)
        or compiled.effective_returning
        or any(b.expanding for b in compiled.binds.values())
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        return None
    names = tuple(compiled.positiontup or ()) if dialect.positional else ()
    binds: list[tuple[str, Processor]] = []
    for name, bind in compiled._bind_processors.items():
        if not callable(bind):  # a tuple of processors: only for tuple binds
            return None
        binds.append((name, bind))
    defaults = {
        name: bind.effective_value
        for name, bind in compiled.binds.items()
        if name not in keys and not bind.required
    }
    row: type[tuple[Any, ...]] | None = None
    columns = compiled._result_columns
    if columns:
        try:
            row = NamedTuple("Row", [(c.keyname, Any) for c in columns])  # type: ignore[misc, no-redef]
        except ValueError:  # names a named tuple cannot carry: SQLAlchemy runs it
            return None
    return _Prepared(
        sql=compiled.string,
        names=names,
        positional=dialect.positional,
        binds=tuple(binds),
        defaults=defaults,
        row=row,
        types=tuple(c.type for c in columns),
    )


def _converters(
    prepared: _Prepared, connection: Connection, description: Any
) -> tuple[tuple[int, Processor], ...]:
    found = []
    for index, type_ in enumerate(prepared.types):
        code = description[index][1] if description else None
        convert = type_._cached_result_processor(connection.dialect, code)
        if convert is not None:
            found.append((index, convert))
    return tuple(found)


def execute(
    connection: Connection, statement: Executable, params: Mapping[str, Any] | None = None
) -> FastResult:
    """Run ``statement`` with ``params`` in the connection's current transaction."""
    given = params or {}
    # Keys in the caller's order: callers pass the same names in the same order each time,
    # and another order only compiles once more.
    cache_key = (id(statement), connection.dialect.name, tuple(given))
    try:
        prepared = _PREPARED[cache_key]
    except KeyError:
        prepared = _PREPARED[cache_key] = _prepare(statement, connection, tuple(sorted(given)))
        _KEEP_ALIVE[id(statement)] = statement  # ids stay unique while cached
    if prepared is None:
        result = connection.execute(statement, dict(given))
        found = list(result.all()) if result.returns_rows else []
        return FastResult(found, len(found) if result.returns_rows else result.rowcount)
    values = {**prepared.defaults, **given} if prepared.defaults else dict(given)
    for name, processor in prepared.binds:
        if name in values:
            values[name] = processor(values[name])
    arguments: Sequence[Any] | Mapping[str, Any] = (
        [values[name] for name in prepared.names] if prepared.positional else values
    )
    # The unit of work's transaction has begun: this cursor runs inside it.
    cursor = _cursor(connection)
    # Listeners (statement counters in tests, tracing) see these statements too; the
    # flags are SQLAlchemy's own test for "any listener", cheaper than the dispatch.
    if (connection._has_events or connection.engine._has_events) and (
        connection.dispatch.before_cursor_execute
    ):
        connection.dispatch.before_cursor_execute(
            connection, cursor, prepared.sql, arguments, None, False
        )
    try:
        cursor.execute(prepared.sql, arguments)
    except connection.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy would raise it (IntegrityError for a duplicate, and so on).
        raise DBAPIError.instance(
            prepared.sql,
            arguments,
            exc,
            connection.dialect.loaded_dbapi.Error,
            dialect=connection.dialect,
        ) from exc
    if prepared.row is not None:
        return FastResult(_fetch(prepared, connection, cursor), cursor.rowcount)
    if cursor.description is not None:
        # Rows nobody asked for: read to the end, so that the shared cursor holds no
        # statement open (on SQLite, an open one keeps its read snapshot).
        cursor.fetchall()
    return FastResult([], cursor.rowcount)


_CURSOR = "puhui_fast_cursor"


def _cursor(connection: Connection) -> Any:
    """The driver cursor these statements share on ``connection``'s driver connection.

    A psycopg cursor cost about 18 µs to open and close, against a few hundred nanoseconds
    here, and an application runs about twenty statements. The cursor lives in the pool
    entry's ``info``, which SQLAlchemy clears when it closes or invalidates the driver
    connection: a new one gets a new cursor. Each statement's rows are fetched whole before
    the next, so the statements never share a result.
    """
    pooled = connection.connection
    driver = pooled.driver_connection
    info = pooled.info
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.connection is not driver:
        cursor = info[_CURSOR] = driver.cursor()  # type: ignore[union-attr]
    return cursor


def _fetch(prepared: _Prepared, connection: Connection, cursor: Any) -> list[Any]:
    make = prepared.row._make  # type: ignore[union-attr]
    fetched = cursor.fetchall()
    if prepared.results is None:
        prepared.results = _converters(prepared, connection, cursor.description)
    if not prepared.results:
        return [make(raw) for raw in fetched]
    rows: list[Any] = []
    for raw in fetched:
        converted = list(raw)
        for index, processor in prepared.results:
            converted[index] = processor(converted[index])
        rows.append(make(converted))
    return rows
