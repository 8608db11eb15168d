"""Collection cases on the database: the DPD queues built from servicing's end of day.

``refresh`` is the run step (after each end of day, or on demand): every active receipt or term
loan past due gets an open case in the queue of its bucket — 1–30 reminder, 31–90 collection,
beyond 90 legal/recovery — and a case whose receipt is current again, repaid or written off
leaves the queues. Pending promises to pay are judged in the same step against the repayments
servicing posted. Running it twice for one day changes nothing the second time.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.ledger import money_paid
from puhui.domain.lending.account import LoanStatus
from puhui.domain.monitoring.collection import (
    ContactAttempt,
    ContactChannel,
    ContactResult,
    PromiseStatus,
    PromiseToPay,
    Repayment,
    dpd_bucket,
)
from puhui.services.audit import record
from puhui.services.collections.errors import CaseNotOpen
from puhui.services.collections.ports import (
    CaseStatus,
    CollectionCase,
    CollectionsUnitOfWork,
    QueueCursor,
    QueueFilter,
    StoredContact,
    StoredPromise,
    StoredProposal,
)
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)
from puhui.services.servicing.statements import Operation

logger = logging.getLogger(__name__)

UowFactory = Callable[[], CollectionsUnitOfWork]
ENTITY = "collection_case"
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class RefreshReport:
    as_of: date
    opened: int
    reopened: int
    moved: int
    """Cases whose bucket changed."""
    resolved: int
    written_off: int
    open_cases: int
    promises_kept: int
    promises_broken: int


def business_day(uow: CollectionsUnitOfWork, clock: Clock) -> date:
    """The servicing business day open for postings: the day after the last one closed."""
    closed = uow.business_days.last_closed()
    return clock.today() if closed is None else closed + timedelta(days=1)


def refresh(uow_factory: UowFactory, *, as_of: date, actor: str, clock: Clock) -> RefreshReport:
    """Bring the cases in line with servicing as its end of day left it; judge promises."""
    counts = dict.fromkeys(("opened", "reopened", "moved", "resolved", "written_off"), 0)
    now = clock.now()
    with uow_factory() as uow:
        repo = uow.collections
        delinquent = {d.receipt_id: d for d in repo.delinquent_loans()}
        open_cases = {c.receipt_id: c for c in repo.open_cases()}
        for receipt_id, loan in delinquent.items():
            bucket = dpd_bucket(loan.days_past_due)
            case = open_cases.get(receipt_id) or repo.case_of_receipt(receipt_id)
            if case is None:
                case = CollectionCase(
                    case_id=new_id("case"),
                    receipt_id=receipt_id,
                    customer_id=loan.customer_id,
                    line_id=loan.line_id,
                    status=CaseStatus.OPEN,
                    bucket=bucket,
                    days_past_due=loan.days_past_due,
                    overdue_fen=loan.overdue_fen,
                    outstanding_fen=loan.outstanding_fen,
                    assignee=None,
                    opened_on=as_of,
                    refreshed_on=as_of,
                    updated_at=now,
                    version=1,
                )
                repo.add_case(case)
                counts["opened"] += 1
                _audit(uow, actor, "opened", case, {"bucket": str(bucket), "as_of": str(as_of)})
                continue
            now_state = (CaseStatus.OPEN, bucket, loan.days_past_due, loan.overdue_fen)
            was = (case.status, case.bucket, case.days_past_due, case.overdue_fen)
            if now_state == was and case.outstanding_fen == loan.outstanding_fen:
                continue  # nothing changed since the last refresh
            updated = replace(
                case,
                status=CaseStatus.OPEN,
                bucket=bucket,
                days_past_due=loan.days_past_due,
                overdue_fen=loan.overdue_fen,
                outstanding_fen=loan.outstanding_fen,
                refreshed_on=as_of,
                updated_at=now,
                version=case.version + 1,
            )
            repo.save_case(updated)
            if case.status is not CaseStatus.OPEN:
                counts["reopened"] += 1
                _audit(uow, actor, "reopened", updated, {"bucket": str(bucket)})
            elif case.bucket is not bucket:
                counts["moved"] += 1
                _audit(uow, actor, "moved", updated, {"from": str(case.bucket), "to": str(bucket)})
        for receipt_id, case in open_cases.items():
            if receipt_id in delinquent:
                continue
            account = uow.loans.get(receipt_id)
            written = account is not None and account.status is LoanStatus.WRITTEN_OFF
            status = CaseStatus.WRITTEN_OFF if written else CaseStatus.RESOLVED
            done = replace(
                case,
                status=status,
                bucket=None,
                days_past_due=0 if account is None else account.days_past_due,
                overdue_fen=0,
                outstanding_fen=0 if account is None else account.outstanding_principal_fen,
                refreshed_on=as_of,
                updated_at=now,
                version=case.version + 1,
            )
            repo.save_case(done)
            counts["written_off" if written else "resolved"] += 1
            _audit(uow, actor, status.value, done, {"as_of": str(as_of)})
        kept, broken = _judge_promises(uow, as_of=as_of, actor=actor)
        open_after = len(repo.open_cases())
        uow.commit()
    report = RefreshReport(
        as_of=as_of,
        open_cases=open_after,
        promises_kept=kept,
        promises_broken=broken,
        **counts,
    )
    logger.info("collections refreshed for %s: %s", as_of, report)
    return report


def repayments_of(uow: CollectionsUnitOfWork, receipt_id: str, *, through: date) -> list[Repayment]:
    """Money servicing took on a receipt (reversals count against it), by posting date."""
    found = []
    for event in uow.ledger.receipt_events([receipt_id], through=through):
        if event.operation in (Operation.REPAY, Operation.REVERSE_REPAYMENT):
            amount = money_paid(event.amounts_fen)
            if amount:
                found.append(Repayment(paid_on=event.posted_on, amount_fen=amount))
    return found


def _judge_promises(uow: CollectionsUnitOfWork, *, as_of: date, actor: str) -> tuple[int, int]:
    kept = broken = 0
    for stored in uow.collections.pending_promises():
        promise = _domain_promise(stored)
        verdict = promise.evaluate(repayments_of(uow, stored.receipt_id, through=as_of), as_of)
        if verdict.status is PromiseStatus.PENDING and verdict.paid_fen == stored.paid_fen:
            continue
        judged = replace(
            stored, status=verdict.status, paid_fen=verdict.paid_fen, evaluated_on=as_of
        )
        uow.collections.save_promise(judged)
        if verdict.status is PromiseStatus.KEPT:
            kept += 1
        elif verdict.status is PromiseStatus.BROKEN:
            broken += 1
        record(
            uow,
            actor=actor,
            action=f"collection.promise_{verdict.status.value}",
            entity="promise_to_pay",
            entity_id=stored.promise_id,
            payload={
                "case_id": stored.case_id,
                "paid_fen": verdict.paid_fen,
                "amount_fen": stored.amount_fen,
                "as_of": as_of.isoformat(),
            },
        )
    return kept, broken


def _domain_promise(stored: StoredPromise) -> PromiseToPay:
    return PromiseToPay(
        promise_id=stored.promise_id,
        receipt_id=stored.receipt_id,
        amount_fen=stored.amount_fen,
        made_on=stored.made_on,
        promised_on=stored.promised_on,
        grace_days=stored.grace_days,
    )


def _audit(
    uow: CollectionsUnitOfWork,
    actor: str,
    action: str,
    case: CollectionCase,
    payload: dict[str, object],
) -> None:
    record(
        uow,
        actor=actor,
        action=f"collection.{action}",
        entity=ENTITY,
        entity_id=case.case_id,
        payload={"receipt_id": case.receipt_id, **payload},
    )


# --- reading -------------------------------------------------------------------------------


def encode_cursor(cursor: QueueCursor) -> str:
    raw = f"{cursor.days_past_due}:{cursor.overdue_fen}:{cursor.receipt_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> QueueCursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        dpd, overdue, receipt_id = raw.split(":", 2)
        return QueueCursor(int(dpd), int(overdue), receipt_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("not a cursor this queue gave out", details={"cursor": text}) from exc


@dataclass(frozen=True, slots=True)
class QueuePage:
    cases: list[CollectionCase]
    next_cursor: str | None


def queue_page(uow_factory: UowFactory, query: QueueFilter) -> QueuePage:
    """One page of a bucket's queue; ``next_cursor`` reads on after its last case."""
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} cases")
    with uow_factory() as uow:
        cases = uow.collections.queue(replace(query, limit=query.limit + 1))
    more = len(cases) > query.limit
    cases = cases[: query.limit]
    cursor = None
    if more:
        last = cases[-1]
        cursor = encode_cursor(QueueCursor(last.days_past_due, last.overdue_fen, last.receipt_id))
    return QueuePage(cases, cursor)


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CollectionCase
    promises: list[StoredPromise]
    contacts: list[StoredContact]
    proposal: StoredProposal | None
    """The open write-off proposal of the receipt, if any."""


