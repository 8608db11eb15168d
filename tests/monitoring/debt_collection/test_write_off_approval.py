"""A write-off approval stopped or raced half-way never leaves a receipt written off in the
ledger beside a rejected proposal and an open case: once approving, a rejection is refused,
and approving again finishes the job with the one ledger entry already posted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from collection_book import Book
from sqlalchemy import func, select

from puhui.adapters.db.servicing.tables import journal_entries
from puhui.domain.clock import FixedClock
from puhui.domain.lending.account import LoanStatus
from puhui.domain.monitoring.collection import WriteOffStatus
from puhui.services.collections import cases, write_offs
from puhui.services.collections.errors import WriteOffAlreadyDecided, WriteOffSamePerson
from puhui.services.collections.ports import CaseStatus
from puhui.services.servicing.ledger import trial_balance


class Interrupted(RuntimeError):
    """Stands for the process stopping between the posting and the final step."""


def _proposed(book: Book, clock: FixedClock) -> tuple[str, str]:
    receipt = book.draw("91350100M000100Y43", 100_000_00)
    book.close_through(date(2026, 4, 22))
    assert book.closed_through is not None
    cases.refresh(book.units, as_of=book.closed_through, actor="system", clock=clock)
    proposed = write_offs.propose(
        book.units,
        receipt,
        reason="borrower absconded; court judgment unenforceable",
        actor="collector-1",
        idempotency_key="p1",
        clock=clock,
    )
    return receipt, proposed.entity_id


def _write_off_entries(book: Book) -> int:
    with book.platform.database.engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.idempotency_key.like("write_off:%"))
        ).scalar_one()
    return int(count)


def _assert_written_off_once(book: Book, receipt: str, proposal_id: str) -> None:
    stored = write_offs.get_proposal(book.units, proposal_id)
    assert stored.status is WriteOffStatus.APPROVED
    assert stored.decided_by == "risk-1"
    assert stored.entry_key == f"write_off:{write_offs.posting_key(proposal_id)}"
    assert _write_off_entries(book) == 1
    with book.units() as uow:
        loan = uow.loans.get(receipt)
        actions = [e.action for e in uow.audit.events()]
    assert loan is not None
    assert loan.status is LoanStatus.WRITTEN_OFF
    assert actions.count("receipt.written_off") == 1
    assert actions.count("write_off.approving") == 1
    assert actions.count("write_off.approved") == 1
    assert "write_off.rejected" not in actions
    case = cases.case_detail(book.units, stored.case_id or "").case
    assert case.status is CaseStatus.WRITTEN_OFF
    assert trial_balance(book.units, as_of=book.open_day).balanced


def test_a_rejection_arriving_after_the_approval_started_is_refused(
    book: Book, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt, proposal_id = _proposed(book, clock)
    post = write_offs.write_off
    seen: list[WriteOffStatus] = []

    def rejected_meanwhile(*args: Any, **kwargs: Any) -> Any:
        # A second risk officer rejects between the approval's first step and the posting.
        seen.append(write_offs.get_proposal(book.units, proposal_id).status)
        with pytest.raises(WriteOffAlreadyDecided) as refused:
            write_offs.reject(
                book.units, proposal_id, actor="risk-2", idempotency_key="r1", clock=clock
            )
        assert refused.value.code == "write_off_already_decided"
        return post(*args, **kwargs)

    monkeypatch.setattr(write_offs, "write_off", rejected_meanwhile)
    write_offs.approve(book.units, proposal_id, actor="risk-1", idempotency_key="a1", clock=clock)
    assert seen == [WriteOffStatus.APPROVING]
    _assert_written_off_once(book, receipt, proposal_id)


def test_an_approval_stopped_after_the_posting_is_finished_by_a_retry(
    book: Book, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt, proposal_id = _proposed(book, clock)
    finish = write_offs._complete_approval
    failures: list[str] = []

    def stops_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(proposal_id)
            raise Interrupted("the process stopped after the posting")
        return finish(*args, **kwargs)

    monkeypatch.setattr(write_offs, "_complete_approval", stops_once)
    with pytest.raises(Interrupted):
        write_offs.approve(
            book.units, proposal_id, actor="risk-1", idempotency_key="a1", clock=clock
        )
    # Half-way: the ledger holds the write-off, the proposal is approving (not rejectable).
    halfway = write_offs.get_proposal(book.units, proposal_id)
    assert halfway.status is WriteOffStatus.APPROVING
    assert halfway.decided_by == "risk-1"
    assert _write_off_entries(book) == 1
    with pytest.raises(WriteOffAlreadyDecided):
        write_offs.reject(
            book.units, proposal_id, actor="risk-2", idempotency_key="r1", clock=clock
        )
    with pytest.raises(WriteOffSamePerson):
        write_offs.approve(
            book.units, proposal_id, actor="collector-1", idempotency_key="a0", clock=clock
        )
    done = write_offs.approve(
        book.units, proposal_id, actor="risk-1", idempotency_key="a1", clock=clock
    )
    assert not done.replayed
    _assert_written_off_once(book, receipt, proposal_id)
    again = write_offs.approve(
        book.units, proposal_id, actor="risk-1", idempotency_key="a1", clock=clock
    )
    assert again.replayed
    with pytest.raises(WriteOffAlreadyDecided):
        write_offs.approve(
            book.units, proposal_id, actor="risk-2", idempotency_key="a2", clock=clock
        )
    assert _write_off_entries(book) == 1
