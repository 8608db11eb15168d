"""Users, partner API keys and one-time codes on SQL; phones encrypted, found by blind index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.security import tables as t
from puhui.domain.errors import Conflict
from puhui.services.security.permissions import Permission, Role
from puhui.services.security.ports import ApiKeyRecord, OtpRecord, RoleGrant, User

PHONE = "phone"
"""The cipher's context for phone numbers: the same as an applicant's phone in origination."""

_USER_BY = {
    name: select(t.users).where(column == bindparam("b_value"))
    for name, column in (
        ("user_id", t.users.c.user_id),
        ("username", t.users.c.username),
        ("phone_index", t.users.c.phone_index),
    )
}


class SqlUserRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._c = connection
        self._cipher = cipher

    def add(self, user: User) -> None:
        try:
            with self._c.begin_nested():
                self._c.execute(
                    t.users.insert(),
                    {
                        "user_id": user.user_id,
                        "username": user.username,
                        "role": user.role.value,
                        "password_hash": user.password_hash,
                        "partner_id": user.partner_id,
                        "phone_enc": None
                        if user.phone is None
                        else self._cipher.encrypt(PHONE, user.phone),
                        "phone_index": None
                        if user.phone is None
                        else self._cipher.blind_index(PHONE, user.phone),
                        "disabled": user.disabled,
                        "created_at": user.created_at,
                    },
                )
        except IntegrityError:
            raise Conflict("the user already exists") from None

    def _from_row(self, row: Row[Any]) -> User:
        return User(
            user_id=row.user_id,
            username=row.username,
            role=Role(row.role),
            created_at=row.created_at,
            password_hash=row.password_hash,
            partner_id=row.partner_id,
            phone=None if row.phone_enc is None else self._cipher.decrypt(PHONE, row.phone_enc),
            disabled=bool(row.disabled),
        )

    def _one(self, by: str, value: str) -> User | None:
        row = fast.execute(self._c, _USER_BY[by], {"b_value": value}).one_or_none()
        return None if row is None else self._from_row(row)

    def get(self, user_id: str) -> User | None:
        return self._one("user_id", user_id)

    def by_username(self, username: str) -> User | None:
        return self._one("username", username)

    def applicant_by_phone(self, phone: str) -> User | None:
        return self._one("phone_index", self._cipher.blind_index(PHONE, phone))

    def update(self, user: User) -> None:
        self._c.execute(
            t.users.update()
            .where(t.users.c.user_id == user.user_id)
            .values(role=user.role.value, password_hash=user.password_hash, disabled=user.disabled)
        )

    def count_enabled(self, role: Role) -> int:
        query = select(func.count()).where(t.users.c.role == role.value, ~t.users.c.disabled)
        return int(self._c.execute(query).scalar_one())

    def add_grant(self, grant: RoleGrant) -> None:
        self._c.execute(
            t.role_grants.insert(),
            {
                "grant_id": grant.grant_id,
                "role": grant.role.value,
                "username": grant.username,
                "user_id": grant.user_id,
                "requested_by": grant.requested_by,
                "requested_at": grant.requested_at,
                "status": grant.status,
                "decided_by": grant.decided_by,
                "decided_at": grant.decided_at,
                "decision_reason": grant.decision_reason,
            },
        )

    @staticmethod
    def _grant(row: Row[Any]) -> RoleGrant:
        return RoleGrant(
            grant_id=row.grant_id,
            role=Role(row.role),
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            username=row.username,
            user_id=row.user_id,
            status=row.status,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            decision_reason=row.decision_reason,
        )

    def grant(self, grant_id: str) -> RoleGrant | None:
        query = select(t.role_grants).where(t.role_grants.c.grant_id == grant_id)
        row = self._c.execute(query).one_or_none()
        return None if row is None else self._grant(row)

    def decide_grant(self, grant: RoleGrant) -> None:
        # Only a pending grant is decided: two admins deciding at once cannot both win.
        table = t.role_grants
        done = self._c.execute(
            table.update()
            .where(table.c.grant_id == grant.grant_id, table.c.status == "pending")
            .values(
                status=grant.status,
                decided_by=grant.decided_by,
                decided_at=grant.decided_at,
                decision_reason=grant.decision_reason,
            )
        )
        if done.rowcount != 1:
            raise Conflict(
                "the role grant was decided already", details={"grant_id": grant.grant_id}
            )

    def pending_grants(self) -> list[RoleGrant]:
        table = t.role_grants
        rows = self._c.execute(
            select(table)
            .where(table.c.status == "pending")
            .order_by(table.c.requested_at, table.c.grant_id)
        ).all()
        return [self._grant(r) for r in rows]

    def decided_grants(self, *, limit: int) -> list[RoleGrant]:
        table = t.role_grants
        rows = self._c.execute(
            select(table)
            .where(table.c.status != "pending")
            .order_by(table.c.decided_at.desc(), table.c.grant_id.desc())
            .limit(limit)
        ).all()
        return [self._grant(r) for r in rows]

    def staff(self, *, role: Role | None, limit: int, offset: int) -> list[User]:
        query = select(t.users).where(t.users.c.role != Role.APPLICANT.value)
        if role is not None:
            query = query.where(t.users.c.role == role.value)
        rows = self._c.execute(query.order_by(t.users.c.username).limit(limit).offset(offset)).all()
        return [self._from_row(r) for r in rows]


class SqlApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, record: ApiKeyRecord) -> None:
        self._c.execute(
            t.api_keys.insert(),
            {
                "key_id": record.key_id,
                "partner_id": record.partner_id,
                "secret_hash": record.secret_hash,
                "scopes": ",".join(sorted(p.value for p in record.scopes)),
                "created_at": record.created_at,
                "revoked_at": record.revoked_at,
            },
        )

    def update(self, record: ApiKeyRecord) -> None:
        self._c.execute(
            t.api_keys.update()
            .where(t.api_keys.c.key_id == record.key_id)
            .values(secret_hash=record.secret_hash, revoked_at=record.revoked_at)
        )

    def get(self, key_id: str) -> ApiKeyRecord | None:
        r = self._c.execute(select(t.api_keys).where(t.api_keys.c.key_id == key_id)).one_or_none()
        return None if r is None else self._record(r)

    def listing(self, *, limit: int, offset: int) -> list[ApiKeyRecord]:
        table = t.api_keys
        rows = self._c.execute(
            select(table)
            .order_by(table.c.created_at.desc(), table.c.key_id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [self._record(r) for r in rows]

    @staticmethod
    def _record(r: Row[Any]) -> ApiKeyRecord:
        return ApiKeyRecord(
            key_id=r.key_id,
            partner_id=r.partner_id,
            secret_hash=r.secret_hash,
            scopes=frozenset(Permission(p) for p in r.scopes.split(",") if p),
            created_at=r.created_at,
            revoked_at=r.revoked_at,
        )


class SqlOtpRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._c = connection
        self._cipher = cipher

    def add(self, record: OtpRecord) -> None:
        self._c.execute(
            t.otp_codes.insert(),
            {
                "otp_id": record.otp_id,
                "phone_index": self._cipher.blind_index(PHONE, record.phone),
                "code_hash": record.code_hash,
                "issued_at": record.issued_at,
                "expires_at": record.expires_at,
                "attempts": record.attempts,
                "used_at": record.used_at,
            },
        )

    def latest_for(self, phone: str) -> OtpRecord | None:
        table = t.otp_codes
        r = self._c.execute(
            select(table)
            .where(
                and_(
                    table.c.phone_index == self._cipher.blind_index(PHONE, phone),
                    table.c.used_at.is_(None),
                )
            )
            .order_by(table.c.issued_at.desc(), table.c.otp_id.desc())
            .limit(1)
        ).first()
        if r is None:
            return None
        return OtpRecord(
            otp_id=r.otp_id,
            phone=phone,
            code_hash=r.code_hash,
            issued_at=r.issued_at,
            expires_at=r.expires_at,
            attempts=r.attempts,
            used_at=r.used_at,
        )

    def update(self, record: OtpRecord) -> None:
        self._c.execute(
            t.otp_codes.update()
            .where(t.otp_codes.c.otp_id == record.otp_id)
            .values(attempts=record.attempts, used_at=record.used_at)
        )
