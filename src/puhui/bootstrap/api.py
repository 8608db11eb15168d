"""Wire the open API: its keys and limits, origination, security and credit access.

The web layer only serves what this builds: ``puhui serve`` asks ``bootstrap.serving`` for the
configured platform; tests and benches call ``build_api_dependencies`` with explicit parts.
This module stays light (no modelling stack), as the web layer imports its types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.unit_of_work import OriginationUnitOfWork, OriginationUnits
from puhui.adapters.db.post_loan.unit_of_work import MonitoringUnitOfWork
from puhui.adapters.db.prospects.outcomes import SqlApplicationOutcomes
from puhui.adapters.db.prospects.unit_of_work import ProspectsUnitOfWork
from puhui.adapters.db.reporting import SqlReportingStore
from puhui.adapters.db.security.sessions import SqlWindowCounter
from puhui.adapters.db.strategies import StrategyUnitOfWork
from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.adapters.sources.supply_chain import DataSourceEnterprises, LazyPolicy
from puhui.bootstrap.advisor import strategy_limit
from puhui.bootstrap.guarantees import guarantee_service_on
from puhui.bootstrap.loan_changes import loan_changes_on
from puhui.bootstrap.partners import partner_service_on
from puhui.bootstrap.settings import Settings
from puhui.domain.clock import Clock
from puhui.domain.lending import suspense
from puhui.services import strategies
from puhui.services.advisor.access import Advisor
from puhui.services.collections import cases
from puhui.services.collections.access import PostLoanAccess
from puhui.services.collections.ports import CollectionsUnitOfWork
from puhui.services.concentration import Concentration
from puhui.services.documents.contract_pdf import ContractRenderer
from puhui.services.guarantees.access import GuaranteeAccess
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.rules import active_concentration
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.origination.ports import (
    Assessor,
    CreditLineOpener,
    DataSource,
    OfferBounds,
)
from puhui.services.origination.use_cases import Origination
from puhui.services.partners.access import PartnerAccess
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.conversion import link_at_submission
from puhui.services.reporting.ports import ReportingStore
from puhui.services.reporting.prosperity import ProsperityIndices
from puhui.services.security.accounts import Security, SecurityConfig
from puhui.services.security.network import Network, parse_networks
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.ports import OtpSender
from puhui.services.security.rate_limit import DelayPolicy, RateLimit
from puhui.services.security.signing import ContractSigner
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.supply_chain.use_cases import SupplyChainService

if TYPE_CHECKING:
    # Only the annotation: the registry pulls in the modelling stack (seconds to import).
    from sqlalchemy import Engine

    from puhui.risk.registry import ModelRegistry
    from puhui.services.model_monitoring import DecisionHistory


@dataclass(frozen=True)
class ApiDependencies:
    """Everything the API calls into; the composition root builds it once per process."""

    origination: Origination
    security: Security
    title: str = "Puhui open API"
    credit: CreditAccess | None = None
    """Servicing, strategies and models; their routes are mounted only when it is wired."""
    monitoring: MonitoringAccess | None = None
    """Post-loan alerts and tasks; mounted with servicing (acting outcomes call it)."""
    run_inline: bool = False
    """Run service calls on the event loop instead of the threadpool (``service_calls_inline``).

    SQLite admits one writer at a time and a unit of work there takes milliseconds, so
    threads only add GIL hand-offs between them (every statement releases and re-takes the
    GIL): with 32 requests in flight that turned 3 ms of work into a second of latency.
    A PostgreSQL on the same machine answers a round trip in tens of microseconds: a worker
    that waits them out gives up less than the hand-offs cost, and more worker processes
    overlap the waits (ADR 0046). A remote one's round trips are worth overlapping in threads.
    """
    max_body_bytes: int = 1024 * 1024
    """A request body over this many bytes is refused with 413 before it is parsed."""
    post_loan: PostLoanAccess | None = None
    """Collections, write-offs and concentration; mounted only when servicing is wired."""
    secure_cookies: bool = True
    """Mark the pages' cookies Secure (browsers keep them for https and for localhost)."""
    public_base_url: str | None = None
    """Where owners reach the H5 pages (branch QR codes); None: the address the console uses."""
    contracts: ContractRenderer | None = None
    """Draws contracts as PDF; its font is looked up on the first contract drawn."""
    reports: ReportingStore | None = None
    """The portfolio dashboards' aggregates; mounted only when servicing is wired."""
    handler_threads: int | None = None
    """At most this many service calls run at once in this process's threadpool (None:
    anyio's default of 40). On PostgreSQL a handful of threads keep the database busy while
    one waits; forty made every round trip's wake-up a contest for the GIL (see
    ``POSTGRES_HANDLER_THREADS``)."""
    decision_history: DecisionHistory | None = None
    """Stored decisions and their loans' outcomes, for model monitoring from the console."""
    prospects: ProspectAccess | None = None
    """Pre-approved prospects, offers and the marketing map; their routes need it."""
    supply_chain: SupplyChainService | None = None
    """Supply-chain finance (core facilities, vouchers); mounted only when wired."""
    partners: PartnerAccess | None = None
    """Lending with partners (agreements, settlement); mounted only when wired."""
    guarantees: GuaranteeAccess | None = None
    """Guarantee agencies, agreements and claims; mounted only when wired (with servicing)."""
    loan_changes: LoanChangeAccess | None = None
    advisor: Advisor | None = None
    """The owner's business-health report (docs/advisor.md); peers only with a market."""
    """Extension, restructuring, renewal and 2023 classification; mounted with servicing."""
    graph_folder: Callable[[], Path | None] | None = None
    """The relationship graph snapshot to show staff (asked on each use, so a new month's build
    is picked up without a restart); None, or a None answer: no graph is shown."""
    prosperity: ProsperityIndices | None = None
    """The platform's prosperity indices (charts and ``/api/v1/prosperity``); mounted when set."""


