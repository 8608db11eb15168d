"""The lending ledger: chart of accounts and immutable, balanced-by-construction journal entries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.money import Fen, fen


class AccountType(Enum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    MEMO = "memo"
    """Off-balance-sheet (表外): kept as its own balanced pair, never mixed with the books."""


class Account(Enum):
    """The lending chart of accounts. Codes follow the PRC bank chart's numbering loosely.

    Amounts on postings are signed: a debit is positive, a credit negative, so every entry
    sums to zero and the trial balance of all accounts sums to zero.
    """

    SETTLEMENT = ("1002", AccountType.ASSET, "清算资金", "settlement / cash")
    PRINCIPAL_RECEIVABLE = ("1303", AccountType.ASSET, "贷款本金", "principal receivable")
    INTEREST_RECEIVABLE = ("1132", AccountType.ASSET, "应收利息", "interest receivable")
    PENALTY_RECEIVABLE = (
        "1133",
        AccountType.ASSET,
        "应收罚息复利",
        "penalty and compound interest receivable",
    )
    WRITE_OFF_CLEARING = ("1304", AccountType.ASSET, "贷款核销清算", "write-off clearing")
    DISCOUNTED_VOUCHERS = (
        "1305",
        AccountType.ASSET,
        "贴现资产（电子债权凭证）",
        "discounted payable vouchers",
    )
    UNEARNED_DISCOUNT = (
        "1306",
        AccountType.ASSET,
        "贴现利息调整",
        "unearned discount (contra asset)",
    )
    GUARANTEE_FEE_RECEIVABLE = (
        "1307",
        AccountType.ASSET,
        "应收担保费",
        "guarantee fee receivable (from borrowers)",
    )
    GUARANTEE_CLAIM_RECEIVABLE = (
        "1308",
        AccountType.ASSET,
        "应收担保代偿款",
        "guarantee claim receivable (from agencies)",
    )
    GUARANTEE_FEE_PAYABLE = (
        "2250",
        AccountType.LIABILITY,
        "应付担保费",
        "guarantee fee payable (to agencies)",
    )
    GUARANTEE_COMPENSATION_HELD = (
        "2251",
        AccountType.LIABILITY,
        "担保代偿暂收款",
        "guarantee compensation held (until write-off)",
    )
    GUARANTEE_RECOVERY_PAYABLE = (
        "2252",
        AccountType.LIABILITY,
        "应付担保机构追偿分成",
        "recoveries payable to agencies",
    )
    VOUCHER_SETTLEMENT_PAYABLE = (
        "2241",
        AccountType.LIABILITY,
        "应付凭证兑付款",
        "voucher settlement payable",
    )
    # Lending with partners (联合贷款 / 助贷): the partner's funding and what the bank owes it.
    PARTNER_FUNDING = ("2242", AccountType.LIABILITY, "合作方出资", "partner funding")
    PARTNER_SETTLEMENT_PAYABLE = (
        "2243",
        AccountType.LIABILITY,
        "应付合作方清算款",
        "partner settlement payable",
    )
    FACILITATION_FEE_PAYABLE = (
        "2244",
        AccountType.LIABILITY,
        "应付助贷服务费",
        "facilitation fee payable",
    )
    REPAYMENT_SUSPENSE = (
        "2245",
        AccountType.LIABILITY,
        "待处理还款（挂账）",
        "repayments held in suspense (unapplied)",
    )
    INTEREST_INCOME = ("6011", AccountType.INCOME, "利息收入", "interest income")
    PENALTY_INCOME = ("6012", AccountType.INCOME, "罚息收入", "penalty interest income")
    RECOVERY_INCOME = ("6013", AccountType.INCOME, "已核销贷款收回", "recoveries")
    DISCOUNT_INTEREST_INCOME = (
        "6014",
        AccountType.INCOME,
        "贴现利息收入",
        "discount interest income",
    )
    FEE_INCOME = ("6021", AccountType.INCOME, "手续费及佣金收入", "fee and commission income")
    PARTNER_INTEREST_SHARE = (
        "6022",
        AccountType.INCOME,
        "合作方利息分成",
        "partner share of interest (contra income)",
    )
    PARTNER_LOSS_SHARE = (
        "6023",
        AccountType.INCOME,
        "合作方分担核销损失",
        "partner share of write-offs (contra loss)",
    )
    PARTNER_RECOVERY_SHARE = (
        "6024",
        AccountType.INCOME,
        "合作方收回分成",
        "partner share of recoveries (contra income)",
    )
    FACILITATION_FEE_EXPENSE = (
        "6402",
        AccountType.EXPENSE,
        "助贷服务费支出",
        "facilitation fee expense",
    )
    GUARANTEE_COMPENSATION_INCOME = (
        "6030",
        AccountType.INCOME,
        "担保代偿收入",
        "guarantee compensation on written-off loans",
    )
    GUARANTEE_RECOVERY_SHARE = (
        "6410",
        AccountType.EXPENSE,
        "追偿款分配担保机构",
        "recoveries shared with agencies",
    )
    WRITE_OFF_EXPENSE = ("6701", AccountType.EXPENSE, "贷款核销损失", "write-off expense")
    NON_ACCRUAL_MEMO = ("7001", AccountType.MEMO, "表外应收利息", "non-accrual interest (memo)")
    NON_ACCRUAL_MEMO_CONTRA = (
        "7002",
        AccountType.MEMO,
        "表外应收利息对方",
        "non-accrual interest (memo contra)",
    )

    def __init__(self, code: str, account_type: AccountType, name_zh: str, name_en: str) -> None:
        self.code = code
        self.account_type = account_type
        self.name_zh = name_zh
        self.name_en = name_en

    @classmethod
    def from_code(cls, code: str) -> Account:
        for account in cls:
            if account.code == code:
                return account
        raise InvalidInput(f"unknown ledger account code {code!r}")


class UnbalancedEntry(InvalidAmount):
    """Debits and credits of a journal entry (or of its memo part) do not net to zero."""

    code = "unbalanced_entry"


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry: a signed amount (debit > 0, credit < 0) on one account."""

    account: Account
    amount_fen: Fen

    def __post_init__(self) -> None:
        fen(self.amount_fen)
        if self.amount_fen == 0:
            raise InvalidAmount(f"a posting to {self.account.code} must not be zero")

    @staticmethod
    def debit(account: Account, amount_fen: int) -> Posting:
        return Posting(account, Fen(amount_fen))

    @staticmethod
    def credit(account: Account, amount_fen: int) -> Posting:
        return Posting(account, Fen(-amount_fen))


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An immutable, balanced entry. ``idempotency_key`` is unique across the ledger.

    The on-balance postings and the memo postings each sum to zero on their own, so the
    memo pair can never hide an imbalance in the books.
    """

    idempotency_key: str
    posted_on: date
    description: str
    postings: tuple[Posting, ...]
    reverses_key: str | None = None

    def __post_init__(self) -> None:
        if not self.idempotency_key or len(self.idempotency_key) > 200:
            raise InvalidInput("a journal entry needs an idempotency key of 1 to 200 characters")
        if not self.postings:
            raise UnbalancedEntry(f"entry {self.idempotency_key} has no postings")
        books = sum(p.amount_fen for p in self.postings if not _is_memo(p.account))
        memo = sum(p.amount_fen for p in self.postings if _is_memo(p.account))
        if books != 0 or memo != 0:
            raise UnbalancedEntry(
                f"entry {self.idempotency_key} does not balance "
                f"(books {books} fen, memo {memo} fen)",
                details={"books_fen": books, "memo_fen": memo},
            )

    @classmethod
    def build(
        cls,
        idempotency_key: str,
        posted_on: date,
        description: str,
        amounts_fen: Iterable[tuple[Account, int]],
        *,
        reverses_key: str | None = None,
    ) -> JournalEntry:
        """Build from (account, signed amount) pairs, merging repeats and dropping zeros."""
        merged: dict[Account, int] = {}
        for account, amount in amounts_fen:
            merged[account] = merged.get(account, 0) + amount
        postings = tuple(Posting(a, Fen(v)) for a, v in merged.items() if v != 0)
        return cls(idempotency_key, posted_on, description, postings, reverses_key)

    @property
    def total_debit_fen(self) -> Fen:
        return Fen(sum(p.amount_fen for p in self.postings if p.amount_fen > 0))

    def reversal(self, idempotency_key: str, posted_on: date) -> JournalEntry:
        """The correcting entry: every posting negated. The original is never edited."""
        if posted_on < self.posted_on:
            raise InvalidInput(
                f"a reversal ({posted_on}) cannot be dated before the entry it reverses "
                f"({self.posted_on})"
            )
        return JournalEntry(
            idempotency_key=idempotency_key,
            posted_on=posted_on,
            description=f"reversal of {self.idempotency_key}: {self.description}",
            postings=tuple(Posting(p.account, Fen(-p.amount_fen)) for p in self.postings),
            reverses_key=self.idempotency_key,
        )


FUNDING_ACCOUNTS = (Account.SETTLEMENT, Account.REPAYMENT_SUSPENSE)
"""Where a repayment's money comes from: settlement when it arrives, suspense when it was held
since an earlier day (挂账)."""


def money_paid(amounts_fen: Mapping[Account, int]) -> int:
    """The money a repayment's entry brought (negative for its reversal): its debit of the
    account the money came from, settlement or suspense."""
    return sum(amounts_fen.get(account, 0) for account in FUNDING_ACCOUNTS)


def _is_memo(account: Account) -> bool:
    return account.account_type is AccountType.MEMO


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Balances per account as of a date; they sum to zero when the ledger is sound."""

    as_of: date
    balances_fen: Mapping[Account, int]

    @property
    def total_fen(self) -> int:
        return sum(self.balances_fen.values())

    @property
    def balanced(self) -> bool:
        return self.total_fen == 0
