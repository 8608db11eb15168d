"""Dealer lines end to end: sized from purchases, opened in servicing, drawn to pay the core."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dealer_support import CORE, CORE_ACCOUNT, DEALER, TODAY, WEAK_DEALER, YUAN, TinyMarket
from sqlalchemy import inspect, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import IdempotencyConflict, InvalidInput
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.origination.errors import Forbidden
from puhui.pipelines.eod import run_end_of_day
from puhui.services.dealers import (
    CoreBacking,
    DealerAccess,
    DealerLineDeclined,
    DealerNotNamed,
    NotADealerLine,
    draw_to_core,
    open_dealer_line,
    size_dealer_line,
)
from puhui.services.origination.line_opening import ONLINE_CREDIT_PRODUCT, ensure_product
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import draw, open_credit_line

RISK = Principal(user_id="usr_risk", role=Role.RISK_OFFICER)
OPS = Principal(user_id="usr_ops", role=Role.OPERATIONS)
OWNER = Principal(user_id="usr_owner", role=Role.APPLICANT)


@pytest.fixture
def access(platform: Platform) -> DealerAccess:
    return DealerAccess(platform.servicing_uow, TinyMarket(), lambda: TODAY)


def test_sizing_reads_the_purchases_and_the_commitment(access: DealerAccess) -> None:
    sizing = size_dealer_line(
        access, actor=RISK, core_uscc=CORE, dealer_uscc=DEALER, commitment="guarantee"
    )
    assert sizing.core_grade == "A"
    assert sizing.core is not None
    assert sizing.core.approved
    facts = sizing.facts
    assert facts.first_month == date(2025, 3, 1)
    assert facts.purchases_12m_fen == 1_800_000 * YUAN
    decision = sizing.decision
    assert decision.peak_average_fen == 300_000 * YUAN  # Oct-Dec
    assert decision.seasonal_peak_month == 12
    # 2.0 x 300,000 = 600,000, capped at 30 % of 1.8 M
    assert decision.limit_fen == 540_000 * YUAN
    assert decision.annual_rate == Decimal("0.0420")  # LPR 3.00 + A 0.20 + guarantee 1.00


def test_open_and_draw_to_the_core_with_a_balanced_ledger(
    access: DealerAccess, platform: Platform, clock: FixedClock
) -> None:
    line, _ = open_dealer_line(
        access,
        actor=RISK,
        core_uscc=CORE,
        dealer_uscc=DEALER,
        commitment="guarantee",
        idempotency_key="open-1",
    )
    assert (line.limit_fen, line.annual_rate) == (540_000 * YUAN, Decimal("0.0420"))
    assert line.expiry_date == date(2027, 3, 2)
    again, _ = open_dealer_line(
        access,
        actor=RISK,
        core_uscc=CORE,
        dealer_uscc=DEALER,
        commitment="guarantee",
        idempotency_key="open-1",
    )
    assert again.line_id == line.line_id  # replayed, not a second line
    with platform.servicing_uow() as uow:
        stored = uow.lines.get(CreditLineId(line.line_id))
        assert stored is not None
        product = uow.products.get(stored.product_id)
    assert stored.enterprise_id == DEALER  # the dealer owes the line
    assert product is not None
    assert product.product.code == f"SCF-DEALER-{CORE}"

    maturity = TODAY + timedelta(days=90)
    paid = draw_to_core(
        access,
        actor=OPS,
        line_id=line.line_id,
        amount_fen=200_000 * YUAN,
        maturity_date=maturity,
        idempotency_key="draw-1",
    )
    assert (paid.payee, paid.payee_account) == (CORE, CORE_ACCOUNT)
    assert paid.draw.payee == CORE
    assert paid.draw.available_fen == 340_000 * YUAN
    replay = draw_to_core(
        access,
        actor=OPS,
        line_id=line.line_id,
        amount_fen=200_000 * YUAN,
        maturity_date=maturity,
        idempotency_key="draw-1",
    )
    assert replay.draw.replayed
    assert replay.draw.receipt_id == paid.draw.receipt_id
    with pytest.raises(IdempotencyConflict):
        draw_to_core(
            access,
            actor=OPS,
            line_id=line.line_id,
            amount_fen=1_000 * YUAN,
            maturity_date=maturity,
            idempotency_key="draw-1",
        )

    with platform.servicing_uow() as uow:
        receipt = uow.loans.get(ReceiptId(paid.draw.receipt_id))
        drawn = uow.lines.get(CreditLineId(line.line_id))
    assert receipt is not None
    assert drawn is not None
    assert receipt.payee == CORE
    assert receipt.enterprise_id == DEALER
    assert receipt.outstanding_principal_fen == 200_000 * YUAN
    assert drawn.drawn_fen == 200_000 * YUAN
    with platform.database.engine.connect() as connection:
        narrative = connection.execute(
            text("SELECT description FROM journal_entries WHERE idempotency_key LIKE 'draw:%'")
        ).scalar_one()
    assert f"paid to {CORE}" in narrative

    # The dealer's receipt is an ordinary one: the end of day accrues it, the ledger balances.
    run_end_of_day(SqlEndOfDayStore(platform.database.engine, clock=clock), TODAY)
    balance = trial_balance(platform.servicing_uow, as_of=TODAY)
    assert balance.balanced
    assert balance.balances_fen[Account.PRINCIPAL_RECEIVABLE] == 200_000 * YUAN
    assert balance.balances_fen[Account.SETTLEMENT] == -200_000 * YUAN


def test_a_dealer_the_strategy_declines_gets_no_line(
    access: DealerAccess, platform: Platform
) -> None:
    with platform.servicing_uow() as uow:
        before = uow.table_counts()["credit_lines"]
    with pytest.raises(DealerLineDeclined) as refused:
        open_dealer_line(
            access,
            actor=RISK,
            core_uscc=CORE,
            dealer_uscc=WEAK_DEALER,
            commitment="repurchase",
            idempotency_key="open-weak",
        )
    assert refused.value.details["reasons"] == ["CURRENTLY_OVERDUE"]
    with platform.servicing_uow() as uow:
        assert uow.table_counts()["credit_lines"] == before


def test_only_staff_open_and_draw_and_bad_requests_are_refused(access: DealerAccess) -> None:
    with pytest.raises(Forbidden):
        size_dealer_line(access, actor=OWNER, core_uscc=CORE, dealer_uscc=DEALER, commitment="none")
    with pytest.raises(InvalidInput):
        size_dealer_line(
            access, actor=RISK, core_uscc=CORE, dealer_uscc=DEALER, commitment="pledge"
        )
    with pytest.raises(InvalidInput):
        size_dealer_line(access, actor=RISK, core_uscc=CORE, dealer_uscc=CORE, commitment="none")


def test_an_ordinary_line_is_not_drawn_to_a_core(access: DealerAccess, platform: Platform) -> None:
    product_id = ensure_product(platform.servicing_uow, ONLINE_CREDIT_PRODUCT, actor="ops")
    line_id = open_credit_line(
        platform.servicing_uow,
        enterprise_id=DEALER,
        product_id=product_id,
        limit_fen=100_000 * YUAN,
        annual_rate=Decimal("0.0435"),
        opened_on=TODAY,
        expiry_date=date(2027, 3, 1),
        actor="ops",
    )
    with pytest.raises(NotADealerLine):
        draw_to_core(
            access,
            actor=OPS,
            line_id=line_id,
            amount_fen=1_000 * YUAN,
            maturity_date=TODAY + timedelta(days=30),
            idempotency_key="draw-x",
        )


def test_a_draw_without_payee_pays_the_borrower_and_a_payee_changes_the_request(
    platform: Platform,
) -> None:
    product_id = ensure_product(platform.servicing_uow, ONLINE_CREDIT_PRODUCT, actor="ops")
    line_id = open_credit_line(
        platform.servicing_uow,
        enterprise_id=DEALER,
        product_id=product_id,
        limit_fen=100_000 * YUAN,
        annual_rate=Decimal("0.0435"),
        opened_on=TODAY,
        expiry_date=date(2027, 3, 1),
        actor="ops",
    )
    own = draw(
        platform.servicing_uow,
        line_id,
        amount_fen=1_000 * YUAN,
        on=TODAY,
        maturity_date=TODAY + timedelta(days=30),
        idempotency_key="own",
        actor="ops",
    )
    assert own.payee is None
    with platform.servicing_uow() as uow:
        receipt = uow.loans.get(ReceiptId(own.receipt_id))
    assert receipt is not None
    assert receipt.payee is None
    with pytest.raises(IdempotencyConflict):  # the same key, now to a payee: another request
        draw(
            platform.servicing_uow,
            line_id,
            amount_fen=1_000 * YUAN,
            on=TODAY,
            maturity_date=TODAY + timedelta(days=30),
            idempotency_key="own",
            actor="ops",
            payee=CORE,
        )


def test_migration_0023_adds_and_removes_the_payee_column(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0023")
        assert "payee" in {c["name"] for c in inspect(engine).get_columns("loans")}
        migrate.downgrade(engine, "0021")
        assert "payee" not in {c["name"] for c in inspect(engine).get_columns("loans")}
    finally:
        engine.dispose()


def test_with_the_core_registry_the_dealer_must_be_named_and_takes_the_facility_grade(
    platform: Platform,
) -> None:
    asked: list[tuple[str, str, str]] = []

    def registry(actor: Principal, core: str, dealer: str) -> CoreBacking:
        asked.append((actor.user_id, core, dealer))
        return CoreBacking(named=dealer == DEALER, grade="B")

    access = DealerAccess(platform.servicing_uow, TinyMarket(), lambda: TODAY, registry=registry)
    sizing = size_dealer_line(
        access, actor=RISK, core_uscc=CORE, dealer_uscc=DEALER, commitment="guarantee"
    )
    assert asked == [(RISK.user_id, CORE, DEALER)]
    assert sizing.core is None  # not graded again from the core's own data
    assert sizing.core_grade == "B"
    assert sizing.facts.core_grade == "B"
    with pytest.raises(DealerNotNamed) as refused:
        open_dealer_line(
            access,
            actor=RISK,
            core_uscc=CORE,
            dealer_uscc=WEAK_DEALER,
            commitment="guarantee",
            idempotency_key="open-unnamed",
        )
    assert refused.value.details == {"core": CORE, "dealer": WEAK_DEALER}
    with platform.servicing_uow() as uow:
        assert uow.lines.page(enterprise_id=WEAK_DEALER) == []
