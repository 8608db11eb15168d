"""The in-memory book: unique ids and invoices, known enterprises, the facility, settlement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from puhui.domain.errors import PuhuiError
from puhui.domain.ledger import Account
from puhui.domain.supply_chain import (
    BANK_PAYEE,
    VoucherBook,
    VoucherStatus,
    financing_entry,
    penalty_entry,
    settlement_entries,
)

D1 = date(2026, 1, 1)
DUE = date(2026, 6, 30)


def issued(
    book: VoucherBook, voucher_id: str, amount: int, *, holder: str = "S1", key: str | None = None
) -> None:
    book.issue(
        voucher_id,
        core_id="CORE",
        holder_id=holder,
        amount_fen=amount,
        issued_on=D1,
        maturity=DUE,
        invoice_key=key,
    )
    book.accept(voucher_id, by=holder, on=D1)


def snapshot(book: VoucherBook) -> tuple[object, ...]:
    return (
        book.vouchers(),
        book.outstanding_fen("CORE"),
        tuple(book.financings),
        tuple(book.settlements),
    )


def refused(book: VoucherBook, code: str, call: object, *args: object, **kwargs: object) -> None:
    before = snapshot(book)
    assert callable(call)
    with pytest.raises(PuhuiError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert snapshot(book) == before


def test_book_keeps_creation_order_and_the_tree() -> None:
    book = VoucherBook()
    issued(book, "R1", 1000)
    issued(book, "R2", 500)
    book.split("R1", [("R1a", 600), ("R1b", 400)], by="S1", on=D1)
    book.transfer("R1a", by="S1", to="S2", on=D1)
    book.split("R1a", [("R1a1", 100), ("R1a2", 500)], by="S2", on=D1)
    assert [v.voucher_id for v in book.vouchers()] == ["R1", "R2", "R1a", "R1b", "R1a1", "R1a2"]
    assert [c.voucher_id for c in book.children("R1")] == ["R1a", "R1b"]
    assert book.ancestry("R1a2") == ("R1", "R1a", "R1a2")
    assert book.holders_chain("R1a2") == ("S1", "S2")
    assert book.outstanding_fen("CORE") == 1500


def test_book_refusals_change_nothing() -> None:
    book = VoucherBook(facilities_fen={"CORE": 2000}, enterprises={"CORE", "S1", "S2"})
    issued(book, "R1", 1000, key="S1:CORE:2026-01")
    refused(
        book,
        "duplicate_voucher_id",
        book.issue,
        "R1",
        core_id="CORE",
        holder_id="S1",
        amount_fen=1,
        issued_on=D1,
        maturity=DUE,
    )
    refused(
        book,
        "invoice_already_used",
        book.issue,
        "R2",
        core_id="CORE",
        holder_id="S1",
        amount_fen=1,
        issued_on=D1,
        maturity=DUE,
        invoice_key="S1:CORE:2026-01",
    )
    refused(
        book,
        "facility_exceeded",
        book.issue,
        "R2",
        core_id="CORE",
        holder_id="S1",
        amount_fen=1001,
        issued_on=D1,
        maturity=DUE,
    )
    refused(
        book,
        "unknown_enterprise",
        book.issue,
        "R2",
        core_id="CORE",
        holder_id="S9",
        amount_fen=1,
        issued_on=D1,
        maturity=DUE,
    )
    refused(book, "unknown_enterprise", book.transfer, "R1", by="S1", to="S9", on=D1)
    refused(book, "transfer_to_self", book.transfer, "R1", by="S1", to="S1", on=D1)
    refused(book, "voucher_not_found", book.transfer, "R9", by="S1", to="S2", on=D1)
    issued(book, "R2", 10, key="S1:CORE:2026-02")
    refused(
        book, "duplicate_voucher_id", book.split, "R1", [("R2", 500), ("X", 500)], by="S1", on=D1
    )
    refused(book, "split_does_not_sum", book.split, "R1", [("A", 500), ("B", 499)], by="S1", on=D1)
    issued(book, "R3", 990)
    assert book.outstanding_fen("CORE") == 2000
    refused(
        book,
        "facility_exceeded",
        book.issue,
        "R4",
        core_id="CORE",
        holder_id="S1",
        amount_fen=1,
        issued_on=D1,
        maturity=DUE,
    )


def test_a_core_without_a_facility_in_a_book_with_facilities_cannot_issue() -> None:
    book = VoucherBook(facilities_fen={"OTHER": 10_000})
    refused(
        book,
        "facility_exceeded",
        book.issue,
        "R1",
        core_id="CORE",
        holder_id="S1",
        amount_fen=1,
        issued_on=D1,
        maturity=DUE,
    )


def test_settle_due_pays_holders_and_the_bank_and_frees_the_facility() -> None:
    book = VoucherBook(facilities_fen={"CORE": 3000})
    issued(book, "R1", 1000)
    book.issue(
        "R2",
        core_id="CORE",
        holder_id="S3",
        amount_fen=2000,
        issued_on=D1,
        maturity=date(2026, 9, 30),
    )
    book.split("R1", [("A", 300), ("B", 700)], by="S1", on=D1)
    book.transfer("B", by="S1", to="S2", on=D1)
    priced = book.finance("A", by="S1", on=date(2026, 3, 1), annual_rate=Decimal("0.036"))
    assert priced.days == 121
    assert book.settle_due(date(2026, 6, 29)) == []
    paid = book.settle_due(DUE)
    assert paid == [("A", BANK_PAYEE, 300), ("B", "S2", 700)]
    assert book.outstanding_fen("CORE") == 2000
    assert book.get("R1").status is VoucherStatus.SPLIT
    assert {book.get(i).status for i in ("A", "B")} == {VoucherStatus.SETTLED}
    assert book.settle_due(DUE) == []
    # a pending voucher at maturity is owed all the same: settled to its holder
    assert book.settle_due(date(2026, 9, 30)) == [("R2", "S3", 2000)]
    assert book.outstanding_fen("CORE") == 0
    assert [s.voucher_id for s in book.settlements] == ["A", "B", "R2"]


def test_postings_balance_and_clear_the_voucher_accounts() -> None:
    book = VoucherBook()
    issued(book, "R1", 1_234_500)
    issued(book, "R2", 500_000)
    priced = book.finance(
        "R1", by="S1", on=date(2026, 4, 1), annual_rate=Decimal("0.036"), fee_rate=Decimal("0.001")
    )
    entries = [financing_entry("fin:R1", priced, date(2026, 4, 1))]
    interest = {f.voucher_id: f.discount.interest_fen for f in book.financings}
    for voucher_id, payee, _ in book.settle_due(DUE):
        entries += settlement_entries(
            f"settle:{voucher_id}", book.get(voucher_id), payee, DUE, interest.get(voucher_id, 0)
        )
    entries.append(penalty_entry("penalty:R1", 12, DUE))
    balances: dict[Account, int] = {}
    for entry in entries:
        for p in entry.postings:
            balances[p.account] = balances.get(p.account, 0) + p.amount_fen
    assert sum(balances.values()) == 0
    assert balances.get(Account.DISCOUNTED_VOUCHERS, 0) == 0
    assert balances.get(Account.UNEARNED_DISCOUNT, 0) == 0
    assert balances.get(Account.VOUCHER_SETTLEMENT_PAYABLE, 0) == 0
    assert balances[Account.DISCOUNT_INTEREST_INCOME] == -priced.interest_fen
    assert balances[Account.FEE_INCOME] == -priced.fee_fen
    # the bank paid proceeds and received the face: its gain is interest + fee
    assert balances[Account.SETTLEMENT] == priced.interest_fen + priced.fee_fen
    assert balances[Account.PENALTY_RECEIVABLE] == 12 == -balances[Account.PENALTY_INCOME]
    assert [e.idempotency_key for e in entries] == [
        "fin:R1",
        "settle:R1",
        "settle:R2:received",
        "settle:R2:paid",
        "penalty:R1",
    ]


def test_settlement_entries_refuse_a_payee_that_contradicts_the_voucher() -> None:
    book = VoucherBook()
    issued(book, "R1", 100)
    with pytest.raises(PuhuiError):
        settlement_entries("k", book.get("R1"), BANK_PAYEE, DUE)
    book.finance("R1", by="S1", on=D1, annual_rate=Decimal("0.03"))
    with pytest.raises(PuhuiError):
        settlement_entries("k", book.get("R1"), "S1", DUE)


def test_new_accounts_are_in_the_chart() -> None:
    assert Account.from_code("2241") is Account.VOUCHER_SETTLEMENT_PAYABLE
    assert Account.VOUCHER_SETTLEMENT_PAYABLE.account_type.value == "liability"
    assert {a.code for a in Account} >= {"1305", "1306", "6014", "6021", "2241"}
