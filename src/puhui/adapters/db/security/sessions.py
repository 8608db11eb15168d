"""Token revocations and shared rate-limit counts on SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.security import tables as t
from puhui.services.security.ports import Revocations
from puhui.services.security.rate_limit import RateLimit

if TYPE_CHECKING:
    from puhui.adapters.db.origination.unit_of_work import OriginationUnitOfWork

_RL = t.rate_limits
_READ_WINDOW = (
    select(_RL.c.window_start, _RL.c.attempts)
    .where(_RL.c.limiter == bindparam("b_limiter"), _RL.c.key_hash == bindparam("b_key"))
    .with_for_update()
)
_READ_FAILURES = select(_RL.c.window_start, _RL.c.attempts).where(
    _RL.c.limiter == bindparam("b_limiter"), _RL.c.key_hash == bindparam("b_key")
)
_WRITE_WINDOW = (
    _RL.update()
    .where(_RL.c.limiter == bindparam("b_limiter"), _RL.c.key_hash == bindparam("b_key"))
    .values(window_start=bindparam("b_start"), attempts=bindparam("b_attempts"))
)


class SqlSessionRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def revoke_token(
        self, token_id: str, *, user_id: str, revoked_at: datetime, expires_at: datetime
    ) -> None:
        exists = self._c.execute(
            select(t.revoked_tokens.c.token_id).where(t.revoked_tokens.c.token_id == token_id)
        ).first()
        if exists is None:
            self._c.execute(
                t.revoked_tokens.insert(),
                {
                    "token_id": token_id,
                    "user_id": user_id,
                    "revoked_at": revoked_at,
                    "expires_at": expires_at,
                },
            )
        # Revocations of expired tokens guard nothing: they go as new ones come.
        self._c.execute(t.revoked_tokens.delete().where(t.revoked_tokens.c.expires_at < revoked_at))

    def revoke_user(self, user_id: str, *, at: datetime) -> None:
        table = t.user_revocations
        updated = self._c.execute(
            table.update().where(table.c.user_id == user_id).values(revoked_before=at)
        )
        if updated.rowcount == 0:
            self._c.execute(table.insert(), {"user_id": user_id, "revoked_before": at})

    def current(self, now: datetime) -> Revocations:
        tokens = self._c.execute(
            select(t.revoked_tokens.c.token_id).where(t.revoked_tokens.c.expires_at > now)
        ).scalars()
        users = self._c.execute(
            select(t.user_revocations.c.user_id, t.user_revocations.c.revoked_before)
        ).all()
        return Revocations(
            token_ids=frozenset(tokens), users_since={u.user_id: u.revoked_before for u in users}
        )


class SqlRateLimitRepository:
    """Attempt counts per (limiter, key); keys (phones, usernames) are stored as blind indexes."""

    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._c = connection
        self._cipher = cipher

    def hit(self, limiter: str, key: str, *, now: datetime, limit: RateLimit) -> datetime | None:
        params = {"b_limiter": limiter, "b_key": self._cipher.blind_index("rate_limit", key)}
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(
            dialect.insert(_RL)
            .values(limiter=limiter, key_hash=params["b_key"], window_start=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["limiter", "key_hash"])
        )
        row = self._c.execute(_READ_WINDOW, params).one()
        start: datetime = row.window_start
        attempts = int(row.attempts)
        if now - start >= limit.window:
            start, attempts = now, 0
        if attempts >= limit.max_events:
            return start
        self._c.execute(_WRITE_WINDOW, {**params, "b_start": start, "b_attempts": attempts + 1})
        return None

    def clear(self, limiter: str, key: str) -> None:
        self._c.execute(
            _RL.delete().where(
                _RL.c.limiter == limiter,
                _RL.c.key_hash == self._cipher.blind_index("rate_limit", key),
            )
        )

    def failures(self, limiter: str, key: str) -> tuple[int, datetime] | None:
        """Failure counts share the table: ``window_start`` is the last failure."""
        params = {"b_limiter": limiter, "b_key": self._cipher.blind_index("rate_limit", key)}
        row = self._c.execute(_READ_FAILURES, params).one_or_none()
        return None if row is None else (int(row.attempts), row.window_start)

    def fail(self, limiter: str, key: str, *, now: datetime, forget_after: timedelta) -> int:
        params = {"b_limiter": limiter, "b_key": self._cipher.blind_index("rate_limit", key)}
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(
            dialect.insert(_RL)
            .values(limiter=limiter, key_hash=params["b_key"], window_start=now, attempts=0)
            .on_conflict_do_nothing(index_elements=["limiter", "key_hash"])
        )
        row = self._c.execute(_READ_WINDOW, params).one()
        count = 1 if now - row.window_start >= forget_after else int(row.attempts) + 1
        self._c.execute(_WRITE_WINDOW, {**params, "b_start": now, "b_attempts": count})
        return count


class SqlWindowCounter:
    """Rate-limit counts in the database: one limit across every API process and restarts.

    Each attempt is counted in its own short transaction, committed whatever the attempt's
    outcome (a failed login must still count).
    """

    def __init__(self, units: Callable[[], OriginationUnitOfWork]) -> None:
        self._units = units

    def hit(self, limiter: str, key: str, *, now: datetime, limit: RateLimit) -> datetime | None:
        with self._units() as uow:
            refused = uow.rate_limits.hit(limiter, key, now=now, limit=limit)
            uow.commit()
        return refused

    def clear(self, limiter: str, key: str) -> None:
        with self._units() as uow:
            uow.rate_limits.clear(limiter, key)
            uow.commit()

    def failures(self, limiter: str, key: str) -> tuple[int, datetime] | None:
        with self._units() as uow:
            return uow.rate_limits.failures(limiter, key)

    def fail(self, limiter: str, key: str, *, now: datetime, forget_after: timedelta) -> int:
        with self._units() as uow:
            count = uow.rate_limits.fail(limiter, key, now=now, forget_after=forget_after)
            uow.commit()
        return count
