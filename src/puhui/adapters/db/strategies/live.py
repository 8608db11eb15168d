"""What decides now, read in one statement on a pooled driver connection (every application).

Live decisions ask before each assessment which strategy version is active and which
challenger runs. Through a unit of work that costs two SQLAlchemy executions and a
transaction (about a millisecond); here it is one precompiled ``UNION ALL`` on the DBAPI
cursor (tens of microseconds), a single statement and so a consistent snapshot by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Integer, String, bindparam, cast, literal, null, select, union_all

from puhui.adapters.db.engine import one_statement_cursor
from puhui.adapters.db.strategies.tables import strategy_challengers, strategy_versions
from puhui.services.strategies import ChallengerMode, ChallengerSetting, LiveStamp

_NAME = bindparam("name", type_=String())
_STAMP = union_all(
    select(
        literal("active").label("kind"),
        strategy_versions.c.version,
        strategy_versions.c.content_hash,
        cast(null(), Integer()).label("share_bp"),
        cast(null(), String()).label("mode"),
    ).where(strategy_versions.c.name == _NAME, strategy_versions.c.status == "active"),
    select(
        literal("challenger").label("kind"),
        strategy_challengers.c.version,
        cast(null(), String()).label("content_hash"),
        strategy_challengers.c.share_bp,
        strategy_challengers.c.mode,
    ).where(strategy_challengers.c.name == _NAME),
)


class SqlLiveStampReader:
    """``services.strategies.LiveStamp`` of a strategy name, read on a raw pooled connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        compiled = _STAMP.compile(dialect=engine.dialect)
        self._sql = compiled.string
        self._order = tuple(compiled.positiontup or ())
        self._positional = bool(engine.dialect.positional)
        self._fixed = dict(compiled.params)
        """The literal parameters (the status compared with), beside the name."""

    def read(self, name: str) -> LiveStamp:
        values = {**self._fixed, "name": name}
        params: Any = tuple(values[key] for key in self._order) if self._positional else values
        with one_statement_cursor(self._engine) as cursor:
            cursor.execute(self._sql, params)
            rows = cursor.fetchall()
        active_version: int | None = None
        active_hash: str | None = None
        challenger: ChallengerSetting | None = None
        for kind, version, content_hash, share_bp, mode in rows:
            if kind == "active":
                active_version, active_hash = int(version), str(content_hash)
            else:
                challenger = ChallengerSetting(
                    name, int(version), int(share_bp), ChallengerMode(mode)
                )
        return LiveStamp(active_version, active_hash, challenger)