@dataclass(frozen=True)
class ApiKeys:
    """The secrets of the API; the cipher's stable root derives the OTP and request-hash keys."""

    audit_key: bytes
    data_key: bytes
    jwt_secret: bytes
    signing_key_seed: bytes
    jwt_previous_secrets: tuple[bytes, ...] = ()
    """Retired JWT keys whose tokens still verify until removed."""
    cipher: FieldCipher | None = None
    """The key ring of personal data at rest; None: ``data_key`` alone, under key id 1."""


@dataclass(frozen=True)
class ApiLimits:
    token_lifetime: timedelta = timedelta(minutes=15)
    login: RateLimit = field(default_factory=lambda: RateLimit(5, timedelta(minutes=15)))
    """Failed logins on one account from one address before delays start (``max_events``),
    and the longest delay (``window``); no account is ever locked."""
    login_delay_base: timedelta = timedelta(seconds=30)
    otp_send: RateLimit = field(default_factory=lambda: RateLimit(3, timedelta(minutes=10)))
    """Codes sent per phone."""
    otp_client_send: RateLimit = field(
        default_factory=lambda: RateLimit(600, timedelta(minutes=10))
    )
    """Codes sent per client address: wide enough for a carrier NAT."""
    otp_verify: RateLimit = field(default_factory=lambda: RateLimit(10, timedelta(minutes=10)))
    trusted_proxies: tuple[Network, ...] = ()
    """Peers whose ``X-Forwarded-For`` is believed."""
    max_body_bytes: int = 1024 * 1024


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def service_calls_inline(mode: str, engine: Engine) -> bool:
    """Whether a server runs service calls on its event loop (``PUHUI_API_SERVICE_CALLS``).

    ``inline`` and ``threads`` say so; ``auto`` runs them inline on SQLite and on a PostgreSQL
    on this machine (no host, a loopback address or a Unix socket), in threads otherwise.
    """
    if mode in ("inline", "threads"):
        return mode == "inline"
    if mode != "auto":
        raise ValueError(f"service calls run 'auto', 'inline' or 'threads', not {mode!r}")
    if engine.dialect.name == "sqlite":
        return True
    host = engine.url.host or engine.url.query.get("host")
    if isinstance(host, tuple):  # a repeated query parameter: several hosts
        return False
    return host is None or host in LOCAL_HOSTS or host.startswith("/")


