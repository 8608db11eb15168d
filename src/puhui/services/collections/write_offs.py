"""Write-off (核销) proposals with four eyes; approval posts through servicing's ``write_off``.

A collector or supervisor proposes a receipt more than 90 days past due, with a reason; a
second person (never the proposer) approves or rejects. Approval first commits the proposal
as ``approving`` (which a rejection can no longer overturn), then calls servicing's write-off
under a key derived from the proposal, then records it ``approved`` and closes the case: if
the process stops in between, approving again resumes — servicing replays a posting already
made — so the ledger entry is never posted twice and never stands beside a rejected proposal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import ReceiptId, new_id
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.monitoring.collection import (
    COLLECTION_MAX_DPD,
    WriteOffProposal,
    WriteOffStatus,
)
from puhui.domain.monitoring.errors import WriteOffFourEyes
from puhui.services.audit import record
from puhui.services.collections.cases import Recorded, business_day
from puhui.services.collections.errors import (
    AlreadyWrittenOff,
    WriteOffAlreadyDecided,
    WriteOffNotLegalBucket,
    WriteOffSamePerson,
)
from puhui.services.collections.ports import (
    CaseStatus,
    CollectionsUnitOfWork,
    StoredProposal,
)
from puhui.services.servicing.idempotency import check_key, find_replay, remember, request_digest
from puhui.services.servicing.receipts import WriteOffResult, write_off

UowFactory = Callable[[], CollectionsUnitOfWork]
ENTITY = "write_off_proposal"


def posting_key(proposal_id: str) -> str:
    """The idempotency key of the servicing write-off an approval posts."""
    return f"write-off-proposal:{proposal_id}"


def _audit(uow: CollectionsUnitOfWork, actor: str, action: str, item: StoredProposal) -> None:
    record(
        uow,
        actor=actor,
        action=f"write_off.{action}",
        entity=ENTITY,
        entity_id=item.proposal_id,
        payload={
            "receipt_id": item.receipt_id,
            "status": item.status.value,
            "principal_fen": item.principal_fen,
            "interest_fen": item.interest_fen,
            "days_past_due": item.days_past_due,
            "entry_key": item.entry_key,
        },
    )


def _require_loan(uow: CollectionsUnitOfWork, receipt_id: str) -> LoanAccount:
    loan = uow.loans.get(receipt_id)
    if loan is None:
        raise NotFound("no such receipt", details={"receipt_id": receipt_id})
    return loan


MAX_REASON_CHARS = 400
"""The reason column's width."""


def propose(
    uow_factory: UowFactory,
    receipt_id: str,
    *,
    reason: str,
    actor: str,
    idempotency_key: str,
    clock: Clock,
) -> Recorded:
    """Propose writing a receipt off; refused unless it is more than 90 days past due."""
    if not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(
            f"a write-off states its reason in 1 to {MAX_REASON_CHARS} characters",
            details={"field": "reason"},
        )
    key = check_key(idempotency_key)
    operation = "write_off_propose"
    digest = request_digest(operation, {"receipt_id": receipt_id, "reason": reason})
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        loan = _require_loan(uow, receipt_id)
        if loan.status is LoanStatus.WRITTEN_OFF:
            raise AlreadyWrittenOff(f"receipt {receipt_id} is written off already")
        if loan.days_past_due <= COLLECTION_MAX_DPD or loan.status is not LoanStatus.ACTIVE:
            raise WriteOffNotLegalBucket(
                f"receipt {receipt_id} is {loan.days_past_due} days past due: only receipts "
                f"more than {COLLECTION_MAX_DPD} days past due may be written off",
                details={"days_past_due": loan.days_past_due},
            )
        if uow.collections.open_proposal(receipt_id) is not None:
            raise WriteOffAlreadyDecided(
                f"receipt {receipt_id} already has a write-off proposal awaiting a decision"
            )
        case = uow.collections.case_of_receipt(receipt_id)
        proposed_on = business_day(uow, clock)
        domain = WriteOffProposal(
            proposal_id=_new_proposal_id(),
            receipt_id=receipt_id,
            principal_fen=loan.outstanding_principal_fen,
            interest_fen=loan.income_owed_fen,
            reason=reason,
            proposed_by=actor,
            proposed_on=proposed_on,
            days_past_due=loan.days_past_due,
        )
        stored = StoredProposal(
            proposal_id=domain.proposal_id,
            receipt_id=receipt_id,
            case_id=None if case is None else case.case_id,
            principal_fen=domain.principal_fen,
            interest_fen=domain.interest_fen,
            days_past_due=domain.days_past_due,
            reason=reason,
            proposed_by=actor,
            proposed_on=proposed_on,
            status=WriteOffStatus.PROPOSED,
            decided_by=None,
            decided_on=None,
            decision_note=None,
            entry_key=None,
            written_off_fen=None,
            created_at=clock.now(),
            version=1,
        )
        uow.collections.add_proposal(stored)
        _audit(uow, actor, "proposed", stored)
        done = Recorded(entity_id=stored.proposal_id)
        remember(uow, key, operation, digest, done)
        uow.commit()
    return done