def case_detail(uow_factory: UowFactory, case_id: str) -> CaseDetail:
    with uow_factory() as uow:
        case = _require_case(uow, case_id)
        return CaseDetail(
            case=case,
            promises=uow.collections.promises(case_id),
            contacts=uow.collections.contacts(case_id),
            proposal=uow.collections.open_proposal(case.receipt_id),
        )


def _require_case(
    uow: CollectionsUnitOfWork, case_id: str, *, for_update: bool = False
) -> CollectionCase:
    case = uow.collections.case(case_id, for_update=for_update)
    if case is None:
        raise NotFound("no such collection case", details={"case_id": case_id})
    return case


# --- working a case ------------------------------------------------------------------------


class CaseTaken(Conflict):
    """Another collector holds the case: a supervisor reassigns it."""

    code = "collection_case_taken"


def assign(
    uow_factory: UowFactory,
    case_id: str,
    *,
    assignee: str,
    actor: str,
    clock: Clock,
    claim: bool = False,
) -> CollectionCase:
    """Give the case to ``assignee``. A claim (``assignee`` is the actor) takes only a case
    nobody holds; an assignment by a supervisor may take it from someone else."""
    with uow_factory() as uow:
        case = _require_case(uow, case_id, for_update=True)
        if case.status is not CaseStatus.OPEN:
            raise CaseNotOpen(f"case {case_id} is {case.status.value}")
        if case.assignee == assignee:
            return case
        if claim and case.assignee is not None:
            raise CaseTaken(f"case {case_id} is held by {case.assignee}")
        updated = replace(case, assignee=assignee, updated_at=clock.now(), version=case.version + 1)
        uow.collections.save_case(updated)
        _audit(
            uow,
            actor,
            "claimed" if claim else "assigned",
            updated,
            {"from": case.assignee, "to": assignee},
        )
        uow.commit()
    return updated


