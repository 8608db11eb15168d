"""SQL repository of collections: cases, promises, contacts (note sealed), write-off proposals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from puhui.adapters.db.collections.tables import (
    collection_cases,
    collection_contacts,
    collection_promises,
    write_off_proposals,
)
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.servicing.tables import loans
from puhui.domain.errors import Conflict
from puhui.domain.monitoring.collection import (
    ContactChannel,
    ContactResult,
    DpdBucket,
    PromiseStatus,
    WriteOffStatus,
)
from puhui.services.collections.ports import (
    CaseStatus,
    CollectionCase,
    DelinquentLoan,
    QueueFilter,
    StoredContact,
    StoredPromise,
    StoredProposal,
)

NOTE_COLUMN = "collection_contacts.note"


class StaleCase(Conflict):
    code = "stale_collection_case"


def _queue_key(days_past_due: int, overdue_fen: int, receipt_id: str) -> tuple[int, int, str]:
    """A queue's order: most days past due, then most overdue, then by receipt."""
    return (-days_past_due, -overdue_fen, receipt_id)


def _key_of(case: CollectionCase) -> tuple[int, int, str]:
    return _queue_key(case.days_past_due, case.overdue_fen, case.receipt_id)


def _case(row: Any) -> CollectionCase:
    m = row._mapping
    return CollectionCase(
        case_id=m["case_id"],
        receipt_id=m["receipt_id"],
        customer_id=m["customer_id"],
        line_id=m["line_id"],
        status=CaseStatus(m["status"]),
        bucket=None if m["bucket"] is None else DpdBucket(m["bucket"]),
        days_past_due=m["days_past_due"],
        overdue_fen=m["overdue_fen"],
        outstanding_fen=m["outstanding_fen"],
        assignee=m["assignee"],
        opened_on=m["opened_on"],
        refreshed_on=m["refreshed_on"],
        updated_at=m["updated_at"],
        version=m["version"],
    )


def _case_values(case: CollectionCase) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "receipt_id": case.receipt_id,
        "customer_id": case.customer_id,
        "line_id": case.line_id,
        "status": case.status.value,
        "bucket": None if case.bucket is None else case.bucket.value,
        "days_past_due": case.days_past_due,
        "overdue_fen": case.overdue_fen,
        "outstanding_fen": case.outstanding_fen,
        "assignee": case.assignee,
        "opened_on": case.opened_on,
        "refreshed_on": case.refreshed_on,
        "updated_at": case.updated_at,
        "version": case.version,
    }


def _promise(row: Any) -> StoredPromise:
    m = row._mapping
    return StoredPromise(
        promise_id=m["promise_id"],
        case_id=m["case_id"],
        receipt_id=m["receipt_id"],
        amount_fen=m["amount_fen"],
        made_on=m["made_on"],
        promised_on=m["promised_on"],
        grace_days=m["grace_days"],
        status=PromiseStatus(m["status"]),
        paid_fen=m["paid_fen"],
        evaluated_on=m["evaluated_on"],
        created_by=m["created_by"],
        created_at=m["created_at"],
    )


# A proposal awaiting its decision, or approved with its posting under way, holds its receipt.
_OPEN_PROPOSAL = frozenset({WriteOffStatus.PROPOSED, WriteOffStatus.APPROVING})


def _proposal(row: Any) -> StoredProposal:
    m = row._mapping
    return StoredProposal(
        proposal_id=m["proposal_id"],
        receipt_id=m["receipt_id"],
        case_id=m["case_id"],
        principal_fen=m["principal_fen"],
        interest_fen=m["interest_fen"],
        days_past_due=m["days_past_due"],
        reason=m["reason"],
        proposed_by=m["proposed_by"],
        proposed_on=m["proposed_on"],
        status=WriteOffStatus(m["status"]),
        decided_by=m["decided_by"],
        decided_on=m["decided_on"],
        decision_note=m["decision_note"],
        entry_key=m["entry_key"],
        written_off_fen=m["written_off_fen"],
        created_at=m["created_at"],
        version=m["version"],
    )


def _proposal_values(p: StoredProposal) -> dict[str, Any]:
    return {
        "proposal_id": p.proposal_id,
        "receipt_id": p.receipt_id,
        "open_receipt_id": p.receipt_id if p.status in _OPEN_PROPOSAL else None,
        "case_id": p.case_id,
        "principal_fen": p.principal_fen,
        "interest_fen": p.interest_fen,
        "days_past_due": p.days_past_due,
        "reason": p.reason,
        "proposed_by": p.proposed_by,
        "proposed_on": p.proposed_on,
        "status": p.status.value,
        "decided_by": p.decided_by,
        "decided_on": p.decided_on,
        "decision_note": p.decision_note,
        "entry_key": p.entry_key,
        "written_off_fen": p.written_off_fen,
        "created_at": p.created_at,
        "version": p.version,
    }


class SqlCollectionsRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher | None) -> None:
        self._connection = connection
        self._cipher = cipher

    # --- what servicing says is past due ---------------------------------------------------

    def delinquent_loans(self) -> list[DelinquentLoan]:
        c = loans.c
        overdue = (
            c.overdue_principal_fen
            + c.overdue_interest_fen
            + c.penalty_accrued_fen
            + c.penalty_billed_fen
            + c.compound_accrued_fen
            + c.compound_billed_fen
        )
        rows = self._connection.execute(
            select(
                c.loan_id,
                c.enterprise_id,
                c.line_id,
                c.days_past_due,
                overdue.label("overdue_fen"),
                c.outstanding_principal_fen,
            )
            .where(c.status == "active", c.days_past_due > 0)
            .order_by(c.loan_id)
        )
        return [
            DelinquentLoan(
                receipt_id=r.loan_id,
                customer_id=r.enterprise_id,
                line_id=r.line_id,
                days_past_due=int(r.days_past_due),
                overdue_fen=int(r.overdue_fen),
                outstanding_fen=int(r.outstanding_principal_fen),
            )
            for r in rows
        ]

    # --- cases -----------------------------------------------------------------------------

    def open_cases(self, customer_id: str | None = None) -> list[CollectionCase]:
        if customer_id is not None:
            # By the customer only, the status kept in Python: with ``status = 'open'`` in
            # the query a planner without statistics (SQLite; PostgreSQL before its first
            # ANALYZE) walks every open case through the queue's index, once per hand-over.
            rows = self._connection.execute(
                select(collection_cases)
                .where(collection_cases.c.customer_id == customer_id)
                .order_by(collection_cases.c.receipt_id)
            )
            return [_case(r) for r in rows if r.status == CaseStatus.OPEN.value]
        rows = self._connection.execute(
            select(collection_cases)
            .where(collection_cases.c.status == CaseStatus.OPEN.value)
            .order_by(collection_cases.c.receipt_id)
        )
        return [_case(r) for r in rows]

    def case(self, case_id: str, *, for_update: bool = False) -> CollectionCase | None:
        query = select(collection_cases).where(collection_cases.c.case_id == case_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return None if row is None else _case(row)

    def case_of_receipt(self, receipt_id: str) -> CollectionCase | None:
        row = self._connection.execute(
            select(collection_cases).where(collection_cases.c.receipt_id == receipt_id)
        ).first()
        return None if row is None else _case(row)

    def add_case(self, case: CollectionCase) -> None:
        self._connection.execute(collection_cases.insert().values(**_case_values(case)))

    def save_case(self, case: CollectionCase) -> None:
        done = self._connection.execute(
            update(collection_cases)
            .where(
                collection_cases.c.case_id == case.case_id,
                collection_cases.c.version == case.version - 1,
            )
            .values(**_case_values(case))
        )
        if done.rowcount != 1:
            raise StaleCase(f"collection case {case.case_id} changed meanwhile: try again")

    def count_held(self, assignee: str) -> int:
        c = collection_cases.c
        found = self._connection.execute(
            select(func.count())
            .select_from(collection_cases)
            .where(c.status == CaseStatus.OPEN.value, c.assignee == assignee)
        ).scalar_one()
        return int(found)

    def queue(self, query: QueueFilter) -> list[CollectionCase]:
        if query.customer_id is not None:
            return self._customers_queue(query)
        c = collection_cases.c
        statement = select(collection_cases).where(
            c.status == CaseStatus.OPEN.value, c.bucket == query.bucket.value
        )
        if query.assignee is not None:
            statement = statement.where(c.assignee == query.assignee)
        if query.unassigned:
            statement = statement.where(c.assignee.is_(None))
        after = query.after
        if after is not None:
            statement = statement.where(
                or_(
                    c.days_past_due < after.days_past_due,
                    and_(
                        c.days_past_due == after.days_past_due,
                        or_(
                            c.overdue_fen < after.overdue_fen,
                            and_(
                                c.overdue_fen == after.overdue_fen,
                                c.receipt_id > after.receipt_id,
                            ),
                        ),
                    ),
                )
            )
        statement = statement.order_by(
            c.days_past_due.desc(), c.overdue_fen.desc(), c.receipt_id
        ).limit(query.limit)
        return [_case(r) for r in self._connection.execute(statement)]

    def _customers_queue(self, query: QueueFilter) -> list[CollectionCase]:
        """One customer's page of a queue: its few cases read by the customer's index, then
        chosen and ordered here. With the status and the bucket in the query, a planner
        without statistics walks the queue's index through every open case of the bucket."""
        rows = self._connection.execute(
            select(collection_cases).where(collection_cases.c.customer_id == query.customer_id)
        )
        after = query.after
        start = (
            None
            if after is None
            else _queue_key(after.days_past_due, after.overdue_fen, after.receipt_id)
        )
        chosen = [
            case
            for case in map(_case, rows)
            if case.status is CaseStatus.OPEN
            and case.bucket is query.bucket
            and (query.assignee is None or case.assignee == query.assignee)
            and (not query.unassigned or case.assignee is None)
            and (start is None or _key_of(case) > start)
        ]
        return sorted(chosen, key=_key_of)[: query.limit]

    # --- promises --------------------------------------------------------------------------

    def add_promise(self, promise: StoredPromise) -> None:
        self._connection.execute(
            collection_promises.insert().values(
                promise_id=promise.promise_id,
                case_id=promise.case_id,
                receipt_id=promise.receipt_id,
                amount_fen=promise.amount_fen,
                made_on=promise.made_on,
                promised_on=promise.promised_on,
                grace_days=promise.grace_days,
                status=promise.status.value,
                paid_fen=promise.paid_fen,
                evaluated_on=promise.evaluated_on,
                created_by=promise.created_by,
                created_at=promise.created_at,
            )
        )

    def save_promise(self, promise: StoredPromise) -> None:
        self._connection.execute(
            update(collection_promises)
            .where(collection_promises.c.promise_id == promise.promise_id)
            .values(
                status=promise.status.value,
                paid_fen=promise.paid_fen,
                evaluated_on=promise.evaluated_on,
            )
        )

    def promises(self, case_id: str) -> list[StoredPromise]:
        rows = self._connection.execute(
            select(collection_promises)
            .where(collection_promises.c.case_id == case_id)
            .order_by(collection_promises.c.made_on, collection_promises.c.promise_id)
        )
        return [_promise(r) for r in rows]

    def pending_promises(self) -> list[StoredPromise]:
        rows = self._connection.execute(
            select(collection_promises)
            .where(collection_promises.c.status == PromiseStatus.PENDING.value)
            .order_by(collection_promises.c.promise_id)
        )
        return [_promise(r) for r in rows]

    # --- contacts --------------------------------------------------------------------------

    def add_contact(self, contact: StoredContact) -> None:
        note = None
        if contact.note:
            note = self._require_cipher().encrypt(NOTE_COLUMN, contact.note)
        self._connection.execute(
            collection_contacts.insert().values(
                contact_id=contact.contact_id,
                case_id=contact.case_id,
                receipt_id=contact.receipt_id,
                contacted_at=contact.contacted_at,
                channel=contact.channel.value,
                result=contact.result.value,
                made_by=contact.made_by,
                note_enc=note,
                created_at=contact.created_at,
            )
        )

    def contacts(self, case_id: str) -> list[StoredContact]:
        rows = self._connection.execute(
            select(collection_contacts)
            .where(collection_contacts.c.case_id == case_id)
            .order_by(collection_contacts.c.contacted_at, collection_contacts.c.contact_id)
        )
        found = []
        for row in rows:
            m = row._mapping
            note = ""
            if m["note_enc"] is not None:
                note = self._require_cipher().decrypt(NOTE_COLUMN, m["note_enc"])
            found.append(
                StoredContact(
                    contact_id=m["contact_id"],
                    case_id=m["case_id"],
                    receipt_id=m["receipt_id"],
                    contacted_at=m["contacted_at"],
                    channel=ContactChannel(m["channel"]),
                    result=ContactResult(m["result"]),
                    made_by=m["made_by"],
                    note=note,
                    created_at=m["created_at"],
                )
            )
        return found

    def _require_cipher(self) -> FieldCipher:
        if self._cipher is None:
            raise RuntimeError("collections need the data key to seal contact notes")
        return self._cipher

    # --- write-off proposals ---------------------------------------------------------------

    def add_proposal(self, proposal: StoredProposal) -> None:
        self._connection.execute(write_off_proposals.insert().values(**_proposal_values(proposal)))

    def proposal(self, proposal_id: str, *, for_update: bool = False) -> StoredProposal | None:
        query = select(write_off_proposals).where(write_off_proposals.c.proposal_id == proposal_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return None if row is None else _proposal(row)

    def open_proposal(self, receipt_id: str) -> StoredProposal | None:
        row = self._connection.execute(
            select(write_off_proposals).where(write_off_proposals.c.open_receipt_id == receipt_id)
        ).first()
        return None if row is None else _proposal(row)

    def save_proposal(self, proposal: StoredProposal) -> None:
        done = self._connection.execute(
            update(write_off_proposals)
            .where(
                write_off_proposals.c.proposal_id == proposal.proposal_id,
                write_off_proposals.c.version == proposal.version - 1,
            )
            .values(**_proposal_values(proposal))
        )
        if done.rowcount != 1:
            raise StaleCase(f"write-off proposal {proposal.proposal_id} changed meanwhile")

    def proposals(self, status: WriteOffStatus | None, *, limit: int) -> list[StoredProposal]:
        query = select(write_off_proposals)
        if status is not None:
            query = query.where(write_off_proposals.c.status == status.value)
        query = query.order_by(
            write_off_proposals.c.proposed_on.desc(), write_off_proposals.c.proposal_id
        ).limit(limit)
        return [_proposal(r) for r in self._connection.execute(query)]
