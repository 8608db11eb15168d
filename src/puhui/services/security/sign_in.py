"""Signing in: staff passwords with progressive delays, applicant one-time codes, tokens."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from puhui.domain.clock import Clock
from puhui.domain.identity import validate_mobile
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Unauthenticated
from puhui.services import audit
from puhui.services.security import otp
from puhui.services.security.context import Security, principal_from
from puhui.services.security.permissions import (
    Principal,
    Role,
)
from puhui.services.security.ports import (
    OtpRecord,
    SecurityUnitOfWork,
    User,
)
from puhui.services.security.tokens import AccessToken

logger = logging.getLogger(__name__)


def login(security: Security, *, username: str, password: str, client: str) -> AccessToken:
    """OAuth2 password flow.

    No account is ever locked: failures slow down the next attempts on that account from
    that address only (progressive delays), and each address has a cap across accounts.
    """
    name = username.strip().lower()
    delay_key = f"user:{name}|client:{client}"
    security.login_delays.check(delay_key)
    security.login_client_limiter.hit(client)
    with security.uow_factory() as uow:
        user = uow.users.by_username(name)
    stored = user.password_hash if user is not None and not user.disabled else None
    if not security.hasher.verify(stored, password) or user is None:
        logger.info("failed login for username %s", name)
        security.login_delays.fail(delay_key)
        raise Unauthenticated("wrong username or password")
    security.login_delays.reset(delay_key)
    return security.tokens.issue(principal_from(user))


def request_code(security: Security, *, phone: str, client: str) -> None:
    """Send a one-time code to an applicant's phone. Limited per phone and per client."""
    number = validate_mobile(phone)
    security.otp_send_limiter.hit(f"phone:{number}")
    security.otp_client_send_limiter.hit(f"client:{client}")
    code = otp.new_code()
    now = security.clock.now()
    record = OtpRecord(
        otp_id=new_id("otp"),
        phone=number,
        code_hash=otp.code_hash(security.config.otp_key, number, code),
        issued_at=now,
        expires_at=now + security.config.otp_lifetime,
    )
    with security.uow_factory() as uow:
        previous = uow.otps.latest_for(number)
        if previous is not None:
            # A new code supersedes the old one: only one code is ever live per phone.
            uow.otps.update(replace(previous, used_at=now))
        uow.otps.add(record)
        uow.commit()
    security.otp_sender.send(number, code)


def verify_code(security: Security, *, phone: str, code: str) -> AccessToken:
    """Exchange a valid one-time code for an applicant token; the first login creates the user."""
    number = validate_mobile(phone)
    security.otp_verify_limiter.hit(f"phone:{number}")
    now = security.clock.now()
    with security.uow_factory() as uow:
        record = uow.otps.latest_for(number)
        usable = (
            record is not None
            and record.used_at is None
            and now < record.expires_at
            and record.attempts < otp.MAX_OTP_ATTEMPTS
        )
        if record is None or not usable:
            raise Unauthenticated("no valid one-time code for this phone; request a new one")
        if not otp.codes_match(security.config.otp_key, number, code.strip(), record.code_hash):
            uow.otps.update(replace(record, attempts=record.attempts + 1))
            uow.commit()
            raise Unauthenticated("the one-time code is wrong")
        uow.otps.update(replace(record, used_at=now, attempts=record.attempts + 1))
        user = ensure_applicant(uow, phone=number, at_clock=security.clock)
        uow.commit()
    if user.disabled:
        raise Unauthenticated("this account is disabled")
    security.otp_verify_limiter.reset(f"phone:{number}")
    return security.tokens.issue(principal_from(user))


def ensure_applicant(uow: SecurityUnitOfWork, *, phone: str, at_clock: Clock) -> User:
    """The applicant user of a phone number, created on first use (inside the caller's tx)."""
    user = uow.users.applicant_by_phone(phone)
    if user is None:
        user_id = new_id("usr")
        user = User(
            user_id=user_id,
            username=f"applicant:{user_id}",
            role=Role.APPLICANT,
            created_at=at_clock.now(),
            phone=phone,
        )
        uow.users.add(user)
    return user


def authenticate_token(security: Security, token: str) -> Principal:
    """The principal of a valid bearer token: signed by us, unexpired and not revoked."""
    claims = security.tokens.decode(token)
    revoked = security.revocations()
    if claims.token_id in revoked.token_ids:
        raise Unauthenticated("the access token has been revoked; sign in again")
    cutoff = revoked.users_since.get(claims.principal.user_id)
    if cutoff is not None and claims.issued_at <= cutoff.timestamp():
        raise Unauthenticated("the access token has been revoked; sign in again")
    return claims.principal


def logout(security: Security, token: str) -> None:
    """Revoke the presented token (its holder signs out); other sessions stay valid."""
    claims = security.tokens.decode(token)
    now = security.clock.now()
    with security.uow_factory() as uow:
        uow.sessions.revoke_token(
            claims.token_id,
            user_id=claims.principal.user_id,
            revoked_at=now,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
        audit.record(
            uow,
            actor=claims.principal.audit_name(),
            action="token.revoked",
            entity="user",
            entity_id=claims.principal.user_id,
            payload={"token_id": claims.token_id},
        )
        uow.commit()
    security.forget_revocations()
