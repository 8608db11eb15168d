"""Partner agreements, the daily settlement rows and entries, the file and its reconciliation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from partner_support import facilitation, joint

from puhui.decision.pricing import LegalCap
from puhui.domain.ledger import Account
from puhui.domain.partners.agreements import (
    Approver,
    ConcentrationLimits,
    FeeTerms,
    all_in_annual_cost,
    within_legal_cap,
)
from puhui.domain.partners.errors import (
    AgreementNotActive,
    BankShareBelowMinimum,
    ConcentrationLimitBreached,
    InvalidAgreement,
)
from puhui.domain.partners.settlement import (
    Component,
    SettlementRow,
    loan_movements,
    parse_partner_file,
    position,
    reconcile,
    render_file,
    settle_loan,
    settlement_entry,
)
from puhui.services.partners.cost import borrower_all_in_cost

DAY = date(2025, 3, 15)


def test_a_share_leaving_the_bank_under_thirty_percent_is_refused() -> None:
    with pytest.raises(BankShareBelowMinimum):
        joint("0.75")
    assert joint("0.7").funding_share == Decimal("0.7")


def test_agreement_terms_must_hang_together() -> None:
    with pytest.raises(InvalidAgreement):
        joint("0")
    with pytest.raises(InvalidAgreement):
        replace(joint(), valid_to=date(2024, 1, 1))
    with pytest.raises(InvalidAgreement):
        replace(facilitation(), approver=Approver.BOTH)
    with pytest.raises(InvalidAgreement):
        FeeTerms(per_loan_fen=100, interest_share=Decimal("0.1"))


def test_an_agreement_is_usable_only_when_active_and_in_validity() -> None:
    agreement = joint()
    with pytest.raises(AgreementNotActive):
        agreement.require_active_on(DAY)
    active = agreement.activate()
    active.require_active_on(DAY)
    with pytest.raises(AgreementNotActive):
        active.require_active_on(date(2028, 1, 1))


def test_concentration_limits_refuse_outstanding_and_portfolio_share_breaches() -> None:
    limits = ConcentrationLimits(max_outstanding_fen=1_000_000, max_portfolio_share=Decimal("0.2"))
    limits.check(partner_outstanding_fen=1_000_000, portfolio_fen=5_000_000)
    with pytest.raises(ConcentrationLimitBreached) as over:
        limits.check(partner_outstanding_fen=1_000_001, portfolio_fen=10**9)
    assert over.value.details["limit"] == "max_outstanding_fen"
    with pytest.raises(ConcentrationLimitBreached) as share:
        limits.check(partner_outstanding_fen=900_000, portfolio_fen=4_000_000)
    assert share.value.details["limit"] == "max_portfolio_share"


def test_loan_movements_read_repayments_write_offs_recoveries_and_draws() -> None:
    repayment = {
        Account.SETTLEMENT: 10_500,
        Account.PRINCIPAL_RECEIVABLE: -10_000,
        Account.INTEREST_RECEIVABLE: -400,
        Account.PENALTY_RECEIVABLE: -100,
    }
    assert loan_movements(repayment) == {
        Component.PRINCIPAL_REPAID: 10_000,
        Component.INTEREST: 400,
        Component.PENALTY: 100,
    }
    # Money held in suspense (挂账) and applied: the same repayment, the partner's share alike.
    from_suspense = {
        (Account.REPAYMENT_SUSPENSE if a is Account.SETTLEMENT else a): v
        for a, v in repayment.items()
    }
    assert loan_movements(from_suspense) == loan_movements(repayment)
    draw = {Account.PRINCIPAL_RECEIVABLE: 50_000, Account.SETTLEMENT: -50_000}
    assert loan_movements(draw) == {Component.PRINCIPAL_FUNDED: 50_000}
    write_off = {
        Account.WRITE_OFF_EXPENSE: 7_000,
        Account.PRINCIPAL_RECEIVABLE: -6_500,
        Account.INTEREST_RECEIVABLE: -500,
    }
    assert loan_movements(write_off) == {Component.LOSS: 6_500}
    recovery = {Account.SETTLEMENT: 900, Account.RECOVERY_INCOME: -900}
    assert loan_movements(recovery) == {Component.RECOVERY: 900}


def test_joint_lending_rows_split_half_up_and_post_one_balanced_entry() -> None:
    rows = settle_loan(
        joint("0.3"), "L1", DAY, {Component.PRINCIPAL_REPAID: 10_001, Component.INTEREST: 15}
    )
    by = {r.component: r for r in rows}
    assert by[Component.PRINCIPAL_REPAID].partner_fen == 3_000  # 3000.3 -> 3000
    assert by[Component.INTEREST].partner_fen == 5  # 4.5 -> 5 (half-up)
    assert by[Component.INTEREST].bank_fen == 10
    entry = settlement_entry(rows)
    assert entry is not None
    amounts = {p.account: p.amount_fen for p in entry.postings}
    assert amounts[Account.PARTNER_SETTLEMENT_PAYABLE] == -3_005
    assert amounts[Account.PARTNER_FUNDING] == 3_000
    assert entry.idempotency_key == "partner-settle:AG-JL-1:L1:2025-03-15"


def test_facilitation_fees_per_loan_and_as_share_of_interest() -> None:
    per_loan = settle_loan(
        facilitation(per_loan_fen=20_000),
        "L2",
        DAY,
        {
            Component.PRINCIPAL_FUNDED: 1_000_000,
        },
    )
    assert [(r.component, r.partner_fen) for r in per_loan] == [(Component.FEE, 20_000)]
    on_interest = settle_loan(
        facilitation(interest_share="0.25"), "L2", DAY, {Component.INTEREST: 1_002}
    )
    assert [(r.component, r.partner_fen) for r in on_interest] == [(Component.FEE, 251)]
    entry = settlement_entry(on_interest)
    assert entry is not None
    assert {p.account for p in entry.postings} == {
        Account.FACILITATION_FEE_EXPENSE,
        Account.FACILITATION_FEE_PAYABLE,
    }


def test_the_file_round_trips_and_reconciliation_names_every_difference() -> None:
    rows = settle_loan(
        joint("0.3"), "L1", DAY, {Component.PRINCIPAL_REPAID: 10_000, Component.INTEREST: 400}
    )
    rows += settle_loan(joint("0.3"), "L2", DAY, {Component.INTEREST: 100})
    text = render_file(rows)
    assert text.splitlines()[0] == "settled_on,agreement_id,loan_id,component,total,partner,bank"
    assert reconcile(rows, parse_partner_file(text)) == []
    theirs = parse_partner_file(text)
    theirs[("L1", "interest")] = 119
    del theirs[("L2", "interest")]
    theirs[("L3", "principal_repaid")] = 5
    differences = reconcile(rows, theirs)
    assert [(d.loan_id, d.component, d.ours_fen, d.theirs_fen) for d in differences] == [
        ("L1", "interest", 120, 119),
        ("L2", "interest", 30, None),
        ("L3", "principal_repaid", None, 5),
    ]


def test_all_in_cost_counts_partner_fees_against_the_legal_cap() -> None:
    cost = all_in_annual_cost(
        Decimal("0.18"), principal_fen=1_000_000, term_months=12, partner_fees_fen=80_000
    )
    assert cost == Decimal("0.26")
    assert not within_legal_cap(cost, Decimal("0.24"))
    assert within_legal_cap(Decimal("0.24"), Decimal("0.24"))


events = st.lists(
    st.one_of(
        st.builds(lambda x: {Component.PRINCIPAL_FUNDED: x}, st.integers(1, 10**9)),
        st.builds(
            lambda p, i: {Component.PRINCIPAL_REPAID: p, Component.INTEREST: i},
            st.integers(1, 10**8),
            st.integers(0, 10**7),
        ),
        st.builds(lambda x: {Component.LOSS: x}, st.integers(1, 10**8)),
        st.builds(lambda x: {Component.RECOVERY: x}, st.integers(1, 10**8)),
    ),
    max_size=30,
)


@given(share=st.decimals(min_value="0.01", max_value="0.7", places=4), sequence=events)
def test_sub_ledger_and_main_ledger_agree_after_any_sequence(
    share: Decimal, sequence: list[dict[Component, int]]
) -> None:
    agreement = joint(str(share))
    rows = []
    balances: dict[Account, int] = {}
    for n, movement in enumerate(sequence):
        day_rows = settle_loan(agreement, f"L{n % 3}", DAY, movement)
        for row in day_rows:
            assert row.partner_fen + row.bank_fen == row.total_fen
        entry = settlement_entry(day_rows)
        if entry is None:  # every partner part rounded to zero
            assert all(r.partner_fen == 0 for r in day_rows)
            continue
        for p in entry.postings:
            balances[p.account] = balances.get(p.account, 0) + p.amount_fen
        rows += day_rows
    assert sum(balances.values()) == 0
    pos = position(rows)
    # The partner's funding account (a liability, credit < 0) is its principal outstanding.
    assert -balances.get(Account.PARTNER_FUNDING, 0) == pos.principal_outstanding_fen
    payable = -balances.get(Account.PARTNER_SETTLEMENT_PAYABLE, 0)
    assert payable == pos.principal_repaid_fen + pos.interest_fen + pos.recoveries_fen


@given(
    share=st.decimals(min_value="0.01", max_value="0.7", places=4),
    principal=st.integers(1, 10**9),
    repayments=st.lists(st.integers(1, 10**8), max_size=12),
    written_off=st.booleans(),
    recoveries=st.lists(st.integers(1, 10**6), max_size=3),
)
def test_a_loans_life_closes_the_partners_principal_to_the_fen(
    share: Decimal,
    principal: int,
    repayments: list[int],
    written_off: bool,
    recoveries: list[int],
) -> None:
    agreement = joint(str(share))
    days: list[dict[Component, int]] = [{Component.PRINCIPAL_FUNDED: principal}]
    left = principal
    for amount in repayments:
        paid = min(amount, left)
        if paid == 0:
            break
        days.append({Component.PRINCIPAL_REPAID: paid, Component.INTEREST: amount % 997})
        left -= paid
    if left and written_off:
        days.append({Component.LOSS: left})
        days += [{Component.RECOVERY: r} for r in recoveries]
        left = 0
    rows: list[SettlementRow] = []
    balances: dict[Account, int] = {}
    for movement in days:
        today = settle_loan(agreement, "L1", DAY, movement, principal_fen=principal, history=rows)
        for row in today:
            assert row.partner_fen + row.bank_fen == row.total_fen
        entry = settlement_entry(today)
        for p in entry.postings if entry else ():
            balances[p.account] = balances.get(p.account, 0) + p.amount_fen
        rows += today
    pos = position(rows)
    assert sum(balances.values()) == 0
    assert -balances.get(Account.PARTNER_FUNDING, 0) == pos.principal_outstanding_fen
    if left == 0:
        assert pos.principal_outstanding_fen == 0
    else:
        exact = Decimal(left) * share
        assert abs(Decimal(pos.principal_outstanding_fen) - exact) <= Decimal("0.5") * len(days)


def test_a_per_loan_partner_fee_can_take_a_loan_over_the_legal_cap() -> None:
    cap = LegalCap(fixed=Decimal("0.24"), lpr_multiple=Decimal(4))  # 4 x 3.45% = 13.8%
    alone = borrower_all_in_cost(
        None,
        annual_rate=Decimal("0.12"),
        principal_fen=10_000_000,
        term_months=12,
        legal_cap=cap,
        lpr=Decimal("0.0345"),
    )
    assert alone.within_cap
    assert alone.legal_cap == Decimal("0.1380")
    with_fee = borrower_all_in_cost(
        facilitation(per_loan_fen=300_000),
        annual_rate=Decimal("0.12"),
        principal_fen=10_000_000,
        term_months=12,
        legal_cap=cap,
        lpr=Decimal("0.0345"),
    )
    assert with_fee.all_in_annual_cost == Decimal("0.15")
    assert not with_fee.within_cap
    share_fee = borrower_all_in_cost(
        facilitation(interest_share="0.3"),
        annual_rate=Decimal("0.12"),
        principal_fen=10_000_000,
        term_months=12,
        legal_cap=cap,
        lpr=Decimal("0.0345"),
    )
    assert share_fee.all_in_annual_cost == Decimal("0.12")


def test_a_reversed_repayment_gives_back_the_partners_share() -> None:
    repayment = {
        Account.SETTLEMENT: 10_500,
        Account.PRINCIPAL_RECEIVABLE: -10_000,
        Account.INTEREST_RECEIVABLE: -500,
    }
    undone = {account: -amount for account, amount in repayment.items()}
    assert loan_movements(undone, reversal=True) == {
        Component.PRINCIPAL_REPAID: -10_000,
        Component.INTEREST: -500,
    }
    rows = settle_loan(joint("0.3"), "L1", DAY, loan_movements(undone, reversal=True))
    assert {r.component: r.partner_fen for r in rows} == {
        Component.PRINCIPAL_REPAID: -3_000,
        Component.INTEREST: -150,
    }
    entry = settlement_entry(rows)
    assert entry is not None
    assert {p.account: p.amount_fen for p in entry.postings}[
        Account.PARTNER_SETTLEMENT_PAYABLE
    ] == 3_150
