"""Servicing errors the lending rules do not name already."""

from __future__ import annotations

from puhui.domain.errors import Conflict


class EndOfDayPending(Conflict):
    """A money event dated after a day whose end of day has not run: accrual would be lost."""

    code = "end_of_day_pending"


class LoanNotActive(Conflict):
    """The loan is closed or written off: only a recovery may still be posted."""

    code = "loan_not_active"


class ReceiptNotActive(LoanNotActive):
    """The receipt (借据) is closed or written off: only a recovery may still be posted."""

    code = "receipt_not_active"


class CorrectionNotPossible(Conflict):
    """A money event can be reversed only while it is the loan's latest change on an open day."""

    code = "correction_not_possible"


class NotWrittenOff(Conflict):
    code = "not_written_off"