def _new_proposal_id() -> str:
    return new_id("wo")


def _domain(item: StoredProposal) -> WriteOffProposal:
    return WriteOffProposal(
        proposal_id=item.proposal_id,
        receipt_id=item.receipt_id,
        principal_fen=item.principal_fen,
        interest_fen=item.interest_fen,
        reason=item.reason,
        proposed_by=item.proposed_by,
        proposed_on=item.proposed_on,
        days_past_due=item.days_past_due,
        status=item.status,
        decided_by=item.decided_by,
        decided_on=item.decided_on,
    )


def _locked(uow: CollectionsUnitOfWork, proposal_id: str) -> StoredProposal:
    item = uow.collections.proposal(proposal_id, for_update=True)
    if item is None:
        raise NotFound("no such write-off proposal", details={"proposal_id": proposal_id})
    return item


def _same_person(actor: str, proposal_id: str) -> WriteOffSamePerson:
    return WriteOffSamePerson(
        f"{actor} proposed write-off {proposal_id}: a second person decides",
        details={"proposal_id": proposal_id},
    )


def _checked_decision(
    uow: CollectionsUnitOfWork, item: StoredProposal, *, actor: str, clock: Clock, approve: bool
) -> WriteOffProposal:
    """The decision on a proposal still ``proposed`` (locked by the caller), four eyes."""
    proposal_id = item.proposal_id
    if item.status is not WriteOffStatus.PROPOSED:
        raise WriteOffAlreadyDecided(f"write-off {proposal_id} is already {item.status.value}")
    on = max(business_day(uow, clock), item.proposed_on)
    try:
        decided = (
            _domain(item).start_approval(actor, on) if approve else _domain(item).reject(actor, on)
        )
    except WriteOffFourEyes as exc:
        raise _same_person(actor, proposal_id) from exc
    return decided


def approve(
    uow_factory: UowFactory,
    proposal_id: str,
    *,
    actor: str,
    idempotency_key: str,
    clock: Clock,
    note: str | None = None,
) -> Recorded:
    """Approve (a second person) and post the write-off through servicing: balanced, audited.

    Three steps, each committed: the proposal becomes ``approving`` (a compare-and-set on its
    version; from then on a rejection is refused), the write-off is posted under the proposal's
    own key, and the proposal becomes ``approved`` with the case closed. Approving an
    ``approving`` proposal again resumes where a failure stopped: servicing replays a posting
    already made, so the ledger entry is never posted twice.
    """
    key = check_key(idempotency_key)
    operation = "write_off_approve"
    digest = request_digest(operation, {"proposal_id": proposal_id})
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        item = _locked(uow, proposal_id)
        if item.status is WriteOffStatus.APPROVING:
            try:
                _domain(item).complete_approval(actor)
            except WriteOffFourEyes as exc:
                raise _same_person(actor, proposal_id) from exc
            starting = None
        else:
            decided = _checked_decision(uow, item, actor=actor, clock=clock, approve=True)
            starting = replace(
                item,
                status=WriteOffStatus.APPROVING,
                decided_by=actor,
                decided_on=decided.decided_on,
                decision_note=note,
                version=item.version + 1,
            )
        loan = _require_loan(uow, item.receipt_id)
        ours = uow.requests.get(posting_key(proposal_id)) is not None
        if loan.status is LoanStatus.WRITTEN_OFF and not ours:
            raise AlreadyWrittenOff(f"receipt {item.receipt_id} is written off already")
        # The write-off is dated the loan's open business day (the day after its last accrual).
        last = loan.accrued_through or loan.disbursed_on - timedelta(days=1)
        on = loan.closed_on if ours and loan.closed_on is not None else last + timedelta(days=1)
        if starting is not None:
            uow.collections.save_proposal(starting)
            _audit(uow, actor, "approving", starting)
            uow.commit()
    posted = write_off(
        uow_factory,
        ReceiptId(item.receipt_id),
        on=on,
        idempotency_key=posting_key(proposal_id),
        actor=actor,
        reason=f"write-off proposal {proposal_id}: {item.reason}",
    )
    return _complete_approval(
        uow_factory,
        proposal_id,
        posted,
        actor=actor,
        clock=clock,
        note=note,
        request=(key, operation, digest),
    )


