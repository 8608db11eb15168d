"""Partner lending on the platform (SQLite and PostgreSQL): links, settlement, files, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from partner_support import facilitation, joint
from sqlalchemy import func, select

from puhui.adapters.db.partners.tables import partner_loans
from puhui.adapters.db.partners.unit_of_work import PartnerUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.bootstrap.partners import partner_service
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.ledger import Account
from puhui.domain.lending.product import (
    EarlyRepaymentMode,
    LoanProduct,
    RepaymentMethod,
)
from puhui.domain.partners.agreements import ConcentrationLimits
from puhui.domain.partners.errors import AgreementNotActive, ConcentrationLimitBreached
from puhui.domain.partners.settlement import Component
from puhui.pipelines.eod import run_end_of_day
from puhui.services.partners.use_cases import DecisionAlreadyRecorded, PartnerService
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import recover, repay, reverse_repayment, write_off
from puhui.services.servicing.term_loans import disburse_term_loan

START = date(2026, 1, 2)
REPAID = date(2026, 1, 20)
WRITTEN_OFF = date(2026, 2, 10)
RECOVERED = date(2026, 2, 20)
Factory = Callable[[], ServicingUnitOfWork]


@pytest.fixture
def uow(platform: Platform) -> Factory:
    p = platform
    return lambda: ServicingUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)


@pytest.fixture
def product(uow: Factory) -> ProductId:
    term = LoanProduct(
        code="TERM-EI",
        name="term",
        method=RepaymentMethod.EQUAL_INSTALMENT,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=36,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
        early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
    )
    return create_product(uow, term, actor="ops")


@pytest.fixture
def service(platform: Platform) -> PartnerService:
    return partner_service(platform)


def _disburse(uow: Factory, product: ProductId, key: str, principal_fen: int) -> LoanId:
    result = disburse_term_loan(
        uow,
        enterprise_id="91350100M000100Y43",
        product_id=product,
        principal_fen=principal_fen,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=START,
        idempotency_key=key,
        actor="ops",
    )
    return LoanId(result.loan_id)


def _close_days_before(platform: Platform, first: date, day: date) -> None:
    """Run the end of day from ``first`` up to the day before ``day`` (servicing needs it)."""
    store = SqlEndOfDayStore(platform.database.engine, clock=platform.clock)
    while first < day:
        run_end_of_day(store, first)
        first += timedelta(days=1)


def _balance(uow: Factory, account: Account, as_of: date) -> int:
    return trial_balance(uow, as_of=as_of).balances_fen.get(account, 0)


def test_joint_loan_through_its_life_settles_each_party_and_the_books_balance(
    platform: Platform, uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    service.activate("AG-JL-1", actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_01)
    service.link_loan("AG-JL-1", loan, channel="partner-app", on=START, actor="ops")

    [day1] = service.settle(START, actor="ops")
    assert [(r.component, r.partner_fen, r.bank_fen) for r in day1.rows] == [
        (Component.PRINCIPAL_FUNDED, 30_000_00, 70_000_01)  # 3,000,000.3 fen -> 3,000,000
    ]
    assert day1.entries_posted == 1
    assert service.settle(START, actor="ops")[0].replayed

    _close_days_before(platform, START, REPAID)
    repay(uow, loan, amount_fen=10_000_00, on=REPAID, idempotency_key="pay-1", actor="ops")
    [day2] = service.settle(REPAID, actor="ops")
    by = {r.component: r for r in day2.rows}
    assert by[Component.PRINCIPAL_REPAID].total_fen + by[Component.INTEREST].total_fen == 10_000_00
    for row in day2.rows:
        assert row.partner_fen + row.bank_fen == row.total_fen
        assert row.partner_fen == int(
            (Decimal(row.total_fen) * Decimal("0.3")).quantize(Decimal(1), "ROUND_HALF_UP")
        )

    _close_days_before(platform, REPAID, WRITTEN_OFF)
    write_off(uow, loan, on=WRITTEN_OFF, idempotency_key="wo-1", actor="ops", reason="fraud")
    service.settle(WRITTEN_OFF, actor="ops")
    _close_days_before(platform, WRITTEN_OFF, RECOVERED)
    recover(uow, loan, amount_fen=1_000_00, on=RECOVERED, idempotency_key="rec-1", actor="ops")
    service.settle(RECOVERED, actor="ops")

    position = service.position("AG-JL-1")
    assert position.recoveries_fen == 300_00
    assert position.principal_outstanding_fen == 0  # repaid or written off, nothing left
    assert position.losses_fen == 30_000_00 - position.principal_repaid_fen
    assert trial_balance(uow, as_of=RECOVERED).balanced
    assert _balance(uow, Account.PARTNER_FUNDING, RECOVERED) == 0
    assert _balance(uow, Account.PARTNER_SETTLEMENT_PAYABLE, RECOVERED) == -(
        position.principal_repaid_fen + position.interest_fen + position.recoveries_fen
    )
    assert _balance(uow, Account.PARTNER_LOSS_SHARE, RECOVERED) == -position.losses_fen


def test_settlement_file_reconciles_and_names_every_difference(
    platform: Platform, uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    service.activate("AG-JL-1", actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_00)
    service.link_loan("AG-JL-1", loan, channel="partner-app", on=START, actor="ops")
    _close_days_before(platform, START, REPAID)
    repay(uow, loan, amount_fen=10_000_00, on=REPAID, idempotency_key="pay-1", actor="ops")
    service.settle(REPAID, actor="ops")
    text = service.settlement_file("AG-JL-1", REPAID)
    assert len(text.splitlines()) == 3  # header, principal_repaid, interest
    assert service.reconcile("AG-JL-1", REPAID, text) == []
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[5] = "1.00"
    lines[1] = ",".join(cells)
    [difference] = service.reconcile("AG-JL-1", REPAID, "\n".join(lines))
    assert difference.loan_id == loan
    assert difference.theirs_fen == 100
    assert difference.ours_fen != 100


def test_a_draw_over_the_concentration_limit_is_refused_and_nothing_changes(
    platform: Platform, uow: Factory, product: ProductId, service: PartnerService
) -> None:
    limited = replace(joint("0.3"), limits=ConcentrationLimits(max_outstanding_fen=150_000_00))
    service.create_agreement(limited, actor="ops")
    service.activate("AG-JL-1", actor="ops")
    first = _disburse(uow, product, "loan-1", 100_000_00)
    second = _disburse(uow, product, "loan-2", 60_000_00)
    service.link_loan("AG-JL-1", first, channel="app", on=START, actor="ops")
    with pytest.raises(ConcentrationLimitBreached):
        service.link_loan("AG-JL-1", second, channel="app", on=START, actor="ops")
    with platform.database.engine.connect() as connection:
        linked = connection.execute(select(func.count()).select_from(partner_loans)).scalar_one()
    assert linked == 1


def test_a_draft_agreement_takes_no_loans(
    uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_00)
    with pytest.raises(AgreementNotActive):
        service.link_loan("AG-JL-1", loan, channel="app", on=START, actor="ops")


def test_facilitation_fees_accrue_per_loan_and_settle_monthly_through_the_ledger(
    uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(facilitation(per_loan_fen=500_00), actor="ops")
    service.activate("AG-FC-1", actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_00)
    service.link_loan("AG-FC-1", loan, channel="channel-co", on=START, actor="ops")
    [report] = service.settle(START, actor="ops")
    assert [(r.component, r.partner_fen) for r in report.rows] == [(Component.FEE, 500_00)]
    assert _balance(uow, Account.FACILITATION_FEE_PAYABLE, START) == -500_00
    paid = service.settle_fees("AG-FC-1", month="2026-01", actor="ops")
    assert paid.amount_fen == 500_00
    assert service.settle_fees("AG-FC-1", month="2026-01", actor="ops").replayed
    assert _balance(uow, Account.FACILITATION_FEE_PAYABLE, date(2026, 1, 31)) == 0
    assert _balance(uow, Account.FACILITATION_FEE_EXPENSE, date(2026, 1, 31)) == 500_00


def test_the_partner_decision_is_recorded_once(service: PartnerService) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    service.activate("AG-JL-1", actor="ops")
    made = service.record_decision(
        "AG-JL-1", "app_1", decision="approve", reason="score 710", actor="partner"
    )
    again = service.record_decision(
        "AG-JL-1", "app_1", decision="approve", reason="score 710", actor="partner"
    )
    assert again.decided_at == made.decided_at
    with pytest.raises(DecisionAlreadyRecorded):
        service.record_decision("AG-JL-1", "app_1", decision="decline", reason="", actor="p")


def test_an_agreement_that_would_start_over_its_limit_is_refused_at_activation(
    uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    service.activate("AG-JL-1", actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_00)
    service.link_loan("AG-JL-1", loan, channel="app", on=START, actor="ops")
    tight = replace(
        joint("0.3"),
        agreement_id="AG-JL-2",
        limits=ConcentrationLimits(max_outstanding_fen=50_000_00),
    )
    service.create_agreement(tight, actor="ops")
    with pytest.raises(ConcentrationLimitBreached):
        service.activate("AG-JL-2", actor="ops")
    assert service.agreement("AG-JL-2").status.value == "draft"


def test_a_repayment_reversed_the_same_day_leaves_the_partner_nothing(
    platform: Platform, uow: Factory, product: ProductId, service: PartnerService
) -> None:
    service.create_agreement(joint("0.3"), actor="ops")
    service.activate("AG-JL-1", actor="ops")
    loan = _disburse(uow, product, "loan-1", 100_000_00)
    service.link_loan("AG-JL-1", loan, channel="app", on=START, actor="ops")
    due = date(2026, 2, 2)  # the first instalment, billed: a repayment that can be reversed
    _close_days_before(platform, START, due)
    repay(uow, loan, amount_fen=8_530_99, on=due, idempotency_key="pay-1", actor="ops")
    reverse_repayment(uow, "pay-1", idempotency_key="undo-1", actor="ops", reason="wrong loan")
    with PartnerUnitOfWork(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key
    ) as partner_uow:
        seen = partner_uow.partners.loan_entries_on(loan, due)
    assert sorted(e.reversal for e in seen) == [False, True]  # both are read, and cancel out
    [report] = service.settle(due, actor="ops")
    assert report.rows == []
    assert _balance(uow, Account.PARTNER_SETTLEMENT_PAYABLE, due) == 0
    assert trial_balance(uow, as_of=due).balanced
