"""Origination's applications as the prospects see them: enterprise, status, offered limit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from puhui.adapters.db.engine import READ_ONLY_OPTION
from puhui.adapters.db.origination.tables import applications, offers
from puhui.services.prospects.ports import ApplicationOutcome

_CHUNK = 500


class SqlApplicationOutcomes:
    """``services.prospects.ports.ApplicationOutcomes`` over the origination tables."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def outcome(self, application_id: str) -> ApplicationOutcome | None:
        return self.outcomes([application_id]).get(application_id)

    def outcomes(self, application_ids: Sequence[str]) -> dict[str, ApplicationOutcome]:
        found: dict[str, ApplicationOutcome] = {}
        ids = sorted(set(application_ids))
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            for start in range(0, len(ids), _CHUNK):
                rows = connection.execute(
                    select(
                        applications.c.application_id,
                        applications.c.uscc,
                        applications.c.status,
                        offers.c.limit_fen,
                    )
                    .join(
                        offers,
                        offers.c.application_id == applications.c.application_id,
                        isouter=True,
                    )
                    .where(applications.c.application_id.in_(ids[start : start + _CHUNK]))
                )
                for row in rows:
                    found[row.application_id] = ApplicationOutcome(
                        application_id=row.application_id,
                        uscc=row.uscc,
                        status=row.status,
                        limit_fen=row.limit_fen,
                    )
            connection.rollback()
        return found
