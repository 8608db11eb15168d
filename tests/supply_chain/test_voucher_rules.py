"""The rule functions of a voucher's life: each refusal is named and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from puhui.domain.errors import PuhuiError
from puhui.domain.supply_chain import (
    BANK_PAYEE,
    Voucher,
    VoucherStatus,
    accept,
    issue_voucher,
    mark_overdue,
    plan_financing,
    plan_settlement,
    plan_split,
    plan_transfer,
)

ISSUED = date(2026, 1, 5)
MATURITY = date(2026, 7, 5)
RATE = Decimal("0.0435")


def outstanding(amount_fen: int = 1_000_000) -> Voucher:
    v = issue_voucher(
        "V1",
        core_id="CORE",
        holder_id="S1",
        amount_fen=amount_fen,
        issued_on=ISSUED,
        maturity=MATURITY,
        invoice_key="S1:CORE:2026-01",
    )
    return accept(v, by="S1", on=ISSUED)


def refused(code: str, call: object, *args: object, **kwargs: object) -> None:
    assert callable(call)
    with pytest.raises(PuhuiError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message


def test_issue_makes_a_pending_tier_one_root() -> None:
    v = issue_voucher(
        "V1", core_id="CORE", holder_id="S1", amount_fen=500, issued_on=ISSUED, maturity=MATURITY
    )
    assert v.status is VoucherStatus.PENDING
    assert (v.root_id, v.parent_id, v.tier, v.holders) == ("V1", None, 1, ("S1",))
    assert v.is_live
    assert v.is_leaf
    assert not v.is_financed


@pytest.mark.parametrize(
    ("amount", "maturity", "code"),
    [
        (0, MATURITY, "invalid_amount"),
        (-5, MATURITY, "invalid_amount"),
        (100, ISSUED, "maturity_before_issue"),
        (100, date(2026, 1, 4), "maturity_before_issue"),
    ],
)
def test_issue_refuses_bad_amounts_and_maturities(amount: int, maturity: date, code: str) -> None:
    refused(
        code,
        issue_voucher,
        "V1",
        core_id="CORE",
        holder_id="S1",
        amount_fen=amount,
        issued_on=ISSUED,
        maturity=maturity,
    )


def test_accept_only_by_the_holder_and_only_once() -> None:
    v = issue_voucher(
        "V1", core_id="CORE", holder_id="S1", amount_fen=500, issued_on=ISSUED, maturity=MATURITY
    )
    refused("not_holder", accept, v, by="S2", on=ISSUED)
    accepted = accept(v, by="S1", on=ISSUED)
    assert accepted.status is VoucherStatus.OUTSTANDING
    assert v.status is VoucherStatus.PENDING  # the input is a value, never changed
    refused("voucher_not_pending", accept, accepted, by="S1", on=ISSUED)


def test_a_pending_voucher_cannot_be_split_moved_or_financed() -> None:
    v = issue_voucher(
        "V1", core_id="CORE", holder_id="S1", amount_fen=500, issued_on=ISSUED, maturity=MATURITY
    )
    refused("voucher_not_accepted", plan_split, v, [("A", 200), ("B", 300)], by="S1", on=ISSUED)
    refused("voucher_not_accepted", plan_transfer, v, by="S1", to="S2", on=ISSUED)
    refused(
        "voucher_not_accepted",
        plan_financing,
        v,
        by="S1",
        on=ISSUED,
        annual_rate=RATE,
        fee_rate=Decimal(0),
    )


def test_split_retires_the_parent_into_children_summing_exactly() -> None:
    v = outstanding()
    on = date(2026, 2, 1)
    parent, children = plan_split(
        v, [("A", 250_000), ("B", 700_000), ("C", 50_000)], by="S1", on=on
    )
    assert parent.status is VoucherStatus.SPLIT
    assert not parent.is_leaf
    assert [c.voucher_id for c in children] == ["A", "B", "C"]
    assert sum(c.amount_fen for c in children) == v.amount_fen
    for child in children:
        assert (child.parent_id, child.root_id, child.holder_id, child.tier) == (
            "V1",
            "V1",
            "S1",
            1,
        )
        assert child.status is VoucherStatus.OUTSTANDING
        assert child.maturity == MATURITY
        assert child.issued_on == on
        assert child.invoice_key is None


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([("A", 400_000), ("B", 500_000)], "split_does_not_sum"),
        ([("A", 600_000), ("B", 500_000)], "split_does_not_sum"),
        ([("A", 1_000_000), ("B", 0)], "invalid_split_part"),
        ([("A", 1_100_000), ("B", -100_000)], "invalid_split_part"),
        ([("A", 1_000_000)], "invalid_split_part"),
        ([], "invalid_split_part"),
        ([("A", 500_000), ("A", 500_000)], "duplicate_voucher_id"),
        ([("V1", 500_000), ("B", 500_000)], "duplicate_voucher_id"),
        ([("", 500_000), ("B", 500_000)], "invalid_identifier"),
    ],
)
def test_split_refusals(parts: list[tuple[str, int]], code: str) -> None:
    v = outstanding()
    refused(code, plan_split, v, parts, by="S1", on=ISSUED)
    assert v.status is VoucherStatus.OUTSTANDING


def test_split_only_by_the_holder() -> None:
    refused("not_holder", plan_split, outstanding(), [("A", 1), ("B", 999_999)], by="X", on=ISSUED)


def test_transfer_moves_the_whole_voucher_one_tier_down_keeping_provenance() -> None:
    v = outstanding()
    once = plan_transfer(v, by="S1", to="S2", on=date(2026, 2, 1))
    twice = plan_transfer(once, by="S2", to="S3", on=date(2026, 3, 1))
    assert (once.voucher_id, once.holder_id, once.tier, once.amount_fen) == (
        "V1",
        "S2",
        2,
        v.amount_fen,
    )
    assert twice.holders == ("S1", "S2", "S3")
    assert twice.tier == 3
    assert v.holder_id == "S1"
    refused("transfer_to_self", plan_transfer, twice, by="S3", to="S3", on=ISSUED)
    refused("not_holder", plan_transfer, twice, by="S2", to="S4", on=ISSUED)


def test_split_children_keep_the_chain_of_holders() -> None:
    moved = plan_transfer(outstanding(), by="S1", to="S2", on=ISSUED)
    _, (a, b) = plan_split(moved, [("A", 1), ("B", 999_999)], by="S2", on=ISSUED)
    assert a.holders == ("S1", "S2")
    assert a.tier == 2
    down = plan_transfer(b, by="S2", to="S3", on=ISSUED)
    assert down.holders == ("S1", "S2", "S3")
    assert down.tier == 3


def test_finance_prices_the_discount_and_then_freezes_the_voucher() -> None:
    v = outstanding(100_000_000)
    on = date(2026, 4, 6)  # 90 days to 2026-07-05
    financed, priced = plan_financing(v, by="S1", on=on, annual_rate=RATE, fee_rate=Decimal(0))
    assert financed.status is VoucherStatus.FINANCED
    assert financed.financed_on == on
    assert (priced.days, priced.interest_fen, priced.proceeds_fen) == (90, 1_087_500, 98_912_500)
    assert financed.payee == BANK_PAYEE
    refused(
        "already_financed",
        plan_financing,
        financed,
        by="S1",
        on=on,
        annual_rate=RATE,
        fee_rate=Decimal(0),
    )
    refused("voucher_not_live", plan_transfer, financed, by="S1", to="S2", on=on)
    refused("voucher_not_live", plan_split, financed, [("A", 1), ("B", 99_999_999)], by="S1", on=on)


def test_finance_only_by_the_holder_and_before_maturity() -> None:
    v = outstanding()
    kwargs = {"annual_rate": RATE, "fee_rate": Decimal(0)}
    refused("not_holder", plan_financing, v, by="S2", on=ISSUED, **kwargs)
    refused("financing_after_maturity", plan_financing, v, by="S1", on=MATURITY, **kwargs)
    refused("financing_after_maturity", plan_financing, v, by="S1", on=date(2026, 8, 1), **kwargs)
    _, priced = plan_financing(v, by="S1", on=date(2026, 7, 4), **kwargs)
    assert priced.days == 1


def test_settlement_pays_the_holder_or_the_bank_at_maturity_only() -> None:
    v = plan_transfer(outstanding(), by="S1", to="S2", on=ISSUED)
    refused("voucher_not_due", plan_settlement, v, on=date(2026, 7, 4))
    settled, payee = plan_settlement(v, on=MATURITY)
    assert (settled.status, payee) == (VoucherStatus.SETTLED, "S2")
    refused("voucher_not_live", plan_settlement, settled, on=MATURITY)
    financed, _ = plan_financing(v, by="S2", on=ISSUED, annual_rate=RATE, fee_rate=Decimal(0))
    assert plan_settlement(financed, on=date(2026, 8, 1))[1] == BANK_PAYEE


def test_overdue_keeps_the_financing_and_is_settled_later_to_the_bank() -> None:
    financed, _ = plan_financing(
        outstanding(), by="S1", on=ISSUED, annual_rate=RATE, fee_rate=Decimal(0)
    )
    refused("voucher_not_due", mark_overdue, financed, on=date(2026, 7, 4))
    late = mark_overdue(financed, on=MATURITY)
    assert late.status is VoucherStatus.OVERDUE
    assert late.is_live
    assert late.is_financed
    assert mark_overdue(late, on=MATURITY) == late
    refused(
        "already_financed",
        plan_financing,
        late,
        by="S1",
        on=MATURITY,
        annual_rate=RATE,
        fee_rate=Decimal(0),
    )
    unpaid = mark_overdue(outstanding(), on=MATURITY)
    assert unpaid.payee == "S1"
    refused(
        "financing_after_maturity",
        plan_financing,
        unpaid,
        by="S1",
        on=MATURITY,
        annual_rate=RATE,
        fee_rate=Decimal(0),
    )
    refused("voucher_not_live", plan_transfer, late, by="S1", to="S2", on=MATURITY)
    settled, payee = plan_settlement(late, on=date(2026, 7, 20))
    assert (settled.status, payee) == (VoucherStatus.SETTLED, BANK_PAYEE)


def test_operations_cannot_be_dated_before_the_issue() -> None:
    v = outstanding()
    refused("invalid_date", plan_transfer, v, by="S1", to="S2", on=date(2026, 1, 4))
    refused("invalid_date", plan_split, v, [("A", 1), ("B", 999_999)], by="S1", on=date(2026, 1, 4))


def test_a_split_voucher_is_retired() -> None:
    parent, _ = plan_split(outstanding(), [("A", 1), ("B", 999_999)], by="S1", on=ISSUED)
    refused("voucher_not_live", plan_transfer, parent, by="S1", to="S2", on=ISSUED)
    refused("voucher_not_live", plan_settlement, parent, on=MATURITY)
    assert replace(parent, status=VoucherStatus.OUTSTANDING).is_live
