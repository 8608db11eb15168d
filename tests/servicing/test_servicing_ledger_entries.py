"""Journal entries are balanced by construction; the memo pair balances on its own."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.ledger import Account, JournalEntry, Posting, UnbalancedEntry
from puhui.domain.lending.integer_interest import RATE_SCALE, price_accumulator_fen
from puhui.domain.money import Fen

DAY = date(2026, 3, 2)


def test_an_entry_whose_debits_and_credits_differ_is_refused() -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry(
            "k",
            DAY,
            "bad",
            (
                Posting.debit(Account.PRINCIPAL_RECEIVABLE, 100),
                Posting.credit(Account.SETTLEMENT, 99),
            ),
        )


def test_memo_postings_cannot_offset_an_imbalance_in_the_books() -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry.build(
            "k",
            DAY,
            "memo hides a gap",
            [
                (Account.INTEREST_RECEIVABLE, 100),
                (Account.NON_ACCRUAL_MEMO, -100),
            ],
        )


def test_a_zero_posting_is_refused_and_build_drops_zero_lines() -> None:
    with pytest.raises(Exception, match="zero"):
        Posting(Account.SETTLEMENT, Fen(0))
    entry = JournalEntry.build(
        "k",
        DAY,
        "x",
        [(Account.SETTLEMENT, 5), (Account.PRINCIPAL_RECEIVABLE, -5), (Account.INTEREST_INCOME, 0)],
    )
    assert {p.account for p in entry.postings} == {Account.SETTLEMENT, Account.PRINCIPAL_RECEIVABLE}


def test_a_reversal_negates_every_posting_and_names_the_original() -> None:
    entry = JournalEntry.build(
        "draw:1", DAY, "draw", [(Account.PRINCIPAL_RECEIVABLE, 700), (Account.SETTLEMENT, -700)]
    )
    reversal = entry.reversal("draw:1:reversal", DAY)
    assert reversal.reverses_key == "draw:1"
    assert {(p.account, p.amount_fen) for p in reversal.postings} == {
        (Account.PRINCIPAL_RECEIVABLE, -700),
        (Account.SETTLEMENT, 700),
    }
    with pytest.raises(Exception, match="before"):
        entry.reversal("early", date(2026, 3, 1))


def test_account_codes_round_trip() -> None:
    for account in Account:
        assert Account.from_code(account.code) is account


@given(
    accumulator=st.integers(min_value=0, max_value=10**9 * 31),
    rate_e8=st.integers(min_value=0, max_value=2 * RATE_SCALE),
    year_days=st.sampled_from([360, 365]),
    half_even=st.booleans(),
)
def test_integer_pricing_of_balance_days_matches_decimal_rounding(
    accumulator: int, rate_e8: int, year_days: int, half_even: bool
) -> None:
    exact = Decimal(accumulator * rate_e8) / Decimal(year_days * RATE_SCALE)
    mode = ROUND_HALF_EVEN if half_even else ROUND_HALF_UP
    expected = int(exact.quantize(Decimal(1), rounding=mode))
    assert price_accumulator_fen(accumulator, rate_e8, year_days, half_even=half_even) == expected
    assert accumulator * rate_e8 < 2**63, "bounds keep SQLite's 64-bit integers exact"
