"""Credit lines as staff look them up: a page of lines, and a line's repayment history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import CreditLineId
from puhui.domain.ledger import Account, money_paid
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import CreditLineRecord, LineStatus
from puhui.services.servicing.statements import Operation, StatementUnitOfWork

MAX_LINES_PAGE = 200
MAX_REPAYMENTS = 500


@dataclass(frozen=True, slots=True)
class LineSearch:
    """What a staff user looks a line up by (every field optional, all must hold)."""

    line_id: str | None = None
    enterprise_id: str | None = None
    status: LineStatus | None = None


def _check_page(limit: int, offset: int, largest: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= largest:
        raise InvalidInput(f"limit must be an integer within 1..{largest}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput("offset must be a non-negative integer")


def list_lines(
    uow_factory: Callable[[], ServicingUnitOfWork],
    *,
    search: LineSearch,
    limit: int = 50,
    offset: int = 0,
) -> list[CreditLineRecord]:
    """A page of credit lines, newest first: one indexed query."""
    _check_page(limit, offset, MAX_LINES_PAGE)
    with uow_factory() as uow:
        return uow.lines.page(
            line_id=search.line_id,
            enterprise_id=search.enterprise_id,
            status=search.status,
            limit=limit,
            offset=offset,
        )


@dataclass(frozen=True, slots=True)
class Repayment:
    """One repayment (or its reversal) on a receipt, as the ledger posted it.

    ``amount_fen`` is the cash (negative for a reversal); the split is what it paid off.
    """

    receipt_id: str
    on: date
    amount_fen: int
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    reversal: bool
    entry_key: str


def line_repayments(
    uow_factory: Callable[[], StatementUnitOfWork],
    line_id: CreditLineId,
    *,
    through: date,
    limit: int = 100,
) -> list[Repayment]:
    """The line's repayments posted on or before ``through``, newest first (at most ``limit``)."""
    _check_page(limit, 0, MAX_REPAYMENTS)
    with uow_factory() as uow:
        if uow.lines.get(line_id) is None:
            raise NotFound("no such credit line", details={"line_id": line_id})
        ids = [r.loan_id for r in uow.loans.of_line(line_id)]
        events = uow.ledger.receipt_events(ids, through=through) if ids else []
    found: list[Repayment] = []
    for event in events:
        if event.operation not in (Operation.REPAY, Operation.REVERSE_REPAYMENT):
            continue
        a = event.amounts_fen
        found.append(
            Repayment(
                receipt_id=event.receipt_id,
                on=event.posted_on,
                amount_fen=money_paid(a),
                principal_fen=-a.get(Account.PRINCIPAL_RECEIVABLE, 0),
                interest_fen=-(
                    a.get(Account.INTEREST_RECEIVABLE, 0) + a.get(Account.INTEREST_INCOME, 0)
                ),
                penalty_fen=-(
                    a.get(Account.PENALTY_RECEIVABLE, 0) + a.get(Account.PENALTY_INCOME, 0)
                ),
                reversal=event.operation is Operation.REVERSE_REPAYMENT,
                entry_key=event.entry_key,
            )
        )
    found.sort(key=lambda r: (r.on, r.entry_key), reverse=True)
    return found[:limit]
