"""What ``puhui serve`` and the demo serve: the API over the configured platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

from puhui.adapters.db.audit_sealer import seal_in_background
from puhui.adapters.db.engine import checkpoint_in_background
from puhui.bootstrap.advisor import LazyPeers, strategy_limit
from puhui.bootstrap.api import (
    ApiDependencies,
    api_keys,
    api_limits,
    build_api_dependencies,
    service_calls_inline,
)
from puhui.bootstrap.container import Platform, build_platform
from puhui.bootstrap.settings import Settings
from puhui.bootstrap.wiring import (
    OriginationPorts,
    decision_history,
    model_registry,
    origination_ports,
    prosperity_source,
)
from puhui.domain.errors import Conflict
from puhui.graph.live import newest_complete
from puhui.services import strategies
from puhui.services.monitoring.ports import MonitoringUnits
from puhui.services.monitoring.tasks import set_supervisor
from puhui.services.origination.assessment import StrategyAssessor
from puhui.services.security.accounts import Security, create_user
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import SYSTEM, Role
from puhui.services.security.ports import OtpSender
from puhui.services.security.users import user_by_username


def api_dependencies(
    platform: Platform, ports: OriginationPorts, *, otp_sender: OtpSender | None = None
) -> ApiDependencies:
    """The API over a built platform and its origination ports, as a server runs it.

    One-time codes go to the log unless an SMS gateway (``otp_sender``) is given."""
    settings = platform.settings
    # A server: SQLite's WAL checkpoints run beside the requests, not inside one of them.
    checkpoint_in_background(platform.database.engine)
    # PostgreSQL: commits wake one sealing thread instead of each sealing the audit chain.
    seal_in_background(platform.database.engine, key=platform.audit_key)
    deps = build_api_dependencies(
        engine=platform.database.engine,
        clock=platform.clock,
        keys=api_keys(settings),
        assessor=ports.assessor,
        data_source=ports.data_source,
        line_opener=ports.line_opener,
        offer_bounds=ports.offer_bounds,
        otp_sender=otp_sender or LoggingOtpSender(),
        limits=api_limits(settings),
        servicing_uow_factory=platform.servicing_uow,
        servicing_reader_factory=platform.servicing_reader,
        strategies_uow_factory=platform.strategy_uow,
        model_registry=model_registry(platform),
        contract_font=settings.contract_font,
        run_inline=service_calls_inline(settings.api_service_calls, platform.database.engine),
        suspense_max_days=settings.suspense_max_days,
    )
    if isinstance(ports.assessor, StrategyAssessor):
        ports.assessor.warm_up()
    if ports.graph is not None:
        ports.graph.warm_up(platform.clock.today())
    # The API's origination checks the same graph the ports carry (and the health reports it).
    deps.origination.graph = ports.graph
    if deps.advisor is not None:
        # The owner's report: the configured strategy's limit rule, the market's peers.
        deps.advisor.strategy = strategy_limit(platform.strategy_reader, settings.strategy)
        if settings.market_dir is not None:
            deps.advisor.peers = LazyPeers(settings.market_dir)
    return replace(
        deps,
        secure_cookies=settings.cookie_secure,
        public_base_url=settings.public_base_url,
        decision_history=decision_history(platform),
        graph_folder=graph_folder(settings, platform.clock.today),
        prosperity=prosperity_source(platform),
        # Renewals are decided by the renewal mode of the active strategy version.
        loan_changes=(
            None
            if deps.loan_changes is None
            else replace(
                deps.loan_changes,
                renewal_rules=partial(
                    strategies.active_renewal_rules, platform.strategy_reader, settings.strategy
                ),
            )
        ),
    )


def graph_folder(settings: Settings, today: Callable[[], date]) -> Callable[[], Path | None] | None:
    """The newest complete snapshot under ``graph_dir`` (``PUHUI_GRAPH_DIR``) not after today's
    month, looked up on each use: a newer month is seen (and loaded in the background by the
    web's snapshot cache, which starts loading this one as the app is created)."""
    graph_dir = settings.graph_dir
    if graph_dir is None:
        return None
    return lambda: newest_complete(graph_dir, today())


def api_dependencies_from_settings(
    settings: Settings | None = None, *, platform: Platform | None = None
) -> ApiDependencies:
    """The API over the configured platform: real decisions when a market and a model are set.

    ``platform`` lets a caller that built one already (the demo, with its loaded market and
    model) serve it without loading everything again.
    """
    if platform is None:
        platform = build_platform(settings or Settings())
    return api_dependencies(platform, origination_ports(platform))


DEMO_USERS: tuple[tuple[str, Role], ...] = (
    ("admin", Role.ADMIN),
    ("approver", Role.APPROVER),
    ("approver2", Role.APPROVER),
    ("manager", Role.ACCOUNT_MANAGER),
    ("supervisor", Role.SUPERVISOR),
    ("risk", Role.RISK_OFFICER),
    ("risk2", Role.RISK_OFFICER),
    ("ops", Role.OPERATIONS),
    ("ops2", Role.OPERATIONS),
    ("auditor", Role.AUDITOR),
)
"""One staff user per role, two where four eyes need a second person (approvals, strategies,
refunds from suspense)."""


DEMO_TEAM: tuple[tuple[str, str], ...] = (("manager", "supervisor"),)
"""Each demo account manager with their supervisor on record: the console's supervisor assigns
them post-loan tasks, and their overdue tasks escalate to the supervisor."""


def record_demo_team(security: Security, units: MonitoringUnits) -> None:
    """Record ``DEMO_TEAM`` (dev only; recording it again changes nothing but the audit)."""
    for manager, lead in DEMO_TEAM:
        set_supervisor(
            units,
            actor=SYSTEM,
            user_id=user_by_username(security, manager).user_id,
            supervisor_id=user_by_username(security, lead).user_id,
        )


def seed_demo_users(
    security: Security, *, password_for: Callable[[str], str]
) -> list[tuple[str, Role, str | None]]:
    """One staff user per role (dev only): (username, role, password; None when it existed)."""
    seeded: list[tuple[str, Role, str | None]] = []
    for username, role in DEMO_USERS:
        password = password_for(username)
        try:
            create_user(security, actor=SYSTEM, username=username, password=password, role=role)
        except Conflict:
            seeded.append((username, role, None))
            continue
        seeded.append((username, role, password))
    return seeded
