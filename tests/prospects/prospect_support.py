"""Building blocks of the prospect tests: rows of a run, managers, a platform's access."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from puhui.bootstrap import Platform
from puhui.bootstrap.api import security_from_settings
from puhui.domain.prospects import ProspectRow
from puhui.services.prospects.offers import PRE_CONSENT_SOURCES
from puhui.services.prospects.ports import RunMeta
from puhui.services.security import users
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import SYSTEM, Principal, Role

MONTH = date(2026, 2, 1)
META = RunMeta(sources=PRE_CONSENT_SOURCES, strategy_version="sme-v1", model_version="need-1")
PHONE = "13812345678"


def uscc(n: int) -> str:
    return f"91330100MA{n:08d}"


def row(n: int, *, region: str = "330102", month: date = MONTH, **changes: object) -> ProspectRow:
    base = ProspectRow(
        uscc=uscc(n),
        month=month,
        need_probability=0.8,
        need_amount_fen=50_000_000 + n,
        need_month=date(month.year, month.month + 1, 1),
        need_duration_months=6,
        limit_fen=30_000_000,
        annual_rate=Decimal("0.0485"),
        valid_until=date(2026, 4, 30),
        grade="B",
        priority=n + 1,
        region_code=region,
        industry_group="manufacturing",
        park=None,
        is_customer=False,
        reasons=("need_high",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def managers(platform: Platform, *names: str) -> list[Principal]:
    """Account managers created through the security services (sorted by user id)."""
    security = security_from_settings(
        platform.database.engine,
        clock=platform.clock,
        settings=platform.settings,
        otp_sender=LoggingOtpSender(),
    )
    made = [
        users.create_user(
            security,
            actor=SYSTEM,
            username=n,
            password="a long password 1",
            role=Role.ACCOUNT_MANAGER,
        )
        for n in names
    ]
    return sorted(
        (Principal(user_id=u.user_id, role=Role.ACCOUNT_MANAGER) for u in made),
        key=lambda p: p.user_id,
    )
