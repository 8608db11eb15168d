"""The money of guarantees: fees, claims and recovery shares are exact and within the caps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidInput
from puhui.domain.guarantees.agreements import Agreement, FeeMode
from puhui.domain.guarantees.errors import AgreementNotValid, InvalidAgreement
from puhui.domain.guarantees.postings import (
    claim_paid_entry,
    claim_raised_entry,
    compensation_released_entry,
    compensation_returned_entry,
    fee_collected_entry,
    fee_due_entry,
    recovery_shared_entry,
)
from puhui.domain.guarantees.terms import claim_amount, fee_fen, share_of, split_recovery
from puhui.domain.ledger import Account

shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=4)
amounts = st.integers(min_value=0, max_value=10**12)


def agreement(**overrides: object) -> Agreement:
    terms: dict[str, object] = {
        "agreement_id": "ga_1",
        "agency_id": "ag_1",
        "product_id": None,
        "coverage_share": Decimal("0.8"),
        "fee_rate": Decimal("0.01"),
        "fee_mode": FeeMode.AT_DRAW,
        "borrower_cap_fen": 1_000_000_00,
        "portfolio_cap_fen": 100_000_000_00,
        "claim_trigger_days": 90,
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2027, 12, 31),
        "counter_guarantee_waived": True,
    }
    terms.update(overrides)
    return Agreement(**terms)  # type: ignore[arg-type]


def test_fee_is_principal_times_rate_times_days_over_360_rounded_half_up_once() -> None:
    # 1,000,000.00 yuan × 1 % × 365 / 360 = 10,138.888… yuan → 10,138.89
    assert fee_fen(100_000_000, Decimal("0.01"), 365) == 1_013_889
    # 0.5 fen rounds up, once: 1 fen × 0.5 × 360/360
    assert fee_fen(1, Decimal("0.5"), 360) == 1


def test_claim_is_the_covered_share_of_principal_and_interest() -> None:
    amount = claim_amount(
        coverage_share=Decimal("0.8"),
        outstanding_principal_fen=100_000,
        interest_owed_fen=1_001,
        borrower_room_fen=10**9,
        portfolio_room_fen=10**9,
    )
    # 0.8 × 101,001 = 80,800.8 → 80,801
    assert amount.claim_fen == 80_801
    assert not amount.capped


def test_claim_is_cut_to_the_caps_remaining_room() -> None:
    amount = claim_amount(
        coverage_share=Decimal("0.8"),
        outstanding_principal_fen=100_000,
        interest_owed_fen=0,
        borrower_room_fen=50_000,
        portfolio_room_fen=70_000,
    )
    assert amount.claim_fen == 50_000
    assert amount.capped


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("coverage_share", Decimal("1.2")),
        ("coverage_share", Decimal(0)),
        ("fee_rate", Decimal("-0.01")),
        ("borrower_cap_fen", 0),
        ("borrower_cap_fen", 200_000_000_00),
        ("claim_trigger_days", 0),
        ("valid_to", date(2025, 1, 1)),
    ],
)
def test_agreement_with_broken_terms_is_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidAgreement):
        agreement(**{field: value})


def test_agreement_out_of_force_is_refused() -> None:
    terms = agreement()
    terms.require_in_force(date(2026, 6, 1))
    with pytest.raises(AgreementNotValid):
        terms.require_in_force(date(2028, 1, 1))


@given(amount=amounts, share=shares)
def test_share_and_remainder_add_up_exactly(amount: int, share: Decimal) -> None:
    part = share_of(amount, share)
    assert 0 <= part <= amount
    assert part + (amount - part) == amount
    assert abs(Decimal(part) - Decimal(amount) * share) <= Decimal("0.5")


@given(
    share=shares,
    principal=amounts,
    interest=st.integers(min_value=0, max_value=10**9),
    borrower_room=st.integers(min_value=-(10**6), max_value=10**12),
    portfolio_room=st.integers(min_value=-(10**6), max_value=10**12),
)
def test_claim_never_exceeds_the_caps_nor_the_covered_share(
    share: Decimal, principal: int, interest: int, borrower_room: int, portfolio_room: int
) -> None:
    amount = claim_amount(
        coverage_share=share,
        outstanding_principal_fen=principal,
        interest_owed_fen=interest,
        borrower_room_fen=borrower_room,
        portfolio_room_fen=portfolio_room,
    )
    assert 0 <= amount.claim_fen <= max(0, min(borrower_room, portfolio_room))
    assert amount.claim_fen <= amount.uncapped_fen <= principal + interest


@given(
    share=shares,
    claim=st.integers(min_value=0, max_value=10**9),
    recoveries=st.lists(st.integers(min_value=0, max_value=10**9), max_size=12),
)
def test_recoveries_split_exactly_and_the_agency_never_gets_more_than_its_claim(
    share: Decimal, claim: int, recoveries: list[int]
) -> None:
    agency_total = 0
    for recovery in recoveries:
        split = split_recovery(recovery, share, claim_fen=claim, agency_recovered_fen=agency_total)
        assert split.agency_fen + split.bank_fen == recovery
        assert split.agency_fen >= 0
        assert split.bank_fen >= 0
        agency_total += split.agency_fen
    assert agency_total <= claim


@given(
    fee=st.integers(min_value=1, max_value=10**10),
    claim=st.integers(min_value=1, max_value=10**10),
    recovery=st.integers(min_value=1, max_value=10**10),
)
def test_every_guarantee_entry_balances_and_uses_its_own_accounts(
    fee: int, claim: int, recovery: int
) -> None:
    on = date(2026, 6, 1)
    entries = [
        fee_due_entry("f", fee, on),
        fee_collected_entry("c", fee, on),
        claim_raised_entry("r", claim, on),
        claim_paid_entry("p", claim, on),
        compensation_released_entry("w", claim, on),
        recovery_shared_entry("s", recovery, on),
    ]
    balances: dict[Account, int] = {}
    for entry in entries:
        assert sum(p.amount_fen for p in entry.postings) == 0
        for posting in entry.postings:
            balances[posting.account] = balances.get(posting.account, 0) + posting.amount_fen
    # Fee collected, claim paid: the receivables are cleared.
    assert balances.get(Account.GUARANTEE_FEE_RECEIVABLE, 0) == 0
    assert balances.get(Account.GUARANTEE_CLAIM_RECEIVABLE, 0) == 0
    assert balances[Account.GUARANTEE_FEE_PAYABLE] == -fee
    assert balances[Account.SETTLEMENT] == fee + claim


def test_returning_compensation_balances_and_nets_the_agencys_recovered_shares() -> None:
    on = date(2026, 6, 10)
    entry = compensation_returned_entry("k", 160_000_00, 8_000_00, on)
    amounts = {p.account: p.amount_fen for p in entry.postings}
    assert amounts == {
        Account.GUARANTEE_COMPENSATION_HELD: 160_000_00,
        Account.SETTLEMENT: -152_000_00,
        Account.GUARANTEE_RECOVERY_SHARE: -8_000_00,
    }
    nothing_recovered = compensation_returned_entry("k", 100, 0, on)
    assert {p.account for p in nothing_recovered.postings} == {
        Account.GUARANTEE_COMPENSATION_HELD,
        Account.SETTLEMENT,
    }
    with pytest.raises(InvalidInput):
        compensation_returned_entry("k", 100, 101, on)  # more back than was claimed
