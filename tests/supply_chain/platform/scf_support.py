"""An enterprise source and a facility policy in memory, and a service on a test platform."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Principal, Role
from puhui.services.supply_chain.ports import EnterpriseInfo
from puhui.services.supply_chain.use_cases import SupplyChainService

CORE = "91330100MA2CORE01X"
SUPPLIER = "91330100MA2SUPP01X"
TIER2 = "91330100MA2TIER02X"
TIER3 = "91330100MA2TIER03X"
STRANGER = "91330100MA2STRAN0X"
LARGE = "91330100MA2LARGE0X"
DECLINED = "91330100MA2DECLN0X"
MONTH = dt.date(2026, 1, 1)
INVOICED_FEN = 1_000_000_00
RISK = Principal(user_id="risk-1", role=Role.RISK_OFFICER)
APPROVER = Principal(user_id="appr-1", role=Role.APPROVER)
OPS = Principal(user_id="ops-1", role=Role.OPERATIONS)
CORE_USER = Principal(user_id="u-core", role=Role.APPLICANT)
SUPPLIER_USER = Principal(user_id="u-supp", role=Role.APPLICANT)
TIER2_USER = Principal(user_id="u-tier2", role=Role.APPLICANT)


@dataclass
class FakeSource:
    """Registry and invoice aggregates, as the market would serve them."""

    sizes: dict[str, str] = field(
        default_factory=lambda: {
            CORE: "medium",
            SUPPLIER: "small",
            TIER2: "micro",
            TIER3: "micro",
            STRANGER: "micro",
            LARGE: "large",
            DECLINED: "medium",
        }
    )
    invoices: dict[tuple[str, str, dt.date], int] = field(
        default_factory=lambda: {
            (SUPPLIER, CORE, MONTH): INVOICED_FEN,
            (SUPPLIER, CORE, dt.date(2026, 2, 1)): 500_000_00,
            (SUPPLIER, CORE, dt.date(2026, 3, 1)): 250_000_00,
            (TIER2, SUPPLIER, dt.date(2025, 11, 1)): 300_000_00,
            (TIER3, TIER2, dt.date(2025, 12, 1)): 200_000_00,
            (STRANGER, SUPPLIER, dt.date(2024, 1, 1)): 100_000_00,
        }
    )

    def enterprise(self, uscc: str) -> EnterpriseInfo | None:
        size = self.sizes.get(uscc)
        return None if size is None else EnterpriseInfo(uscc, None, size)

    def core_facts(self, uscc: str, *, as_of: dt.date, requested_fen: int) -> Any:
        return {"uscc": uscc, "requested_fen": requested_fen}

    def invoice_amount(self, seller: str, buyer: str, month: dt.date) -> int | None:
        return self.invoices.get((seller, buyer, month))

    def sold_to(self, seller: str, buyer: str, *, since: dt.date, before: dt.date) -> bool:
        return any(s == seller and b == buyer and since <= m < before for s, b, m in self.invoices)


@dataclass(frozen=True)
class Decision:
    approved: bool
    grade: str | None
    limit_fen: int
    discount_annual_rate: Decimal | None
    fee_rate: Decimal
    term_days: int
    reasons: tuple[str, ...]
    strategy_version: str


class FakePolicy:
    """Approves every core but DECLINED, at the limit requested capped at 50 million yuan."""

    def decide_facility(self, facts: Any) -> Decision:
        if facts["uscc"] == DECLINED:
            return Decision(False, None, 0, None, Decimal(0), 0, ("court_cases_open",), "t-1")
        limit = min(facts["requested_fen"], 50_000_000_00)
        return Decision(True, "A", limit, Decimal("0.036"), Decimal("0.001"), 360, (), "t-1")

    def discount_rate(self, grade: str) -> Decimal:
        return Decimal("0.036")

    def fee_rate(self, grade: str) -> Decimal:
        return Decimal("0.001")


def build_service(platform: Platform, clock: FixedClock) -> SupplyChainService:
    def units() -> SupplyChainUnitOfWork:
        return SupplyChainUnitOfWork(
            platform.database.engine, clock=clock, audit_key=platform.audit_key
        )

    return SupplyChainService(units=units, clock=clock, source=FakeSource(), policy=FakePolicy())


def onboarded(service: SupplyChainService, *, limit_fen: int = 5_000_000_00) -> None:
    """CORE onboarded with SUPPLIER named; users bound to CORE, SUPPLIER and TIER2."""
    service.onboard_core(
        RISK, uscc=CORE, requested_fen=limit_fen, as_of=service.clock.today(), key="onboard"
    )
    service.name_partner(RISK, core=CORE, partner_uscc=SUPPLIER, relation="supplier", key="p1")
    service.bind_user(RISK, user_id=CORE_USER.user_id, uscc=CORE)
    service.bind_user(RISK, user_id=SUPPLIER_USER.user_id, uscc=SUPPLIER)
    service.bind_user(RISK, user_id=TIER2_USER.user_id, uscc=TIER2)


def issued(service: SupplyChainService, *, maturity_days: int = 90, accept: bool = True) -> str:
    """A voucher for the January invoices, accepted by SUPPLIER; its id."""
    payable = service.confirm_payable(
        CORE_USER,
        core=CORE,
        supplier=SUPPLIER,
        invoice_month=MONTH,
        amount_fen=INVOICED_FEN,
        key="payable-jan",
    )
    voucher = service.issue_voucher(
        CORE_USER,
        core=CORE,
        payable_id=payable.payable_id,
        maturity=service.clock.today() + dt.timedelta(days=maturity_days),
        key="issue-jan",
    )
    if accept:
        service.accept_voucher(SUPPLIER_USER, voucher_id=voucher.voucher_id, key="accept-jan")
    return voucher.voucher_id