def hand_over(
    uow_factory: UowFactory,
    customer_id: str,
    *,
    assignee: str | None,
    actor: str,
    reason: str,
    clock: Clock,
) -> list[CollectionCase]:
    """A monitoring task's ``hand_to_collections`` outcome: the customer's open cases go to
    ``assignee`` (None: they stay in the queue for anyone to claim), audited with the reason.

    A customer with nothing past due has no case yet: the list is empty, and the next
    ``refresh`` after a receipt falls behind opens one.
    """
    now = clock.now()
    handed = []
    with uow_factory() as uow:
        for case in uow.collections.open_cases(customer_id):
            updated = case
            if assignee is not None and case.assignee != assignee:
                updated = replace(case, assignee=assignee, updated_at=now, version=case.version + 1)
                uow.collections.save_case(updated)
            _audit(
                uow,
                actor,
                "handed_over",
                updated,
                {"from": case.assignee, "to": assignee, "reason": reason},
            )
            handed.append(updated)
        uow.commit()
    return handed


@dataclass(frozen=True, slots=True)
class Recorded(ResultBase):
    """What a write request created or changed, by id (a replay returns the first one)."""

    entity_id: str
    replayed: bool = False


def record_contact(
    uow_factory: UowFactory,
    case_id: str,
    *,
    channel: ContactChannel,
    result: ContactResult,
    contacted_at: datetime,
    note: str,
    actor: str,
    idempotency_key: str,
    clock: Clock,
) -> Recorded:
    """Add a line to the contact log (the note is sealed at rest)."""
    key = check_key(idempotency_key)
    operation = "collection_contact"
    digest = request_digest(
        operation,
        {
            "case_id": case_id,
            "channel": channel.value,
            "result": result.value,
            "contacted_at": contacted_at.isoformat(),
            "note": note,
        },
    )
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        case = _require_case(uow, case_id)
        attempt = ContactAttempt(case.receipt_id, contacted_at, channel, result, actor, note)
        if attempt.contacted_at > clock.now():
            raise InvalidInput("a contact cannot be logged before it happened")
        contact = StoredContact(
            contact_id=new_id("contact"),
            case_id=case_id,
            receipt_id=case.receipt_id,
            contacted_at=attempt.contacted_at,
            channel=channel,
            result=result,
            made_by=actor,
            note=note,
            created_at=clock.now(),
        )
        uow.collections.add_contact(contact)
        # The note is personal data: the trail keeps that a contact happened, not what was said.
        _audit(
            uow,
            actor,
            "contact_logged",
            case,
            {"contact_id": contact.contact_id, "channel": channel.value, "result": result.value},
        )
        done = Recorded(entity_id=contact.contact_id)
        remember(uow, key, operation, digest, done)
        uow.commit()
    return done


