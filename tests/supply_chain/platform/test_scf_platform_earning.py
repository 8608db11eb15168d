"""The discount interest of a financed voucher is earned over its days, on SQLite and
PostgreSQL: recognition runs move what was earned by a day, settlement moves the rest."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from scf_support import (
    APPROVER,
    OPS,
    SUPPLIER_USER,
    build_service,
    issued,
    onboarded,
)

from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import Conflict, InvalidDate
from puhui.domain.origination.errors import Forbidden
from puhui.services.supply_chain.use_cases import SupplyChainService

DAYS = 90


def books(service: SupplyChainService, on: dt.date) -> tuple[int, int, int]:
    """Unearned discount (1306, a credit: negative), interest income (6014) and the trial
    balance's total on ``on``."""
    with service.units() as uow:
        balance = uow.ledger.trial_balance(on)
    codes = {account.code: amount for account, amount in balance.balances_fen.items()}
    return codes.get("1306", 0), codes.get("6014", 0), sum(balance.balances_fen.values())


def share(interest: int, days: int) -> int:
    """Straight line, half-up to the fen: computed here apart from the domain's function."""
    exact = Decimal(interest) * days / DAYS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def financed(service: SupplyChainService) -> tuple[int, dt.date]:
    root = issued(service, maturity_days=DAYS)
    asked = service.request_financing(SUPPLIER_USER, voucher_id=root, key="f")
    approved = service.approve_financing(APPROVER, financing_id=asked.financing_id, key="a")
    assert approved.interest_fen is not None
    return approved.interest_fen, approved.requested_on


def test_interest_is_earned_by_month_and_the_rest_at_settlement(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    interest, financed_on = financed(service)
    assert financed_on == dt.date(2026, 3, 2)
    maturity = financed_on + dt.timedelta(days=DAYS)
    assert books(service, financed_on)[:2] == (-interest, 0)  # all unearned at financing

    clock.advance(dt.timedelta(days=30))  # 1 April: the March run
    march = service.earn_discount_interest(OPS, through=dt.date(2026, 3, 31), key="m3")
    first = share(interest, 30)  # 2 to 31 March, both counted
    assert (march.financings, march.earned_fen, len(march.entries)) == (1, first, 1)
    assert books(service, dt.date(2026, 3, 31)) == (-(interest - first), -first, 0)
    assert service.earn_discount_interest(OPS, through=dt.date(2026, 3, 31), key="m3") == march
    rerun = service.earn_discount_interest(OPS, through=dt.date(2026, 3, 31), key="m3-again")
    assert (rerun.financings, rerun.earned_fen, rerun.entries) == (0, 0, ())

    clock.advance(dt.timedelta(days=30))  # 1 May: the April run
    april = service.earn_discount_interest(OPS, through=dt.date(2026, 4, 30), key="m4")
    assert april.earned_fen == share(interest, 60) - first
    unearned, income, total = books(service, dt.date(2026, 4, 30))
    assert (unearned, income, total) == (-(interest - share(interest, 60)), -share(interest, 60), 0)

    clock.advance(maturity - clock.today())
    run = service.settle_due(OPS, on=maturity, key="settle")
    assert run.to_bank_fen > 0
    assert books(service, maturity) == (0, -interest, 0)  # the rest earned at settlement
    after = service.earn_discount_interest(OPS, through=maturity, key="late")
    assert after.earned_fen == 0  # a settled voucher earns nothing more


def test_a_run_for_a_day_to_come_or_by_an_applicant_is_refused(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    interest, financed_on = financed(service)
    with pytest.raises(InvalidDate):
        service.earn_discount_interest(
            OPS, through=clock.today() + dt.timedelta(days=1), key="soon"
        )
    with pytest.raises(Forbidden):
        service.earn_discount_interest(SUPPLIER_USER, through=clock.today(), key="me")
    assert books(service, financed_on)[:2] == (-interest, 0)
    today = service.earn_discount_interest(OPS, through=clock.today(), key="today")
    assert today.earned_fen == share(interest, 1)  # the financing day itself is counted


def test_one_run_earns_many_financings_each_by_its_own_share(
    platform: Platform, clock: FixedClock
) -> None:
    """Several financings in one run chunk (PostgreSQL sets them in one statement)."""
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=DAYS)
    parts = [500_000_00, 300_000_00, 200_000_00]
    split = service.split_voucher(SUPPLIER_USER, voucher_id=root, parts=parts, key="s")
    interests: dict[str, int] = {}
    for n, child in enumerate(split.children):
        asked = service.request_financing(SUPPLIER_USER, voucher_id=child.voucher_id, key=f"f{n}")
        approved = service.approve_financing(APPROVER, financing_id=asked.financing_id, key=f"a{n}")
        assert approved.interest_fen is not None
        interests[asked.financing_id] = approved.interest_fen
    clock.advance(dt.timedelta(days=30))
    run = service.earn_discount_interest(OPS, through=dt.date(2026, 3, 31), key="m3")
    expected = {f: share(interest, 30) for f, interest in interests.items()}
    assert (run.financings, run.earned_fen) == (3, sum(expected.values()))
    with service.units() as uow:
        earned = {
            u.financing_id: u.earned_fen
            for u in uow.supply_chain.unearned([c.voucher_id for c in split.children])
        }
    assert earned == expected
    assert books(service, dt.date(2026, 3, 31))[1:] == (-sum(expected.values()), 0)


def test_an_earned_amount_changed_under_the_run_is_a_conflict_and_writes_nothing(
    platform: Platform, clock: FixedClock
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service, maturity_days=DAYS)
    split = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[600_00, 999_400_00], key="s"
    )
    ids = []
    for n, child in enumerate(split.children):
        asked = service.request_financing(SUPPLIER_USER, voucher_id=child.voucher_id, key=f"f{n}")
        service.approve_financing(APPROVER, financing_id=asked.financing_id, key=f"a{n}")
        ids.append(asked.financing_id)
    first, second = sorted(ids)
    with service.units() as uow:  # the second reads 7 earned where the caller read 0
        with pytest.raises(Conflict) as raised:
            uow.supply_chain.set_earned([(first, 0, 5), (second, 7, 9)])
        assert raised.value.details == {"financing": second}
        uow.rollback()
    with service.units() as uow:
        unearned = uow.supply_chain.unearned([c.voucher_id for c in split.children])
    assert [u.earned_fen for u in unearned] == [0, 0]
