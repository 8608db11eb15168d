"""A voucher's whole life through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from scf_support import (
    APPROVER,
    CORE,
    CORE_USER,
    DECLINED,
    INVOICED_FEN,
    LARGE,
    MONTH,
    OPS,
    RISK,
    STRANGER,
    SUPPLIER,
    SUPPLIER_USER,
    TIER2,
    TIER2_USER,
    TIER3,
    build_service,
    issued,
    onboarded,
)

from puhui.adapters.db.supply_chain.repository import live_sum
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import IdempotencyConflict
from puhui.domain.supply_chain import FinancingAfterMaturity, discount
from puhui.services.ports import AuditQuery
from puhui.services.supply_chain.ports import (
    CoreDefaulting,
    CoreNotEligible,
    FacilityDeclined,
    FinancingPending,
    NotBound,
    VoucherQuery,
)


def test_full_life_balances_the_books(platform: Platform, clock: FixedClock) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    split = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[600_000_00, 400_000_00], key="s1"
    )
    first, second = (c.voucher_id for c in split.children)
    moved = service.transfer_voucher(SUPPLIER_USER, voucher_id=first, to=TIER2, key="t1")
    assert (moved.holder, moved.tier, moved.previous_holders) == (TIER2, 2, (SUPPLIER,))
    asked = service.request_financing(TIER2_USER, voucher_id=first, key="f1")
    assert asked.status == "requested"
    approved = service.approve_financing(APPROVER, financing_id=asked.financing_id, key="a1")
    expected = discount(
        600_000_00,
        financed_on=clock.today(),
        maturity=clock.today() + dt.timedelta(days=90),
        annual_rate=Decimal("0.036"),
        fee_rate=Decimal("0.001"),
    )
    assert (approved.interest_fen, approved.fee_fen, approved.proceeds_fen) == (
        expected.interest_fen,
        expected.fee_fen,
        expected.proceeds_fen,
    )
    run = service.settle_due(OPS, on=clock.today() + dt.timedelta(days=90), key="settle")
    assert (run.settled, run.settled_fen, run.to_bank_fen) == (2, INVOICED_FEN, 600_000_00)
    assert run.to_holders_fen == 400_000_00
    tree = service.voucher_tree(RISK, voucher_id=second)
    assert {v.status for v in tree.vouchers} == {"split", "settled"}
    assert {s.payee for s in tree.settlements} == {"bank", SUPPLIER}
    assert [t.to_uscc for t in tree.transfers] == [TIER2]
    with service.units() as uow:
        balance = uow.ledger.trial_balance(clock.today() + dt.timedelta(days=90))
        assert sum(balance.balances_fen.values()) == 0
        income = {a.code: v for a, v in balance.balances_fen.items() if v}
        assert income["6014"] == -expected.interest_fen
        assert income["6021"] == -expected.fee_fen
        assert live_sum(uow.connection, CORE) == 0
        assert uow.supply_chain.core(CORE).outstanding_fen == 0  # type: ignore[union-attr]
    again = service.settle_due(OPS, on=clock.today() + dt.timedelta(days=90), key="settle")
    assert again == run
    with service.units() as uow:
        events = uow.audit.search(AuditQuery(action_prefix="supply_chain.", limit=100))
    actions = {e.action.removeprefix("supply_chain.") for e in events}
    assert {
        "core_onboarded",
        "partner_named",
        "user_bound",
        "payable_confirmed",
        "voucher_issued",
        "voucher_accepted",
        "voucher_split",
        "voucher_transferred",
        "financing_requested",
        "financing_approved",
        "vouchers_settled",
    } <= actions
    split_events = [e for e in events if e.action == "supply_chain.voucher_split"]
    assert [(e.entity_id, e.actor) for e in split_events] == [(root, "applicant:u-supp")]


def test_onboarding_refuses_unknown_large_and_declined(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    for uscc, error in ((STRANGER + "Z", CoreNotEligible), (LARGE, CoreNotEligible)):
        with pytest.raises(error):
            service.onboard_core(RISK, uscc=uscc[:18], requested_fen=1, as_of=MONTH, key=uscc)
    with pytest.raises(FacilityDeclined) as declined:
        service.onboard_core(RISK, uscc=DECLINED, requested_fen=100, as_of=MONTH, key="d")
    assert declined.value.details["reasons"] == ["court_cases_open"]
    assert service.list_cores(RISK) == []


def test_replay_returns_the_first_result_and_a_reused_key_is_refused(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    first = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[1, INVOICED_FEN - 1], key="k"
    )
    again = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[1, INVOICED_FEN - 1], key="k"
    )
    assert again == first
    with pytest.raises(IdempotencyConflict):
        service.split_voucher(SUPPLIER_USER, voucher_id=root, parts=[2, INVOICED_FEN - 2], key="k")
    assert len(service.list_vouchers(RISK, VoucherQuery())) == 3


def test_a_retry_whose_work_would_succeed_again_is_replayed_and_changes_nothing(
    platform: Platform, clock: FixedClock
) -> None:
    # Naming a partner twice succeeds (the second changes nothing), so the retry's work runs
    # to the end before its key is found taken: it must be rolled back, not committed.
    service = build_service(platform, clock)
    onboarded(service)
    first = service.name_partner(RISK, core=CORE, partner_uscc=TIER2, relation="supplier", key="n")
    with service.units() as uow:
        before = uow.table_counts()
    again = service.name_partner(RISK, core=CORE, partner_uscc=TIER2, relation="supplier", key="n")
    assert again == first
    with pytest.raises(IdempotencyConflict):
        service.name_partner(RISK, core=CORE, partner_uscc=TIER3, relation="supplier", key="n")
    with service.units() as uow:
        assert uow.table_counts() == before
    assert TIER3 not in {p.partner for p in service.partners(RISK, core=CORE)}


def test_enterprise_users_act_only_for_their_enterprise(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    with pytest.raises(NotBound):
        service.transfer_voucher(TIER2_USER, voucher_id=root, to=TIER3, key="x")
    with pytest.raises(NotBound):
        service.request_financing(CORE_USER, voucher_id=root, key="y")
    mine = service.list_vouchers(TIER2_USER, VoucherQuery())
    assert mine == []
    assert [v.voucher_id for v in service.list_vouchers(SUPPLIER_USER, VoucherQuery())] == [root]


def test_financing_after_maturity_changes_nothing(platform: Platform, clock: FixedClock) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=1)
    clock.advance(dt.timedelta(days=1))
    with service.units() as uow:
        before = uow.table_counts()
    with pytest.raises(FinancingAfterMaturity):
        service.request_financing(SUPPLIER_USER, voucher_id=root, key="late")
    with service.units() as uow:
        assert uow.table_counts() == before


def test_a_core_that_does_not_pay_goes_overdue_then_pays_with_penalty(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=30)
    asked = service.request_financing(SUPPLIER_USER, voucher_id=root, key="f")
    service.approve_financing(APPROVER, financing_id=asked.financing_id, key="a")
    maturity = clock.today() + dt.timedelta(days=30)
    service.record_core_nonpayment(RISK, core=CORE, on=maturity, key="np")
    run = service.settle_due(OPS, on=maturity, key="s1")
    assert (run.settled, run.overdue, run.cores_frozen, run.alerts_raised) == (0, 1, (CORE,), 1)
    with service.units() as uow:
        assert len(uow.monitoring.open_alerts([CORE])) == 1
    assert service.voucher_tree(RISK, voucher_id=root).vouchers[0].status == "overdue"
    with pytest.raises(CoreDefaulting):
        service.unfreeze_facility(RISK, core=CORE, reason="paid?", key="u")
    service.record_core_payment(RISK, core=CORE, on=maturity + dt.timedelta(days=10), key="paid")
    later = service.settle_due(OPS, on=maturity + dt.timedelta(days=10), key="s2")
    # 1,000,000 x (3.6% x 1.5) x 10 days / 360 = 1,500.00 yuan of penalty interest.
    assert (later.settled, later.to_bank_fen, later.penalty_fen) == (1, INVOICED_FEN, 1_500_00)
    with service.units() as uow:
        assert (
            sum(uow.ledger.trial_balance(maturity + dt.timedelta(days=10)).balances_fen.values())
            == 0
        )
    assert service.unfreeze_facility(RISK, core=CORE, reason="paid", key="u2").status == "active"


def test_a_pending_financing_blocks_split_and_transfer_until_rejected(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    asked = service.request_financing(SUPPLIER_USER, voucher_id=root, key="f")
    with pytest.raises(FinancingPending):
        service.split_voucher(SUPPLIER_USER, voucher_id=root, parts=[1, INVOICED_FEN - 1], key="s")
    with pytest.raises(FinancingPending):
        service.transfer_voucher(SUPPLIER_USER, voucher_id=root, to=TIER2, key="t")
    with pytest.raises(FinancingPending):
        service.request_financing(SUPPLIER_USER, voucher_id=root, key="f2")
    service.reject_financing(APPROVER, financing_id=asked.financing_id, reason="no", key="r")
    moved = service.transfer_voucher(SUPPLIER_USER, voucher_id=root, to=TIER2, key="t2")
    assert (moved.holder, moved.financing_pending) == (TIER2, False)
    again = service.request_financing(TIER2_USER, voucher_id=root, key="f3")
    assert again.status == "requested"


def test_an_open_financing_request_lapses_when_its_voucher_is_settled(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=30)
    asked = service.request_financing(SUPPLIER_USER, voucher_id=root, key="f")
    maturity = clock.today() + dt.timedelta(days=30)
    run = service.settle_due(OPS, on=maturity, key="s1")
    # The core paid the holder (the bank never financed it): the request is closed, not queued.
    assert (run.settled, run.to_holders_fen, run.to_bank_fen) == (1, INVOICED_FEN, 0)
    assert service.financing_queue(APPROVER) == []
    tree = service.voucher_tree(RISK, voucher_id=root)
    assert (tree.vouchers[0].status, tree.vouchers[0].financing_pending) == ("settled", False)
    (closed,) = tree.financings
    assert (closed.financing_id, closed.status, closed.reason, closed.decided_on) == (
        asked.financing_id,
        "rejected",
        "matured_before_decision",
        maturity,
    )


def test_an_open_financing_request_lapses_when_the_core_does_not_pay(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=30)
    service.request_financing(SUPPLIER_USER, voucher_id=root, key="f")
    maturity = clock.today() + dt.timedelta(days=30)
    service.record_core_nonpayment(RISK, core=CORE, on=maturity, key="np")
    run = service.settle_due(OPS, on=maturity, key="s1")
    assert (run.settled, run.overdue) == (0, 1)
    assert service.financing_queue(APPROVER) == []
    tree = service.voucher_tree(RISK, voucher_id=root)
    assert (tree.vouchers[0].status, tree.vouchers[0].financing_pending) == ("overdue", False)
    assert [f.reason for f in tree.financings] == ["matured_before_decision"]
