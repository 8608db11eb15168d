"""Wire the API's services from explicit parts: engine, keys, clock and the ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from puhui.adapters.db.origination.encryption import FieldCipher, derive_key
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.adapters.db.security.sessions import SqlWindowCounter
from puhui.domain.clock import Clock
from puhui.services import strategies
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.origination.ports import Assessor, CreditLineOpener, DataSource
from puhui.services.origination.use_cases import Origination
from puhui.services.security.accounts import Security, SecurityConfig
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.ports import OtpSender
from puhui.services.security.rate_limit import RateLimit
from puhui.services.security.signing import ContractSigner
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.web.dependencies import ApiDependencies

if TYPE_CHECKING:
    # Only the annotation: the web layer never uses SQLAlchemy itself.
    from sqlalchemy import Engine

if TYPE_CHECKING:
    # The registry pulls in the modelling stack (seconds to import); only its types here.
    from puhui.risk.registry import ModelRegistry


@dataclass(frozen=True)
class ApiKeys:
    """The secrets of the API. ``data_key`` also derives the OTP and request-hash keys."""

    audit_key: bytes
    data_key: bytes
    jwt_secret: bytes
    signing_key_seed: bytes


@dataclass(frozen=True)
class ApiLimits:
    token_lifetime: timedelta = timedelta(minutes=15)
    login: RateLimit = field(default_factory=lambda: RateLimit(5, timedelta(minutes=15)))
    otp_send: RateLimit = field(default_factory=lambda: RateLimit(3, timedelta(minutes=10)))
    otp_verify: RateLimit = field(default_factory=lambda: RateLimit(10, timedelta(minutes=10)))


def build_api_dependencies(
    *,
    engine: Engine,
    clock: Clock,
    keys: ApiKeys,
    assessor: Assessor,
    data_source: DataSource,
    line_opener: CreditLineOpener,
    otp_sender: OtpSender,
    limits: ApiLimits | None = None,
    hasher: PasswordHasher | None = None,
    run_inline: bool | None = None,
    servicing_uow_factory: Callable[[], ServicingUnitOfWork] | None = None,
    servicing_reader_factory: Callable[[], ServicingUnitOfWork] | None = None,
    strategies_uow_factory: strategies.UowFactory | None = None,
    model_registry: ModelRegistry | None = None,
) -> ApiDependencies:
    """Wire the API; servicing routes exist only with ``servicing_uow_factory``.

    ``run_inline`` defaults to True on SQLite (see ``ApiDependencies.run_inline``).
    """
    limits = limits or ApiLimits()
    units = OriginationUnits(
        engine, clock=clock, audit_key=keys.audit_key, cipher=FieldCipher(keys.data_key)
    )
    uow = units.writer
    origination = Origination(
        uow_factory=uow,
        reader_factory=units.reader,
        clock=clock,
        assessor=assessor,
        data_source=data_source,
        line_opener=line_opener,
        signer=ContractSigner(keys.signing_key_seed),
        request_hash_key=derive_key(keys.data_key, "request-hash"),
    )
    security = Security(
        uow_factory=uow,
        clock=clock,
        config=SecurityConfig(
            jwt_secret=keys.jwt_secret,
            otp_key=derive_key(keys.data_key, "otp"),
            token_lifetime=limits.token_lifetime,
            login_limit=limits.login,
            otp_send_limit=limits.otp_send,
            otp_verify_limit=limits.otp_verify,
        ),
        otp_sender=otp_sender,
        hasher=hasher,
        counter=SqlWindowCounter(units.writer),
        reader_factory=units.reader,
    )
    if run_inline is None:
        run_inline = engine.dialect.name == "sqlite"
    credit = None
    if servicing_uow_factory is not None:
        credit = CreditAccess(
            origination_uow=uow,
            servicing_uow=servicing_uow_factory,
            servicing_reader=servicing_reader_factory,
            today=clock.today,
            strategies_uow=strategies_uow_factory,
            model_registry=model_registry,
        )
    return ApiDependencies(
        origination=origination, security=security, run_inline=run_inline, credit=credit
    )