MAX_GRACE_DAYS = 30
"""How long after the promised day a promise to pay may wait before it counts as broken."""


def promise_to_pay(
    uow_factory: UowFactory,
    case_id: str,
    *,
    amount_fen: int,
    promised_on: date,
    grace_days: int,
    actor: str,
    idempotency_key: str,
    clock: Clock,
) -> Recorded:
    """Record the borrower's promise, made on the open business day; judged by ``refresh``."""
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise InvalidInput(
            f"grace days are 0 to {MAX_GRACE_DAYS}: a promise is judged within a month",
            details={"field": "grace_days"},
        )
    key = check_key(idempotency_key)
    operation = "collection_promise"
    digest = request_digest(
        operation,
        {
            "case_id": case_id,
            "amount_fen": amount_fen,
            "promised_on": promised_on,
            "grace_days": grace_days,
        },
    )
    with uow_factory() as uow:
        replayed = find_replay(uow, key, operation, digest, Recorded)
        if replayed is not None:
            return replayed
        case = _require_case(uow, case_id)
        if case.status is not CaseStatus.OPEN:
            raise CaseNotOpen(f"case {case_id} is {case.status.value}")
        made_on = business_day(uow, clock)
        promise = PromiseToPay(
            promise_id=new_id("ptp"),
            receipt_id=case.receipt_id,
            amount_fen=amount_fen,
            made_on=made_on,
            promised_on=promised_on,
            grace_days=grace_days,
        )
        stored = StoredPromise(
            promise_id=promise.promise_id,
            case_id=case_id,
            receipt_id=case.receipt_id,
            amount_fen=amount_fen,
            made_on=made_on,
            promised_on=promised_on,
            grace_days=grace_days,
            status=PromiseStatus.PENDING,
            paid_fen=0,
            evaluated_on=None,
            created_by=actor,
            created_at=clock.now(),
        )
        uow.collections.add_promise(stored)
        _audit(
            uow,
            actor,
            "promise_recorded",
            case,
            {
                "promise_id": stored.promise_id,
                "amount_fen": amount_fen,
                "promised_on": promised_on.isoformat(),
                "grace_days": grace_days,
            },
        )
        done = Recorded(entity_id=stored.promise_id)
        remember(uow, key, operation, digest, done)
        uow.commit()
    return done