POSTGRES_HANDLER_THREADS = 6
"""Handler threads per server process on PostgreSQL. With anyio's 40, a seventh of a
worker's GIL time in the real-assessor HTTP benchmark went to handing calls to threads and
waking them, half that with 6; 3 threads left too few round trips in flight. On the shared
machine the throughput figures did not rank 6 against 40 cleanly (docs/benchmarks.md)."""


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
    offer_bounds: tuple[OfferBounds, ...] = (),
    contract_font: Path | None = None,
    handler_threads: int | None = None,
    suspense_max_days: int = suspense.DEFAULT_MAX_DAYS,
) -> ApiDependencies:
    """Wire the API from explicit parts; servicing routes exist only with ``servicing_uow_factory``.

    ``run_inline`` defaults to ``service_calls_inline("auto", engine)``, and
    ``handler_threads`` to ``POSTGRES_HANDLER_THREADS`` on PostgreSQL.
    """
    # reportlab takes ~50 ms to import: only a process that serves the API pays for it.
    from puhui.adapters.pdf.contract import ReportlabContractRenderer  # noqa: PLC0415
    from puhui.adapters.pdf.health_report import ReportlabHealthReportRenderer  # noqa: PLC0415

    limits = limits or ApiLimits()
    cipher = keys.cipher or FieldCipher(keys.data_key)
    units = OriginationUnits(engine, clock=clock, audit_key=keys.audit_key, cipher=cipher)
    prospects = ProspectAccess(
        units=partial(
            ProspectsUnitOfWork, engine, clock=clock, audit_key=keys.audit_key, cipher=cipher
        ),
        clock=clock,
        outcomes=SqlApplicationOutcomes(engine),
        readers=partial(
            ProspectsUnitOfWork,
            engine,
            clock=clock,
            audit_key=keys.audit_key,
            cipher=cipher,
            read_only=True,
            one_statement=True,  # the fast-track check: one read
        ),
    )
    origination = Origination(
        uow_factory=units.writer,
        reader_factory=units.reader,
        clock=clock,
        assessor=assessor,
        data_source=data_source,
        line_opener=line_opener,
        offer_bounds=offer_bounds,
        signer=ContractSigner(keys.signing_key_seed),
        request_hash_key=cipher.derive("request-hash"),
        decide_in_one_transaction=engine.dialect.name == "postgresql",
        on_created=link_at_submission(prospects),
    )
    security = build_security(
        units,
        clock=clock,
        keys=keys,
        limits=limits,
        otp_sender=otp_sender,
        hasher=hasher,
    )
    if run_inline is None:
        run_inline = service_calls_inline("auto", engine)
    if handler_threads is None and engine.dialect.name == "postgresql":
        handler_threads = POSTGRES_HANDLER_THREADS
    credit = None
    post_loan = None
    monitoring = None
    reports = None
    supply_chain = None
    partners = None
    if servicing_uow_factory is not None:
        # Partner settlement posts to the servicing ledger: mounted with servicing.
        partners = PartnerAccess(partner_service_on(engine, clock=clock, audit_key=keys.audit_key))
    guarantees = None
    if servicing_uow_factory is not None:
        # Guarantee fees and claims post to the servicing ledger: mounted with servicing.
        guarantees = GuaranteeAccess(
            guarantee_service_on(engine, clock=clock, audit_key=keys.audit_key)
        )
    changes = None
    if servicing_uow_factory is not None:
        changes = loan_changes_on(engine, clock=clock, audit_key=keys.audit_key)
        reports = SqlReportingStore(engine, clock=clock)
        # Vouchers post to the servicing ledger: mounted with servicing.
        supply_chain = SupplyChainService(
            units=partial(SupplyChainUnitOfWork, engine, clock=clock, audit_key=keys.audit_key),
            clock=clock,
            source=DataSourceEnterprises(data_source, clock),
            policy=LazyPolicy(),
        )
        post_loan = post_loan_access(engine, clock=clock, keys=keys, cipher=cipher)
        monitoring = MonitoringAccess(
            units=lambda: MonitoringUnitOfWork(
                engine, clock=clock, audit_key=keys.audit_key, cipher=cipher
            ),
            servicing_uow=servicing_uow_factory,
            today=clock.today,
            now=clock.now,
            hand_over=collections_hand_over(post_loan.units, clock),
            borrower_phone=owner_phone(units.reader),
        )
        credit = CreditAccess(
            origination_uow=units.writer,
            servicing_uow=servicing_uow_factory,
            servicing_reader=servicing_reader_factory,
            today=clock.today,
            strategies_uow=strategies_uow_factory,
            model_registry=model_registry,
            suspense_max_days=suspense_max_days,
        )
    return ApiDependencies(
        origination=origination,
        security=security,
        prospects=prospects,
        supply_chain=supply_chain,
        partners=partners,
        guarantees=guarantees,
        loan_changes=changes,
        run_inline=run_inline,
        credit=credit,
        monitoring=monitoring,
        max_body_bytes=limits.max_body_bytes,
        post_loan=post_loan,
        contracts=ReportlabContractRenderer(contract_font),
        reports=reports,
        handler_threads=handler_threads,
        advisor=Advisor(
            origination=origination,
            strategy=strategy_limit(strategies_uow_factory, "mse-online-credit"),
            servicing_uow=servicing_reader_factory or servicing_uow_factory,
            pdf=ReportlabHealthReportRenderer(contract_font),
        ),
    )


def collections_hand_over(
    units: Callable[[], CollectionsUnitOfWork], clock: Clock
) -> Callable[[str, str, str], int]:
    """A task's ``hand_to_collections`` outcome, through collections' own hand-over."""

    def hand_over(customer_id: str, actor: str, reason: str) -> int:
        handed = cases.hand_over(
            units, customer_id, assignee=None, actor=actor, reason=reason, clock=clock
        )
        return len(handed)

    return hand_over