def _complete_approval(
    uow_factory: UowFactory,
    proposal_id: str,
    posted: WriteOffResult,
    *,
    actor: str,
    clock: Clock,
    note: str | None,
    request: tuple[str, str, str],
) -> Recorded:
    """The last step of an approval: ``approving`` becomes ``approved``, the case closes."""
    key, operation, digest = request
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        item = _locked(uow, proposal_id)
        done = Recorded(entity_id=proposal_id)
        if item.status is WriteOffStatus.APPROVED and item.entry_key == posted.entry_key:
            # Another approver resumed the same approval and finished first.
            remember(uow, key, operation, digest, done)
            uow.commit()
            return done
        if item.status is not WriteOffStatus.APPROVING:
            raise WriteOffAlreadyDecided(f"write-off {proposal_id} is already {item.status.value}")
        updated = replace(
            item,
            status=_domain(item).complete_approval(actor).status,
            decision_note=item.decision_note if item.decision_note is not None else note,
            entry_key=posted.entry_key,
            written_off_fen=posted.written_off_fen,
            version=item.version + 1,
        )
        uow.collections.save_proposal(updated)
        _audit(uow, actor, "approved", updated)
        case = uow.collections.case_of_receipt(item.receipt_id)
        if case is not None and case.status is not CaseStatus.WRITTEN_OFF:
            closed = replace(
                case,
                status=CaseStatus.WRITTEN_OFF,
                bucket=None,
                overdue_fen=0,
                outstanding_fen=0,
                updated_at=clock.now(),
                version=case.version + 1,
            )
            uow.collections.save_case(closed)
            record(
                uow,
                actor=actor,
                action="collection.written_off",
                entity="collection_case",
                entity_id=case.case_id,
                payload={"receipt_id": case.receipt_id, "proposal_id": proposal_id},
            )
        remember(uow, key, operation, digest, done)
        uow.commit()
    return done


def reject(
    uow_factory: UowFactory,
    proposal_id: str,
    *,
    actor: str,
    idempotency_key: str,
    clock: Clock,
    note: str | None = None,
) -> Recorded:
    """Reject (a second person): the receipt stays on the books and in its queue."""
    key = check_key(idempotency_key)
    operation = "write_off_reject"
    digest = request_digest(operation, {"proposal_id": proposal_id, "note": note})
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        item = _locked(uow, proposal_id)
        decided = _checked_decision(uow, item, actor=actor, clock=clock, approve=False)
        updated = replace(
            item,
            status=WriteOffStatus.REJECTED,
            decided_by=actor,
            decided_on=decided.decided_on,
            decision_note=note,
            version=item.version + 1,
        )
        uow.collections.save_proposal(updated)
        _audit(uow, actor, "rejected", updated)
        done = Recorded(entity_id=proposal_id)
        remember(uow, key, operation, digest, done)
        uow.commit()
    return done


def get_proposal(uow_factory: UowFactory, proposal_id: str) -> StoredProposal:
    with uow_factory() as uow:
        item = uow.collections.proposal(proposal_id)
    if item is None:
        raise NotFound("no such write-off proposal", details={"proposal_id": proposal_id})
    return item


def list_proposals(
    uow_factory: UowFactory, status: WriteOffStatus | None = None, *, limit: int = 100
) -> list[StoredProposal]:
    with uow_factory() as uow:
        return uow.collections.proposals(status, limit=limit)
