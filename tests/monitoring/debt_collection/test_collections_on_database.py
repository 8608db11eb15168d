"""Collections on the database: queues from servicing's end of day, promises judged against
real repayments, write-offs with four eyes posted through the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from collection_book import MATURITY, Book
from sqlalchemy import select

from puhui.adapters.db.collections.tables import collection_contacts
from puhui.domain.clock import FixedClock
from puhui.domain.ledger import Account
from puhui.domain.lending.account import LoanStatus
from puhui.domain.monitoring.collection import (
    ContactChannel,
    ContactResult,
    DpdBucket,
    PromiseStatus,
    WriteOffStatus,
)
from puhui.services.collections import cases, write_offs
from puhui.services.collections.errors import (
    AlreadyWrittenOff,
    WriteOffNotLegalBucket,
    WriteOffSamePerson,
)
from puhui.services.collections.ports import CaseStatus, QueueFilter
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.receipts import quote_payoff, repay


def _refresh(book: Book, clock: FixedClock) -> cases.RefreshReport:
    assert book.closed_through is not None
    return cases.refresh(book.units, as_of=book.closed_through, actor="system", clock=clock)


def test_overdue_receipts_are_queued_by_bucket_oldest_then_largest_first(
    book: Book, clock: FixedClock
) -> None:
    # Interest settles on the 20th: unpaid, the receipt is past due from the 21st.
    old = book.draw("91350100M000100Y43", 300_000_00, maturity=MATURITY)
    book.close_through(date(2026, 1, 24))
    later = date(2026, 1, 25)
    small = book.draw("91350100M000200Y11", 50_000_00, maturity=date(2026, 6, 1), on=later)
    large = book.draw("91350100M000300Y22", 80_000_00, maturity=date(2026, 6, 1), on=later)
    book.close_through(date(2026, 2, 15))
    first_report = _refresh(book, clock)
    assert first_report.opened == 1  # the later draws settled nothing unpaid yet
    book.close_through(date(2026, 3, 22))
    report = _refresh(book, clock)
    assert report.opened == 2
    assert report.moved == 1  # the oldest went from reminder to collection
    collection = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.COLLECTION)).cases
    reminder = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER)).cases
    assert [c.receipt_id for c in collection] == [old]
    assert collection[0].days_past_due == 60
    assert [c.receipt_id for c in reminder] == [large, small]  # same DPD: larger first
    assert reminder[0].days_past_due == reminder[1].days_past_due == 29
    assert reminder[0].overdue_fen > reminder[1].overdue_fen
    # Cursor pagination walks the same order one case at a time.
    first = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER, limit=1))
    assert first.next_cursor is not None
    second = cases.queue_page(
        book.units,
        QueueFilter(
            bucket=DpdBucket.REMINDER, limit=1, after=cases.decode_cursor(first.next_cursor)
        ),
    )
    assert [c.receipt_id for c in first.cases + second.cases] == [large, small]
    assert second.next_cursor is None
    # A second refresh of the same day changes nothing.
    again = _refresh(book, clock)
    assert (again.opened, again.moved, again.resolved) == (0, 0, 0)
    # Paying everything owed takes the receipt out of the queues.
    owed = quote_payoff(book.units, small, on=book.open_day)
    repay(
        book.units,
        small,
        amount_fen=owed,
        on=book.open_day,
        idempotency_key="payoff",
        actor="customer",
    )
    book.close_through(book.open_day)
    cured = _refresh(book, clock)
    assert cured.resolved == 1
    reminder = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER)).cases
    assert [c.receipt_id for c in reminder] == [large]


def test_a_promise_is_kept_by_a_real_repayment_and_another_broken(
    book: Book, clock: FixedClock
) -> None:
    kept_receipt = book.draw("91350100M000100Y43", 100_000_00)
    broken_receipt = book.draw("91350100M000200Y11", 100_000_00)
    book.close_through(date(2026, 1, 26))
    _refresh(book, clock)
    queue = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER)).cases
    by_receipt = {c.receipt_id: c for c in queue}
    promised_on = book.open_day + timedelta(days=3)
    for receipt in (kept_receipt, broken_receipt):
        cases.promise_to_pay(
            book.units,
            by_receipt[receipt].case_id,
            amount_fen=20_000_00,
            promised_on=promised_on,
            grace_days=1,
            actor="collector-1",
            idempotency_key=f"ptp-{receipt}",
            clock=clock,
        )
    repay(
        book.units,
        kept_receipt,
        amount_fen=25_000_00,
        on=book.open_day,
        idempotency_key="pay-1",
        actor="customer",
    )
    repay(
        book.units,
        broken_receipt,
        amount_fen=5_000_00,  # a part payment keeps no promise
        on=book.open_day,
        idempotency_key="pay-2",
        actor="customer",
    )
    book.close_through(book.open_day)
    pending = _refresh(book, clock)
    assert (pending.promises_kept, pending.promises_broken) == (1, 0)
    book.close_through(promised_on + timedelta(days=1))
    assert _refresh(book, clock).promises_broken == 0  # still inside the grace day
    book.close_through(promised_on + timedelta(days=2))
    assert _refresh(book, clock).promises_broken == 1
    statuses = {
        receipt: cases.case_detail(book.units, by_receipt[receipt].case_id).promises[0]
        for receipt in (kept_receipt, broken_receipt)
    }
    assert statuses[kept_receipt].status is PromiseStatus.KEPT
    assert statuses[kept_receipt].paid_fen == 25_000_00
    assert statuses[broken_receipt].status is PromiseStatus.BROKEN
    assert statuses[broken_receipt].paid_fen == 5_000_00


def test_contacts_are_logged_with_the_note_sealed_and_claims_are_exclusive(
    book: Book, clock: FixedClock
) -> None:
    book.draw("91350100M000100Y43", 100_000_00)
    book.close_through(date(2026, 1, 22))
    _refresh(book, clock)
    (case,) = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER)).cases
    claimed = cases.assign(
        book.units, case.case_id, assignee="am-1", actor="am-1", clock=clock, claim=True
    )
    assert claimed.assignee == "am-1"
    with pytest.raises(cases.CaseTaken):
        cases.assign(
            book.units, case.case_id, assignee="am-2", actor="am-2", clock=clock, claim=True
        )
    handed = cases.hand_over(
        book.units,
        case.customer_id,
        assignee="desk-2",
        actor="supervisor-1",
        reason="task outcome hand_to_collections",
        clock=clock,
    )
    assert [c.assignee for c in handed] == ["desk-2"]
    assert (
        cases.hand_over(
            book.units, "91350100M000999Y00", assignee=None, actor="s", reason="r", clock=clock
        )
        == []
    )
    claimed = cases.assign(
        book.units, case.case_id, assignee="am-1", actor="supervisor-1", clock=clock
    )
    mine = cases.queue_page(book.units, QueueFilter(bucket=DpdBucket.REMINDER, assignee="am-1"))
    assert [c.case_id for c in mine.cases] == [case.case_id]
    with book.units() as uow:  # what the console's home counts for each of them
        assert [uow.collections.count_held(who) for who in ("am-1", "desk-2", "am-2")] == [1, 0, 0]
    note = "spoke to Mr Wang on 13800138000, pays Friday"
    first = cases.record_contact(
        book.units,
        case.case_id,
        channel=ContactChannel.PHONE,
        result=ContactResult.PROMISED,
        contacted_at=clock.now(),
        note=note,
        actor="am-1",
        idempotency_key="contact-1",
        clock=clock,
    )
    replay = cases.record_contact(
        book.units,
        case.case_id,
        channel=ContactChannel.PHONE,
        result=ContactResult.PROMISED,
        contacted_at=clock.now(),
        note=note,
        actor="am-1",
        idempotency_key="contact-1",
        clock=clock,
    )
    assert replay.replayed
    assert replay.entity_id == first.entity_id
    detail = cases.case_detail(book.units, case.case_id)
    assert [c.note for c in detail.contacts] == [note]
    with book.platform.database.engine.connect() as connection:
        stored = connection.execute(select(collection_contacts.c.note_enc)).scalar_one()
    assert "13800138000" not in stored


def test_write_off_needs_90_dpd_and_a_second_person_and_posts_a_balanced_entry(
    book: Book, clock: FixedClock
) -> None:
    receipt = book.draw("91350100M000100Y43", 100_000_00)
    book.close_through(date(2026, 4, 1))
    _refresh(book, clock)
    with pytest.raises(WriteOffNotLegalBucket) as early:
        write_offs.propose(
            book.units,
            receipt,
            reason="no contact",
            actor="collector-1",
            idempotency_key="p0",
            clock=clock,
        )
    assert early.value.code == "write_off_not_90_dpd"
    book.close_through(date(2026, 4, 22))
    _refresh(book, clock)
    proposed = write_offs.propose(
        book.units,
        receipt,
        reason="borrower absconded; court judgment unenforceable",
        actor="collector-1",
        idempotency_key="p1",
        clock=clock,
    )
    with pytest.raises(WriteOffSamePerson) as same:
        write_offs.approve(
            book.units, proposed.entity_id, actor="collector-1", idempotency_key="a0", clock=clock
        )
    assert same.value.code == "write_off_same_person"
    write_offs.approve(
        book.units, proposed.entity_id, actor="risk-1", idempotency_key="a1", clock=clock
    )
    again = write_offs.approve(
        book.units, proposed.entity_id, actor="risk-1", idempotency_key="a1", clock=clock
    )
    assert again.replayed
    approved = write_offs.get_proposal(book.units, proposed.entity_id)
    assert approved.status is WriteOffStatus.APPROVED
    assert approved.decided_by == "risk-1"
    assert approved.entry_key is not None
    assert approved.written_off_fen is not None
    assert approved.written_off_fen >= 100_000_00
    with book.units() as uow:
        loan = uow.loans.get(receipt)
        entry = uow.ledger.get(approved.entry_key)
        actions = [e.action for e in uow.audit.events()]
    assert loan is not None
    assert loan.status is LoanStatus.WRITTEN_OFF
    assert entry is not None
    assert sum(p.amount_fen for p in entry.postings) == 0
    assert "write_off.proposed" in actions
    assert "write_off.approved" in actions
    assert "receipt.written_off" in actions
    balance = trial_balance(book.units, as_of=book.open_day)
    assert balance.balanced
    assert balance.balances_fen[Account.WRITE_OFF_EXPENSE] > 0
    assert balance.balances_fen.get(Account.PRINCIPAL_RECEIVABLE, 0) == 0
    with pytest.raises(AlreadyWrittenOff) as twice:
        write_offs.propose(
            book.units,
            receipt,
            reason="again",
            actor="collector-2",
            idempotency_key="p2",
            clock=clock,
        )
    assert twice.value.code == "already_written_off"
    book.close_through(book.open_day)
    report = _refresh(book, clock)
    assert report.open_cases == 0
    case = cases.case_detail(book.units, approved.case_id or "").case
    assert case.status is CaseStatus.WRITTEN_OFF
