"""On a generated market with the shipped strategy: a medium firm onboarded as a core, a
payable matched to its real invoices, a voucher passed to a real supplier of its holder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from scf_support import APPROVER, RISK, Principal

from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.adapters.sources.market import MarketDataSource
from puhui.adapters.sources.supply_chain import DataSourceEnterprises
from puhui.bootstrap import Platform
from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.domain.clock import FixedClock
from puhui.domain.origination.consent import DataScope
from puhui.services.security.permissions import Role
from puhui.services.supply_chain.ports import FacilityDeclined, NotASupplier
from puhui.services.supply_chain.use_cases import SupplyChainService

AS_OF = dt.date(2025, 1, 15)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.market.generate import generate_market
    from puhui.market.params import MarketParams

    out = tmp_path_factory.mktemp("scf-platform-market") / "m"
    generate_market(
        MarketParams(enterprises=2_000, months=24, start=dt.date(2023, 1, 1), seed=11), out
    )
    return out


def _own_suppliers(data: MarketDataSource, holder: str) -> pl.DataFrame:
    """Who invoiced ``holder`` in 2024 (months before January 2025)."""
    sold = data.pull(holder, DataScope.INVOICE, as_of=AS_OF)["tables"]["invoices"]
    return sold.filter(
        (pl.col("buyer_uscc") == holder)
        & (pl.col("seller_uscc") != holder)
        & (pl.col("month") >= dt.date(2024, 1, 1))
        & (pl.col("amount_fen") > 0)
    )


def test_a_market_core_issues_against_its_invoices(platform: Platform, market: Path) -> None:
    clock = FixedClock(dt.datetime(2025, 1, 15, 2, 0, tzinfo=dt.UTC))
    data = MarketDataSource(market)
    policy = SupplyChainPolicy.load()
    service = SupplyChainService(
        units=lambda: SupplyChainUnitOfWork(
            platform.database.engine, clock=clock, audit_key=platform.audit_key
        ),
        clock=clock,
        source=DataSourceEnterprises(data, clock),
        policy=policy,
    )
    medium = [
        row["uscc"] for row in data.registry.iter_rows(named=True) if row["size_band"] == "medium"
    ]
    core = None
    for uscc in medium:
        try:
            facility = service.onboard_core(
                RISK, uscc=uscc, requested_fen=10**10, as_of=AS_OF, key=f"on-{uscc}"
            )
        except FacilityDeclined:
            continue
        invoices = data.pull(uscc, DataScope.INVOICE, as_of=AS_OF)["tables"]["invoices"]
        bought = invoices.filter(
            (pl.col("buyer_uscc") == uscc)
            & (pl.col("month") == dt.date(2024, 12, 1))
            & (pl.col("amount_fen") > 0)
            & (pl.col("amount_fen") <= facility.limit_fen)
        ).sort("seller_uscc")
        for candidate in bought.iter_rows(named=True):
            if _own_suppliers(data, candidate["seller_uscc"]).height:
                core, row = uscc, candidate
                break
        if core is not None:
            break
    assert core is not None, "no approved market core with a December supplier of its own"
    supplier, amount = row["seller_uscc"], int(row["amount_fen"])
    assert facility.grade is not None
    assert facility.discount_rate == policy.discount_rate(facility.grade, as_of=AS_OF)
    core_user = Principal("mk-core", Role.APPLICANT)
    holder_user = Principal("mk-supp", Role.APPLICANT)
    service.name_partner(RISK, core=core, partner_uscc=supplier, relation="supplier", key="n")
    service.bind_user(RISK, user_id=core_user.user_id, uscc=core)
    service.bind_user(RISK, user_id=holder_user.user_id, uscc=supplier)
    payable = service.confirm_payable(
        core_user,
        core=core,
        supplier=supplier,
        invoice_month=dt.date(2024, 12, 1),
        amount_fen=amount,
        key="pay",
    )
    voucher = service.issue_voucher(
        core_user,
        core=core,
        payable_id=payable.payable_id,
        maturity=AS_OF + dt.timedelta(days=min(90, facility.term_days)),
        key="issue",
    )
    service.accept_voucher(holder_user, voucher_id=voucher.voucher_id, key="accept")
    own = _own_suppliers(data, supplier)
    strangers = [u for u in medium if u not in set(own["seller_uscc"]) and u != supplier]
    with pytest.raises(NotASupplier):
        service.transfer_voucher(
            holder_user, voucher_id=voucher.voucher_id, to=strangers[0], key="x"
        )
    to = sorted(own["seller_uscc"].unique())[0]
    moved = service.transfer_voucher(holder_user, voucher_id=voucher.voucher_id, to=to, key="t")
    assert (moved.holder, moved.tier) == (to, 2)
    service.bind_user(RISK, user_id="mk-tier2", uscc=to)
    holder_user = Principal("mk-tier2", Role.APPLICANT)
    asked = service.request_financing(holder_user, voucher_id=voucher.voucher_id, key="f")
    done = service.approve_financing(APPROVER, financing_id=asked.financing_id, key="a")
    assert done.annual_rate == policy.discount_rate(facility.grade, as_of=AS_OF)
    assert done.fee_rate == policy.fee_rate(facility.grade)
    assert done.proceeds_fen == amount - (done.interest_fen or 0) - (done.fee_fen or 0)
