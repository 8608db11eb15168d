"""Schema migrations (Alembic), run programmatically on the platform's engine."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
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
    parents = {
        rev.revision: _down_revisions(rev.down_revision) - applied
        for rev in script.walk_revisions(base="base", head="heads")
        if rev.revision not in applied
    }
    return MigrationStatus(current=current, head=",".join(sorted(heads)), pending=in_order(parents))


def _down_revisions(down: str | Sequence[str] | None) -> set[str]:
    if down is None:
        return set()
    return {down} if isinstance(down, str) else set(down)


def in_order(parents: dict[str, set[str]]) -> list[str]:
    """Revisions in an order they can be applied in, the lowest id first among those ready.

    ``parents`` maps each revision to those it needs (only ones in the map count). Alembic
    walks branches in whatever order its graph gives (0001, 0004, 0003, 0002); ours are
    numbered in the order they were written, so the listing reads 0001, 0002, 0003, 0004.
    """
    waiting = {rev: set(needs) & parents.keys() for rev, needs in parents.items()}
    ready = [rev for rev, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        rev = heapq.heappop(ready)
        ordered.append(rev)
        for other, needs in waiting.items():
            if rev in needs:
                needs.discard(rev)
                if not needs:
                    heapq.heappush(ready, other)
    if len(ordered) != len(waiting):
        raise RuntimeError("the migrations' revisions form a cycle")
    return ordered
