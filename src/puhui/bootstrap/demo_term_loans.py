"""A book of term loans in the demo, and the changes its borrowers ask for (展期, 重组).

The simulation lends on credit lines: every loan it books is a receipt (借据) on a line, and a
receipt can only be renewed. A bank's branch also holds working-capital term loans
(流动资金贷款) repaid in equal instalments, and those are what extensions and restructurings
are for. This stage books such a book on the window's first day and works it at each month's
publication (the simulation's only hook, on the first day of each month, before that day's end
of day), through the platform's own services:

1. On the first day, one in ``BOOK_SHARE`` of the window's applicants that are genuine
   businesses (no shells, fraud rings or packaged applications, by the market's truth: the
   branch knows its customers), at most ``BOOK_SIZE``, each draw a 12-month loan (等额本息)
   due on the first day of each month. They are drawn by a hash, not by their outcome: the
   defaults, and so the restructurings, are the market's own.
2. Each first of the month, every borrower not yet in default (by the market's truth) pays
   what is due that day: the instalment billed the night before, and anything overdue.
3. A borrower in default stops paying. Once a loan is ``RESTRUCTURE_AFTER_DAYS`` past due,
   the account manager asks for a restructuring over ``RESTRUCTURE_MONTHS`` months and an
   approver (the second pair of eyes) approves it: the arrears come into the new schedule
   (re-ageing). About half of these borrowers then pay again (by a hash); the others fall
   overdue again, and the 2023 rules keep their loans from being upgraded. Requests made on
   the window's last publication are left pending, for the console's approvers.
4. About one borrower in good standing in sixteen (by a hash) asks, two months before
   maturity, to extend by half the original term (a long order cycle, not difficulty), and
   it is approved, except one in four of these (by a hash), which the approver rejects with
   a reason (the change keeps it); as many again ask in the last month, which the window's
   last publication leaves pending.

Every refusal from a service is counted by its code, never hidden.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from puhui.bootstrap.container import Platform
from puhui.bootstrap.loan_changes import loan_changes
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import add_months
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.loan_changes.changes import ChangeResult
from puhui.services.origination.line_opening import ensure_product
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.receipts import UowFactory, repay
from puhui.services.servicing.term_loans import disburse_term_loan

if TYPE_CHECKING:
    from puhui.pipelines.collecting_channel import CollectingChannel

logger = logging.getLogger(__name__)

BOOK_SIZE = 150
BOOK_SHARE = 8
TERM_MONTHS = 12
ANNUAL_RATE = Decimal("0.0435")
RESTRUCTURE_AFTER_DAYS = 30
RESTRUCTURE_MONTHS = 12
EXTENSION_REJECTED = (
    "近三个月回款正常，到期可按期还款，无需展期 / collections are regular and cover the"
    " maturity: no extension needed"
)
"""The approver's reason for the extensions the demo rejects."""
BRANCH = "demo:branch"
"""Who books the loans and takes the payments (operations at the branch)."""
ACCOUNT_MANAGER = Principal(user_id="usr_demo_manager", role=Role.ACCOUNT_MANAGER)
APPROVER = Principal(user_id="usr_demo_approver", role=Role.APPROVER)

WORKING_CAPITAL = LoanProduct(
    code="DEMO-WORKING-CAPITAL",
    name="流动资金贷款 / working-capital term loan (demo)",
    method=RepaymentMethod.EQUAL_INSTALMENT,
    min_annual_rate=Decimal("0.03"),
    max_annual_rate=Decimal("0.18"),
    min_term_months=1,
    max_term_months=36,
    min_amount_fen=10_000_00,
    max_amount_fen=3_000_000_00,
    penalty_uplift=Decimal("0.5"),
    early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
)


