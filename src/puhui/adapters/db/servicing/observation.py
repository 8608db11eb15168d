"""End of day restarts the observation period of a restructured loan on a missed payment.

The 2023 measures (商业银行金融资产风险分类办法) keep a restructured exposure under
observation from the first repayment date after the change, for at least two repayment
periods and not under a year, and restart the period when a payment is missed
(``domain.lending.loan_changes.observation_end``). The end stored at approval is moved
forward here, before the loans are classified, so that the restart outlives the arrears: a
loan that pays up later stays in observation until the restarted period ends.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, bindparam, text

from puhui.adapters.db.audit_repository import SqlAuditLog
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import Clock
from puhui.domain.lending.loan_changes import missed_repayment, observation_end

# Plain SQL over ``loan_changes`` (as ``end_of_day.CLASSIFIED_SQL``): servicing's adapters do
# not import the loan-changes module, which builds on them.
_IN_OBSERVATION = text("""
SELECT c.change_id, c.loan_id, c.observation_ends_on, l.overdue_since
FROM loan_changes c JOIN loans l ON l.loan_id = c.loan_id
WHERE c.status = 'approved' AND (c.kind = 'restructuring' OR c.in_difficulty)
  AND c.effective_on <= :d AND (c.observation_ends_on IS NULL OR c.observation_ends_on >= :d)
  AND l.status = 'active' AND l.overdue_since IS NOT NULL
  AND l.overdue_since > c.effective_on AND l.overdue_since <= :d
ORDER BY c.change_id
""").bindparams(bindparam("d", type_=Date))
_DUE_DATES = text("SELECT due_date FROM loan_instalments WHERE loan_id = :loan_id").columns(
    due_date=Date
)
_MOVE_END = text(
    "UPDATE loan_changes SET observation_ends_on = :ends_on WHERE change_id = :change_id"
).bindparams(bindparam("ends_on", type_=Date))


def restart_observations(
    connection: Connection, as_of: date, *, clock: Clock, audit_key: bytes | None
) -> int:
    """Move forward the observation end of every approved restructuring in observation on
    ``as_of`` whose loan has an unpaid missed repayment inside the period; the count moved.

    Only loans that are both restructured and past due are read (a few), one by one.
    """
    moved = 0
    for change_id, loan_id, ends_on, overdue_since in connection.execute(
        _IN_OBSERVATION.columns(observation_ends_on=Date, overdue_since=Date), {"d": as_of}
    ).all():
        dates = list(connection.execute(_DUE_DATES, {"loan_id": loan_id}).scalars())
        missed = missed_repayment(overdue_since, dates)
        if missed is None:
            continue  # no repayment date before the arrears: nothing was missed
        # The period starts again on the first repayment date after the missed one.
        restarted = observation_end(missed, dates, frozenset())
        if restarted is not None and ends_on is not None and restarted <= ends_on:
            continue  # already restarted for this missed payment (or a later one)
        if restarted is None and ends_on is None:
            continue
        connection.execute(_MOVE_END, {"ends_on": restarted, "change_id": change_id})
        moved += 1
        if audit_key is not None:
            SqlAuditLog(connection, clock=clock, key=audit_key).append(
                AuditRecord(
                    actor="end-of-day",
                    action="loan_change.observation_restarted",
                    entity="loan_change",
                    entity_id=change_id,
                    payload={
                        "loan_id": loan_id,
                        "missed_on": missed.isoformat(),
                        "observation_ends_on_before": None
                        if ends_on is None
                        else ends_on.isoformat(),
                        "observation_ends_on": None if restarted is None else restarted.isoformat(),
                        "as_of": as_of.isoformat(),
                    },
                )
            )
    return moved
