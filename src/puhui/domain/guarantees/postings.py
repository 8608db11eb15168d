"""Ledger entries of guarantees, balanced by construction (docs/adr/0039).

* fee due (at draw, or per period): Dr 1307 fee receivable / Cr 2250 fee payable to the agency;
  collected online from the borrower: Dr 1002 / Cr 1307; remitted to the agency: Dr 2250 / Cr 1002.
* claim raised at the trigger: Dr 1308 claim receivable / Cr 2251 compensation held;
  claim paid by the agency: Dr 1002 / Cr 1308. The loan stays whole on the books: the borrower
  still owes all of it and servicing, classification and write-off run unchanged.
* the loan written off: the compensation held becomes income, Dr 2251 / Cr 6030, so the net
  loss of a guaranteed loan is the write-off less the claim.
* a recovery after a paid claim (posted by servicing as Dr 1002 / Cr 6013): the agency's share
  Dr 6410 / Cr 2252, paid on to the agency Dr 2252 / Cr 1002.
* the loan cured after the claim was paid (current again, or repaid, before any write-off): the
  compensation held goes back, Dr 2251 (the claim) / Cr 1002 (what the agency is still out of
  pocket) / Cr 6410 (the recovery shares it already got back, which were part of that return).
"""

from __future__ import annotations

from datetime import date

from puhui.domain.errors import InvalidInput
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.money import require_positive


def _pair(
    key: str, on: date, what: str, debit: Account, credit: Account, *, amount: int
) -> JournalEntry:
    value = require_positive(amount, what)
    return JournalEntry.build(key, on, what, [(debit, value), (credit, -value)])


def fee_due_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee fee due",
        Account.GUARANTEE_FEE_RECEIVABLE,
        Account.GUARANTEE_FEE_PAYABLE,
        amount=amount_fen,
    )


def fee_collected_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee fee collected from the borrower",
        Account.SETTLEMENT,
        Account.GUARANTEE_FEE_RECEIVABLE,
        amount=amount_fen,
    )


def fee_remitted_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee fees remitted to the agency",
        Account.GUARANTEE_FEE_PAYABLE,
        Account.SETTLEMENT,
        amount=amount_fen,
    )


def claim_raised_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee claim raised",
        Account.GUARANTEE_CLAIM_RECEIVABLE,
        Account.GUARANTEE_COMPENSATION_HELD,
        amount=amount_fen,
    )


def claim_withdrawn_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    """The loan cured before the agency paid: the claim raised is reversed."""
    return _pair(
        key,
        on,
        "guarantee claim withdrawn (the loan cured)",
        Account.GUARANTEE_COMPENSATION_HELD,
        Account.GUARANTEE_CLAIM_RECEIVABLE,
        amount=amount_fen,
    )


def claim_paid_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee claim paid by the agency",
        Account.SETTLEMENT,
        Account.GUARANTEE_CLAIM_RECEIVABLE,
        amount=amount_fen,
    )


def compensation_released_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "guarantee compensation on a written-off loan",
        Account.GUARANTEE_COMPENSATION_HELD,
        Account.GUARANTEE_COMPENSATION_INCOME,
        amount=amount_fen,
    )


def recovery_shared_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "recovery shared with the guarantee agency",
        Account.GUARANTEE_RECOVERY_SHARE,
        Account.GUARANTEE_RECOVERY_PAYABLE,
        amount=amount_fen,
    )


def recovery_remitted_entry(key: str, amount_fen: int, on: date) -> JournalEntry:
    return _pair(
        key,
        on,
        "recovery share paid to the agency",
        Account.GUARANTEE_RECOVERY_PAYABLE,
        Account.SETTLEMENT,
        amount=amount_fen,
    )


def compensation_returned_entry(
    key: str, claim_fen: int, agency_recovered_fen: int, on: date
) -> JournalEntry:
    """The loan cured after the agency paid: the compensation held goes back to it, less the
    recovery shares it already received (those were part of the return, not an expense)."""
    claim = require_positive(claim_fen, "compensation returned")
    if not 0 <= agency_recovered_fen <= claim:
        raise InvalidInput("the agency's recovered shares must lie between 0 and the claim")
    cash = claim - agency_recovered_fen
    lines: list[tuple[Account, int]] = [(Account.GUARANTEE_COMPENSATION_HELD, claim)]
    if cash > 0:
        lines.append((Account.SETTLEMENT, -cash))
    if agency_recovered_fen > 0:
        lines.append((Account.GUARANTEE_RECOVERY_SHARE, -agency_recovered_fen))
    return JournalEntry.build(
        key, on, "guarantee compensation returned to the agency (the loan cured)", lines
    )
