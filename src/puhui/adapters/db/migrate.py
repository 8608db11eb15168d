"""Schema migrations (Alembic), run programmatically on the platform's engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> MigrationStatus:
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    return status(engine)


def status(engine: Engine) -> MigrationStatus:
    script = ScriptDirectory.from_config(_config())
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    pending = [
        rev.revision
        for rev in reversed(list(script.walk_revisions(base="base", head="heads")))
        if current is None or rev.revision not in _applied(script, current)
    ]
    return MigrationStatus(current=current, head=head, pending=pending)


def _applied(script: ScriptDirectory, current: str) -> set[str]:
    return {rev.revision for rev in script.iterate_revisions(current, "base")}