def owner_phone(units: Callable[[], OriginationUnitOfWork]) -> Callable[[str], str | None]:
    """Where the bank's notices to a customer go: the phone of its latest application (the
    owner signed in with it). None for a customer that never applied online (a branch's
    term-loan borrower): the bank reaches it by letter, and the task's action says so."""

    def phone(customer_id: str) -> str | None:
        with units() as uow:
            latest = uow.applications.earlier_of_enterprise(customer_id, before=_NEVER, limit=1)
        return latest[0].applicant.phone if latest else None

    return phone


_NEVER = datetime(9999, 1, 1, tzinfo=UTC)
"""Before this instant: every application."""


def post_loan_access(
    engine: Engine, *, clock: Clock, keys: ApiKeys, cipher: FieldCipher
) -> PostLoanAccess:
    """Collections and concentration over the platform's database (the API reads the latest
    concentration evaluation; the evaluation itself runs from the CLI or the monitoring run)."""
    units = collections_units(engine, clock=clock, audit_key=keys.audit_key, cipher=cipher)
    strategies_uow = partial(StrategyUnitOfWork, engine, clock=clock, audit_key=keys.audit_key)
    return PostLoanAccess(
        units=units,
        clock=clock,
        concentration=Concentration(
            uow=units, limits=partial(active_concentration, strategies_uow), clock=clock
        ),
    )


def build_security(
    units: OriginationUnits,
    *,
    clock: Clock,
    keys: ApiKeys,
    limits: ApiLimits,
    otp_sender: OtpSender,
    hasher: PasswordHasher | None = None,
) -> Security:
    """The security services over the security tables (the API and the operator's CLI)."""
    return Security(
        uow_factory=units.writer,
        clock=clock,
        config=SecurityConfig(
            jwt_secret=keys.jwt_secret,
            # From the key ring's stable root: a data-key rotation voids no code in flight.
            otp_key=(keys.cipher or FieldCipher(keys.data_key)).derive("otp"),
            token_lifetime=limits.token_lifetime,
            login_delay=DelayPolicy(
                free_failures=limits.login.max_events,
                base_delay=limits.login_delay_base,
                max_delay=max(limits.login.window, limits.login_delay_base),
                forget_after=timedelta(hours=24),
            ),
            otp_send_limit=limits.otp_send,
            otp_client_send_limit=limits.otp_client_send,
            otp_verify_limit=limits.otp_verify,
            jwt_previous_secrets=keys.jwt_previous_secrets,
            trusted_proxies=limits.trusted_proxies,
        ),
        otp_sender=otp_sender,
        hasher=hasher,
        counter=SqlWindowCounter(units.writer),
        reader_factory=units.reader,
    )


def security_from_settings(
    engine: Engine, *, clock: Clock, settings: Settings, otp_sender: OtpSender
) -> Security:
    """The security services of a configured platform (``puhui user``, ``puhui apikey``)."""
    keys = api_keys(settings)
    units = OriginationUnits(
        engine,
        clock=clock,
        audit_key=keys.audit_key,
        cipher=keys.cipher or FieldCipher(keys.data_key),
    )
    return build_security(
        units, clock=clock, keys=keys, limits=api_limits(settings), otp_sender=otp_sender
    )


def api_keys(settings: Settings) -> ApiKeys:
    """The API's secrets from the settings."""
    return ApiKeys(
        audit_key=settings.audit_key.get_secret_value().encode(),
        data_key=settings.data_key.get_secret_value().encode(),
        jwt_secret=settings.jwt_secret.get_secret_value().encode(),
        # Any length of secret text becomes the 32-byte Ed25519 seed.
        signing_key_seed=hashlib.sha256(settings.signing_key.get_secret_value().encode()).digest(),
        jwt_previous_secrets=tuple(
            part.strip().encode()
            for part in settings.jwt_previous_secrets.get_secret_value().split(",")
            if part.strip()
        ),
        cipher=settings.field_cipher(),
    )


def api_limits(settings: Settings) -> ApiLimits:
    """Token lifetime and rate limits from the settings."""
    return ApiLimits(
        token_lifetime=timedelta(minutes=settings.token_lifetime_minutes),
        login=RateLimit(
            settings.login_max_attempts, timedelta(minutes=settings.login_window_minutes)
        ),
        otp_send=RateLimit(settings.otp_max_sends, timedelta(minutes=settings.otp_window_minutes)),
        otp_client_send=RateLimit(
            settings.otp_client_max_sends, timedelta(minutes=settings.otp_window_minutes)
        ),
        login_delay_base=timedelta(seconds=settings.login_delay_base_seconds),
        trusted_proxies=parse_networks(settings.trusted_proxies.split(",")),
        max_body_bytes=settings.max_body_bytes,
    )