def _bucket(key: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % buckets


@dataclass
class TermLoansResults:
    term_months: int = TERM_MONTHS
    loans: int = 0
    principal_fen: int = 0
    paid_fen: int = 0
    extensions: int = 0
    restructurings: int = 0
    arrears_principal_fen: int = 0
    """Overdue principal brought into new schedules by the restructurings approved."""
    arrears_interest_fen: int = 0
    rejected: int = 0
    """Extensions the approver rejected, with the reason kept on the change."""
    pending: int = 0
    """Changes requested and left for the console's approvers."""
    in_arrears: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    """Active loans at the end, by five-category classification (the stored one)."""
    closed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


class DemoTermLoans:
    """Books the term loans, takes their payments and works their changes each month."""

    def __init__(
        self,
        units: UowFactory,
        changes: LoanChangeAccess,
        default_months: Mapping[str, date | None],
        *,
        cured: Callable[[str], bool] = lambda uscc: _bucket(f"cure:{uscc}", 2) == 0,
        extends: Callable[[str, int], bool] = lambda uscc, left: (
            left in (1, 2) and _bucket(f"extend:{uscc}", 16) == left
        ),
        rejects: Callable[[str], bool] = lambda uscc: _bucket(f"review:{uscc}", 4) == 0,
        term_months: int = TERM_MONTHS,
        channel: CollectingChannel | None = None,
    ) -> None:
        self.units = units
        self.channel = channel
        """Where the branch's borrowers pay (its record apart from the books), if anywhere."""
        self.changes = changes
        self.default_months = default_months
        """Each borrower's month of default by the market's truth, or None."""
        self.cured = cured
        """Whether a restructured borrower pays again."""
        self.extends = extends
        """Whether a borrower in good standing asks for more time, given the months left
        before maturity."""
        self.rejects = rejects
        """Whether the approver rejects a borrower's extension (their orders do not need it)."""
        self.loans: dict[LoanId, str] = {}
        """Loan id -> borrower (USCC)."""
        self.results = TermLoansResults(term_months=term_months)
        self._changed: set[str] = set()
        """Loans that have asked for a change (one each in the demo)."""
        self._restructured: set[str] = set()
        self._product_id = ProductId("")
        self._first_due = date.max
        self._last_month = date.min

    def book(
        self, first_day: date, last_day: date, candidates: list[str], *, size: int | None = None
    ) -> None:
        """Disburse the book on ``first_day``, due each first of the month: ``size`` of the
        ``candidates`` (one in ``BOOK_SHARE``, at most ``BOOK_SIZE``), drawn by a hash."""
        started = time.perf_counter()
        self._product_id = ensure_product(self.units, WORKING_CAPITAL, actor=BRANCH)
        if size is None:
            size = min(BOOK_SIZE, max(1, len(candidates) // BOOK_SHARE))
        chosen = sorted(candidates, key=lambda u: hashlib.sha256(u.encode()).digest())[:size]
        first_due = add_months(date(first_day.year, first_day.month, 1), 1)
        self._first_due, self._last_month = first_due, date(last_day.year, last_day.month, 1)
        for uscc in chosen:
            principal_fen = (300 + 50 * _bucket(f"amount:{uscc}", 15)) * 1_000_00
            try:
                result = disburse_term_loan(
                    self.units,
                    enterprise_id=uscc,
                    product_id=self._product_id,
                    principal_fen=principal_fen,
                    annual_rate=ANNUAL_RATE,
                    term_months=self.results.term_months,
                    on=first_day,
                    idempotency_key=f"demo-term:{uscc}:{first_day}",
                    actor=BRANCH,
                    first_due_date=first_due,
                )
            except PuhuiError as error:
                self.results.refused[error.code] += 1
                continue
            self.loans[LoanId(result.loan_id)] = uscc
            self.results.loans += 1
            self.results.principal_fen += principal_fen
        logger.info("term loans: %d booked on %s", self.results.loans, first_day)
        self.results.seconds += time.perf_counter() - started

    def month_started(self, day: date) -> None:
        """The first of a month (before its end of day): payments, then the changes asked for.

        On the window's last publication the changes are requested and left pending.
        """
        if day < self._first_due:  # the window's first day: nothing is due yet
            return
        started = time.perf_counter()
        last = day >= self._last_month
        for loan_id, uscc in self.loans.items():
            loan = self._loan(loan_id)
            if loan is None or loan.status is not LoanStatus.ACTIVE:
                continue
            if self._pays(uscc, loan_id, day):
                due = loan.settle_accrued(day, interest=False).due_without_early_repayment_fen
                if due > 0:
                    self._pay(loan_id, due, day)
                    loan = self._loan(loan_id)
                    if loan is None or loan.status is not LoanStatus.ACTIVE:
                        continue
            if loan_id in self._changed:
                continue
            if loan.days_past_due >= RESTRUCTURE_AFTER_DAYS:
                self._restructure(loan_id, day, approve=not last)
            elif loan.days_past_due == 0 and self._asks_extension(loan, uscc, day):
                self._extend(loan_id, uscc, day, approve=not last)
        self.results.seconds += time.perf_counter() - started

    def finish(self) -> TermLoansResults:
        """The book as it stands after the window's last end of day."""
        results = self.results
        results.closed, results.in_arrears, results.categories = 0, 0, Counter()
        for loan_id in self.loans:
            loan = self._loan(loan_id)
            if loan is None or loan.status is not LoanStatus.ACTIVE:
                results.closed += 1
                continue
            results.categories[loan.category.value] += 1
            results.in_arrears += loan.days_past_due > 0
        return results

    def _loan(self, loan_id: str) -> LoanAccount | None:
        with self.units() as uow:
            return uow.loans.get(loan_id)

    def _pays(self, uscc: str, loan_id: str, day: date) -> bool:
        month = self.default_months.get(uscc)
        if month is None or day < month:
            return True
        # After a restructuring about half pay again (the point of giving them time).
        return loan_id in self._restructured and self.cured(uscc)

    def _pay(self, loan_id: LoanId, amount_fen: int, day: date) -> None:
        order_id = f"demo-term-pay:{loan_id}:{day}"
        try:
            paid = repay(
                self.units,
                loan_id,
                amount_fen=amount_fen,
                on=day,
                idempotency_key=order_id,
                actor=BRANCH,
            )
        except PuhuiError as error:
            self.results.refused[error.code] += 1
            return
        self.results.paid_fen += amount_fen
        if self.channel is not None:
            self.channel.collected(day, order_id, loan_id, paid.amount_fen)

    def _asks_extension(self, loan: LoanAccount, uscc: str, day: date) -> bool:
        months_left = (loan.maturity_date.year - day.year) * 12 + (
            loan.maturity_date.month - day.month
        )
        return months_left > 0 and self.extends(uscc, months_left)

    def _restructure(self, loan_id: str, day: date, *, approve: bool) -> None:
        approved = self._change(
            loan_id,
            day,
            approve,
            lambda: self.changes.request_restructuring(
                ACCOUNT_MANAGER,
                loan_id=loan_id,
                new_term_months=RESTRUCTURE_MONTHS,
                reason="经营困难，逾期未还 / trading difficulties, instalments unpaid",
                idempotency_key=f"demo-restructure:{loan_id}",
                on=day,
            ),
        )
        if approved is not None:
            self._restructured.add(loan_id)
            self.results.restructurings += 1
            self.results.arrears_principal_fen += approved.arrears_principal_fen or 0
            self.results.arrears_interest_fen += approved.arrears_interest_fen or 0

    def _extend(self, loan_id: str, uscc: str, day: date, *, approve: bool) -> None:
        approved = self._change(
            loan_id,
            day,
            approve,
            lambda: self.changes.request_extension(
                ACCOUNT_MANAGER,
                loan_id=loan_id,
                extension_months=max(1, self.results.term_months // 2),
                reason="订单回款周期延长 / a longer order cycle",
                in_difficulty=False,
                idempotency_key=f"demo-extend:{loan_id}",
                on=day,
            ),
            rejection=EXTENSION_REJECTED if self.rejects(uscc) else None,
        )
        if approved is not None:
            self.results.extensions += 1

    def _change(
        self,
        loan_id: str,
        day: date,
        approve: bool,
        request: Callable[[], ChangeResult],
        *,
        rejection: str | None = None,
    ) -> ChangeResult | None:
        """The account manager's request, then the approver's approval (four eyes), or the
        approver's rejection with ``rejection`` as the reason, unless it is left pending for
        the console; the approval, or None if pending, rejected or refused."""
        self._changed.add(loan_id)
        try:
            change = request()
            if not approve:
                self.results.pending += 1
                return None
            if rejection is not None:
                self.changes.reject(
                    APPROVER,
                    change.change_id,
                    reason=rejection,
                    idempotency_key=f"demo-reject:{loan_id}",
                )
                self.results.rejected += 1
                return None
            return self.changes.approve(
                APPROVER, change.change_id, idempotency_key=f"demo-approve:{loan_id}", on=day
            )
        except PuhuiError as error:
            self.results.refused[error.code] += 1
            return None


def demo_term_loans(
    platform: Platform,
    default_months: Mapping[str, date | None],
    channel: CollectingChannel | None = None,
) -> DemoTermLoans:
    """The stage on the platform's servicing and loan-changes services."""
    return DemoTermLoans(
        platform.servicing_uow, loan_changes(platform), default_months, channel=channel
    )
