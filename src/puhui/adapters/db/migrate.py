"""Schema migrations (Alembic), run programmatically on the platform's engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from puhui.adapters.db.encryption import FieldCipher

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]
    """Revisions not yet applied, oldest first."""

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(
    engine: Engine, revision: str = "heads", *, field_cipher: FieldCipher | None = None
) -> MigrationStatus:
    """Apply migrations; ``field_cipher`` lets data migrations encrypt existing rows."""
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        config.attributes["field_cipher"] = field_cipher
        command.upgrade(config, revision)
        connection.commit()
    return status(engine)


def downgrade(
    engine: Engine, revision: str = "base", *, field_cipher: FieldCipher | None = None
) -> MigrationStatus:
    """Undo migrations down to ``revision``; ``base`` drops every table the platform made."""
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        config.attributes["field_cipher"] = field_cipher
        command.downgrade(config, revision)
        connection.commit()
    return status(engine)


def status(engine: Engine) -> MigrationStatus:
    script = ScriptDirectory.from_config(_config())
    heads = script.get_heads()
    if not heads:
        raise RuntimeError("no migrations found")
    with engine.connect() as connection:
        current_heads = MigrationContext.configure(connection).get_current_heads()
        connection.rollback()
    current = ",".join(sorted(current_heads)) or None
    applied = {
        rev.revision for rev in script.iterate_revisions(current_heads, "base") if rev is not None
    }
    pending = [
        rev.revision
        for rev in reversed(list(script.walk_revisions(base="base", head="heads")))
        if rev.revision not in applied
    ]
    return MigrationStatus(current=current, head=",".join(sorted(heads)), pending=pending)
