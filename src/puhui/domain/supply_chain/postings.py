"""Ledger entries of payable vouchers, balanced by construction (docs/adr/0035).

* financing (the bank discounts a voucher): Dr 1305 face; Cr 1002 proceeds; Cr 1306
  interest (earned over the days to maturity); Cr 6021 fee.
* the discount earned so far (a recognition run, e.g. at each month end): Dr 1306 / Cr 6014.
* settlement of a financed voucher (the core pays the bank): Dr 1002 / Cr 1305 face, and
  the rest of the discount is earned: Dr 1306 / Cr 6014 (interest less what was recognised).
* settlement of a voucher held by a supplier (the platform collects from the core and pays
  the holder): ``<key>:received`` Dr 1002 / Cr 2241 face, then ``<key>:paid`` Dr 2241 /
  Cr 1002 face.
* penalty on an overdue financed voucher: Dr 1133 / Cr 6012.
"""

from __future__ import annotations

from datetime import date

from puhui.domain.errors import InvalidInput
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.money import require_non_negative, require_positive
from puhui.domain.supply_chain.conventions import Discount
from puhui.domain.supply_chain.vouchers import BANK_PAYEE, Voucher


def financing_entry(key: str, discount: Discount, on: date) -> JournalEntry:
    """The bank buys the voucher at a discount and pays the proceeds to the holder."""
    return JournalEntry.build(
        key,
        on,
        "voucher discounted",
        [
            (Account.DISCOUNTED_VOUCHERS, discount.face_fen),
            (Account.SETTLEMENT, -discount.proceeds_fen),
            (Account.UNEARNED_DISCOUNT, -discount.interest_fen),
            (Account.FEE_INCOME, -discount.fee_fen),
        ],
    )


def settlement_entries(
    key: str, voucher: Voucher, payee: str, on: date, interest_fen: int = 0
) -> tuple[JournalEntry, ...]:
    """The core pays ``voucher`` at maturity: to the bank (financed) or through to its holder.

    ``interest_fen`` is the discount interest of a financed voucher (its financing's
    ``Discount.interest_fen``), recognised as income now; it must be 0 for a held voucher.
    """
    face = require_positive(voucher.amount_fen, "voucher amount")
    interest = require_non_negative(interest_fen, "discount interest")
    if payee == BANK_PAYEE:
        if not voucher.is_financed:
            raise InvalidInput(
                f"voucher {voucher.voucher_id} is not financed; the bank is no payee"
            )
        entry = JournalEntry.build(
            key,
            on,
            "financed voucher settled by the core enterprise",
            [
                (Account.SETTLEMENT, face),
                (Account.DISCOUNTED_VOUCHERS, -face),
                (Account.UNEARNED_DISCOUNT, interest),
                (Account.DISCOUNT_INTEREST_INCOME, -interest),
            ],
        )
        return (entry,)
    if voucher.is_financed or interest:
        raise InvalidInput(f"voucher {voucher.voucher_id} is financed; its payee is the bank")
    received = JournalEntry.build(
        f"{key}:received",
        on,
        "voucher funds received from the core enterprise",
        [(Account.SETTLEMENT, face), (Account.VOUCHER_SETTLEMENT_PAYABLE, -face)],
    )
    paid = JournalEntry.build(
        f"{key}:paid",
        on,
        f"voucher paid to its holder {payee}",
        [(Account.VOUCHER_SETTLEMENT_PAYABLE, face), (Account.SETTLEMENT, -face)],
    )
    return (received, paid)


def earned_discount_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    """Discount interest earned on financed vouchers, moved from unearned to income."""
    amount = require_positive(amount_fen, "earned discount interest")
    return JournalEntry.build(
        key,
        on,
        "discount interest earned",
        [(Account.UNEARNED_DISCOUNT, amount), (Account.DISCOUNT_INTEREST_INCOME, -amount)],
    )


def penalty_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    """Penalty interest accrued on an overdue financed voucher."""
    amount = require_positive(amount_fen, "penalty")
    return JournalEntry.build(
        key,
        on,
        "penalty interest on an overdue voucher",
        [(Account.PENALTY_RECEIVABLE, amount), (Account.PENALTY_INCOME, -amount)],
    )
