"""The loan account: a receipt (借据) or a term loan, its sub-ledger balances and their arithmetic.

This is the one model of a loan account. The repayment, write-off and recovery use cases
change an account only through the methods here; the end of day applies the same rules to
every account at once in set-based SQL (``integer_interest``: rates as integers of 1e-8,
balance-days accumulators (积数) priced with ``price_accumulator_fen``), and is
property-tested against the reference model of a revolving receipt, ``RevolvingAccrual``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from puhui.domain.errors import InvalidAmount
from puhui.domain.ids import CreditLineId, LoanId, ProductId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.delinquency import NON_ACCRUAL_DAYS_PAST_DUE, FiveCategory
from puhui.domain.lending.errors import Overpayment
from puhui.domain.lending.integer_interest import penalty_rate_e8, rate_e8
from puhui.domain.lending.product import Component, LoanProduct, RepaymentMethod
from puhui.domain.lending.repayment import Due, allocate
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.domain.money import Rounding

LoanAccountId = ReceiptId | LoanId
"""A receipt (借据, a draw on a credit line) or a term loan: both are loan accounts."""

MAX_LOAN_PRINCIPAL_FEN = 10**9
"""10 million yuan per receipt or loan: the inclusive-finance ceiling per borrower
(单户授信1000万元以下). With a settlement cycle of at most 31 days it also bounds
accumulator × rate below 2**63, so SQLite's 64-bit integers price it exactly."""

_ONE_DAY = timedelta(days=1)


class LoanKind(Enum):
    RECEIPT = "receipt"
    """A draw on a credit line (借据): balance-days interest, settled on the 20th."""
    TERM = "term"
    """A term loan with a schedule: interest accrues pro rata and is billed per instalment."""


class LoanStatus(Enum):
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True, slots=True)
class Payment:
    """Where one payment went. ``memo_*`` parts were off-balance and are income on receipt."""

    penalty_fen: int
    compound_fen: int
    interest_fen: int
    principal_fen: int
    overdue_principal_fen: int
    memo_interest_fen: int
    memo_penalty_fen: int

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.compound_fen + self.interest_fen + self.principal_fen

    def ledger_amounts(self) -> list[tuple[Account, int]]:
        """Signed postings (debit > 0) of this payment received in cash."""
        penalty_paid = self.penalty_fen + self.compound_fen
        memo_paid = self.memo_interest_fen + self.memo_penalty_fen
        return [
            (Account.SETTLEMENT, self.total_fen),
            (Account.PRINCIPAL_RECEIVABLE, -self.principal_fen),
            (Account.INTEREST_RECEIVABLE, -(self.interest_fen - self.memo_interest_fen)),
            (Account.PENALTY_RECEIVABLE, -(penalty_paid - self.memo_penalty_fen)),
            # Off-balance interest is income only when cash arrives (cash basis after 90 DPD).
            (Account.INTEREST_INCOME, -self.memo_interest_fen),
            (Account.PENALTY_INCOME, -self.memo_penalty_fen),
            (Account.NON_ACCRUAL_MEMO_CONTRA, memo_paid),
            (Account.NON_ACCRUAL_MEMO, -memo_paid),
        ]


@dataclass(frozen=True, slots=True)
class WriteOff:
    """What a write-off (核销) took off the books; ``claim_fen`` stays owed for recovery."""

    principal_fen: int
    interest_fen: int
    """Interest receivable on the books (the off-balance part is in ``memo_fen``)."""
    penalty_fen: int
    """Penalty and compound receivable on the books."""
    memo_fen: int
    claim_fen: int

    def ledger_amounts(self) -> list[tuple[Account, int]]:
        on_books = self.principal_fen + self.interest_fen + self.penalty_fen
        return [
            (Account.WRITE_OFF_EXPENSE, on_books),
            (Account.PRINCIPAL_RECEIVABLE, -self.principal_fen),
            (Account.INTEREST_RECEIVABLE, -self.interest_fen),
            (Account.PENALTY_RECEIVABLE, -self.penalty_fen),
            (Account.NON_ACCRUAL_MEMO_CONTRA, self.memo_fen),
            (Account.NON_ACCRUAL_MEMO, -self.memo_fen),
        ]


@dataclass(frozen=True, slots=True)
class Arrears:
    """What a restructuring brought into the new schedule (``arrears_brought_forward``)."""

    principal_fen: int
    interest_fen: int
    penalty_fen: int
    """Penalty and compound interest owed, billed or accrued (what accrued is billed at the
    next settlement and falls due with the billed)."""
    overdue_since: date | None
    days_past_due: int

    NONE: ClassVar[Arrears]

    @property
    def any(self) -> bool:
        owed = self.principal_fen + self.interest_fen + self.penalty_fen
        return owed > 0 or self.overdue_since is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "principal_fen": self.principal_fen,
            "interest_fen": self.interest_fen,
            "penalty_fen": self.penalty_fen,
            "overdue_since": None if self.overdue_since is None else self.overdue_since.isoformat(),
            "days_past_due": self.days_past_due,
        }


Arrears.NONE = Arrears(0, 0, 0, None, 0)


@dataclass(frozen=True, slots=True)
class LoanAccount:
    """A receipt (借据) or a term loan, and its sub-ledger balances.

    ``*_accum_fen_days`` are exact balance-days accumulators (积数) since the last
    settlement and ``*_accrued_fen`` their rounded price; ``*_billed_fen`` are settled and
    unpaid. ``memo_*_fen`` are the parts of interest and of penalty plus compound owed that are
    off-balance (non-accrual, 表外).
    """

    loan_id: LoanAccountId
    line_id: CreditLineId | None
    product_id: ProductId
    enterprise_id: str
    annual_rate: Decimal
    rate_e8: int
    penalty_rate_e8: int
    year_days: int
    half_even: bool
    grace_days: int
    settlement_day: int
    non_accrual_days: int
    disbursed_on: date
    maturity_date: date
    principal_fen: int
    kind: LoanKind
    method: RepaymentMethod
    current_period: int
    """The running instalment period of a term loan (0 for a receipt)."""
    next_due_date: date | None
    period_interest_fen: int
    period_principal_fen: int
    period_days: int
    period_days_elapsed: int
    billed_principal_fen: int
    """Principal of instalments billed and not yet paid (term loans; 0 for receipts)."""
    status: LoanStatus
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_accum_fen_days: int
    interest_accrued_fen: int
    penalty_accum_fen_days: int
    penalty_accrued_fen: int
    compound_accum_fen_days: int
    compound_accrued_fen: int
    interest_billed_fen: int
    penalty_billed_fen: int
    compound_billed_fen: int
    billed_due_on: date | None
    overdue_interest_fen: int
    memo_interest_fen: int
    memo_penalty_fen: int
    overdue_since: date | None
    days_past_due: int
    category: FiveCategory
    non_accrual: bool
    accrued_through: date | None
    written_off_fen: int
    recovered_fen: int
    closed_on: date | None
    version: int
    payee: str | None = None
    """Who received the proceeds when not the borrower (受托支付: entrusted payment to a
    supplier or core enterprise, by USCC); None: paid to the borrower's own account."""
    called_in_on: date | None = None
    """The day the bank called the loan in early (提前收回, acceleration): everything it owed
    fell due that day. None: not called in, or a restructuring agreed since replaced it."""

    @classmethod
    def new(
        cls,
        *,
        loan_id: LoanAccountId,
        line_id: CreditLineId | None,
        product: LoanProduct,
        product_id: ProductId,
        enterprise_id: str,
        annual_rate: Decimal,
        kind: LoanKind,
        method: RepaymentMethod,
        principal_fen: int,
        disbursed_on: date,
        maturity_date: date,
        current_period: int = 0,
        next_due_date: date | None = None,
        period_interest_fen: int = 0,
        period_principal_fen: int = 0,
        period_days: int = 1,
    ) -> LoanAccount:
        """A just-disbursed loan: terms from the product, every balance but principal at zero."""
        return cls(
            loan_id=loan_id,
            line_id=line_id,
            product_id=product_id,
            enterprise_id=enterprise_id,
            annual_rate=annual_rate,
            rate_e8=rate_e8(annual_rate),
            penalty_rate_e8=penalty_rate_e8(annual_rate, product.penalty_uplift),
            year_days=product.basis.days_in_year,
            half_even=product.rounding is Rounding.HALF_EVEN,
            grace_days=product.grace_days,
            settlement_day=product.settlement_day,
            non_accrual_days=NON_ACCRUAL_DAYS_PAST_DUE,
            disbursed_on=disbursed_on,
            maturity_date=maturity_date,
            principal_fen=principal_fen,
            kind=kind,
            method=method,
            current_period=current_period,
            next_due_date=next_due_date,
            period_interest_fen=period_interest_fen,
            period_principal_fen=period_principal_fen,
            period_days=period_days,
            period_days_elapsed=0,
            billed_principal_fen=0,
            status=LoanStatus.ACTIVE,
            outstanding_principal_fen=principal_fen,
            overdue_principal_fen=0,
            interest_accum_fen_days=0,
            interest_accrued_fen=0,
            penalty_accum_fen_days=0,
            penalty_accrued_fen=0,
            compound_accum_fen_days=0,
            compound_accrued_fen=0,
            interest_billed_fen=0,
            penalty_billed_fen=0,
            compound_billed_fen=0,
            billed_due_on=None,
            overdue_interest_fen=0,
            memo_interest_fen=0,
            memo_penalty_fen=0,
            overdue_since=None,
            days_past_due=0,
            category=FiveCategory.PASS,
            non_accrual=False,
            accrued_through=None,
            written_off_fen=0,
            recovered_fen=0,
            closed_on=None,
            version=1,
        )

    @property
    def income_owed_fen(self) -> int:
        """Interest, penalty and compound owed, accrued or billed (on- and off-balance)."""
        return (
            self.interest_accrued_fen
            + self.penalty_accrued_fen
            + self.compound_accrued_fen
            + self.interest_billed_fen
            + self.penalty_billed_fen
            + self.compound_billed_fen
        )

    @property
    def interest_owed_fen(self) -> int:
        return self.interest_accrued_fen + self.interest_billed_fen

    @property
    def penalty_owed_fen(self) -> int:
        """Penalty and compound interest owed: one receivable account holds both."""
        return (
            self.penalty_accrued_fen
            + self.compound_accrued_fen
            + self.penalty_billed_fen
            + self.compound_billed_fen
        )

    @property
    def unbilled_principal_fen(self) -> int:
        """Principal not yet due: a receipt's before maturity, a term loan's future instalments."""
        return self.outstanding_principal_fen - max(
            self.billed_principal_fen, self.overdue_principal_fen
        )

    @property
    def total_owed_fen(self) -> int:
        return self.outstanding_principal_fen + self.income_owed_fen

    @property
    def due_without_early_repayment_fen(self) -> int:
        """What a term loan owes now without repaying early: all but the running period's
        interest and the principal of instalments not yet billed."""
        return self.total_owed_fen - self.interest_accrued_fen - self.unbilled_principal_fen

    def settle_accrued(self, on: date, *, interest: bool = True) -> LoanAccount:
        """Settle at repayment (结息): the rounded accruals become billed, accumulators restart.

        The accrued figures are already the rounded price of the exact accumulators, so
        settling moves them without rounding again and nothing is gained or lost. A term loan's
        running-period interest (``interest=False``) stays accrued until its instalment falls
        due, unless the loan is repaid early or written off.
        """
        moved_interest = self.interest_accrued_fen if interest else 0
        billed_interest = self.interest_billed_fen + moved_interest
        billed_penalty = self.penalty_billed_fen + self.penalty_accrued_fen
        billed_compound = self.compound_billed_fen + self.compound_accrued_fen
        anything_billed = billed_interest + billed_penalty + billed_compound > 0
        due_on = self.billed_due_on
        if anything_billed:
            due_on = on if due_on is None else min(due_on, on)
        return replace(
            self,
            interest_accum_fen_days=0 if interest else self.interest_accum_fen_days,
            interest_accrued_fen=self.interest_accrued_fen - moved_interest,
            penalty_accum_fen_days=0,
            penalty_accrued_fen=0,
            compound_accum_fen_days=0,
            compound_accrued_fen=0,
            interest_billed_fen=billed_interest,
            penalty_billed_fen=billed_penalty,
            compound_billed_fen=billed_compound,
            billed_due_on=due_on if anything_billed else self.billed_due_on,
        )

    def payment_dues(self, on: date) -> list[Due]:
        """What a payment on ``on`` can pay on a settled account, as dues.

        The dates rank the tiers, so that paying the oldest due first means: overdue amounts
        (penalty and compound billed, overdue interest and principal) before ``on``; then
        what is billed and due on ``on``; then — a term loan's principal not yet due, paying
        it is an early repayment — after ``on``.
        """
        overdue_on, later_on = on - _ONE_DAY, on + _ONE_DAY
        term = self.kind is LoanKind.TERM
        due_principal = self.billed_principal_fen if term else self.outstanding_principal_fen
        dues = [
            Due(overdue_on, Component.PENALTY, self.penalty_billed_fen),
            Due(overdue_on, Component.COMPOUND, self.compound_billed_fen),
            Due(overdue_on, Component.INTEREST, self.overdue_interest_fen),
            Due(overdue_on, Component.PRINCIPAL, self.overdue_principal_fen),
            Due(on, Component.INTEREST, self.interest_billed_fen - self.overdue_interest_fen),
            Due(on, Component.PRINCIPAL, due_principal - self.overdue_principal_fen),
        ]
        if term:
            dues.append(Due(later_on, Component.PRINCIPAL, self.unbilled_principal_fen))
        return dues

    def allocate_payment(
        self, amount_fen: int, waterfall: Sequence[Component], on: date
    ) -> tuple[LoanAccount, Payment]:
        """Allocate a payment on a settled account with ``repayment.allocate``: overdue amounts
        first, each tier in waterfall order (default 罚息 → 复利 → 利息 → 本金); an amount above
        what is owed is refused."""
        owed = self.total_owed_fen
        if amount_fen > owed:
            raise Overpayment(amount_fen, owed, details={"loan_id": self.loan_id})
        split = allocate(amount_fen, self.payment_dues(on), waterfall)
        paid = dict.fromkeys(Component, 0)
        paid_overdue = dict.fromkeys(Component, 0)
        # A term loan's billed principal is what it pays before its principal not yet due;
        # a receipt bills no principal.
        bills_principal = self.kind is LoanKind.TERM
        paid_billed_principal = 0
        for line in split.lines:
            component = line.due.component
            paid[component] += line.paid_fen
            if line.due.due_date < on:
                paid_overdue[component] += line.paid_fen
            if bills_principal and component is Component.PRINCIPAL and line.due.due_date <= on:
                paid_billed_principal += line.paid_fen
        # On-balance receivables are the older ones: a payment clears them before the memo part.
        on_balance_interest = min(
            self.interest_billed_fen, self.interest_owed_fen - self.memo_interest_fen
        )
        on_balance_penalty = (
            self.penalty_billed_fen + self.compound_billed_fen - self.memo_penalty_fen
        )
        memo_interest = max(0, paid[Component.INTEREST] - on_balance_interest)
        memo_penalty = max(
            0, paid[Component.PENALTY] + paid[Component.COMPOUND] - on_balance_penalty
        )
        payment = Payment(
            penalty_fen=paid[Component.PENALTY],
            compound_fen=paid[Component.COMPOUND],
            interest_fen=paid[Component.INTEREST],
            principal_fen=paid[Component.PRINCIPAL],
            overdue_principal_fen=paid_overdue[Component.PRINCIPAL],
            memo_interest_fen=memo_interest,
            memo_penalty_fen=memo_penalty,
        )
        after = replace(
            self,
            penalty_billed_fen=self.penalty_billed_fen - payment.penalty_fen,
            compound_billed_fen=self.compound_billed_fen - payment.compound_fen,
            interest_billed_fen=self.interest_billed_fen - payment.interest_fen,
            overdue_interest_fen=self.overdue_interest_fen - paid_overdue[Component.INTEREST],
            outstanding_principal_fen=self.outstanding_principal_fen - payment.principal_fen,
            overdue_principal_fen=self.overdue_principal_fen - payment.overdue_principal_fen,
            billed_principal_fen=self.billed_principal_fen - paid_billed_principal,
            memo_interest_fen=self.memo_interest_fen - memo_interest,
            memo_penalty_fen=self.memo_penalty_fen - memo_penalty,
        )
        return after._after_payment(on), payment

    def _after_payment(self, on: date) -> LoanAccount:
        billed = self.interest_billed_fen + self.penalty_billed_fen + self.compound_billed_fen
        still_overdue = (
            self.overdue_principal_fen
            + self.overdue_interest_fen
            + self.penalty_billed_fen
            + self.compound_billed_fen
        ) > 0
        closed = self.total_owed_fen == 0
        return replace(
            self,
            billed_due_on=self.billed_due_on if billed else None,
            # DPD counts from the oldest unpaid overdue amount; only clearing them all resets it.
            overdue_since=self.overdue_since if still_overdue else None,
            days_past_due=self.days_past_due if still_overdue else 0,
            status=LoanStatus.CLOSED if closed else self.status,
            closed_on=on if closed else None,
        )

    def arrears_brought_forward(self, due_on: date) -> tuple[LoanAccount, Arrears]:
        """Re-age the arrears at a restructuring (重组): nothing is left past due.

        Principal billed or overdue goes back among the principal to be re-amortised (the
        caller builds the new instalments over ``unbilled_principal_fen``, now all of it);
        interest, penalty and compound interest billed stay owed and fall due with the first
        instalment of the new schedule, ``due_on`` (Fineract's re-ageing with its default
        interest handling: no interest on interest). Nothing is posted: each amount stays in
        its receivable account, on or off balance as it was; penalties stop accruing because
        nothing is overdue. The category is left to end of day, whose restructuring rules keep
        a non-performing loan from being upgraded during the observation period.
        """
        arrears = Arrears(
            principal_fen=max(self.billed_principal_fen, self.overdue_principal_fen),
            interest_fen=self.interest_billed_fen,
            penalty_fen=self.penalty_owed_fen,
            overdue_since=self.overdue_since,
            days_past_due=self.days_past_due,
        )
        billed = self.interest_billed_fen + self.penalty_billed_fen + self.compound_billed_fen
        return (
            replace(
                self,
                billed_principal_fen=0,
                overdue_principal_fen=0,
                overdue_interest_fen=0,
                billed_due_on=due_on if billed else None,
                overdue_since=None,
                days_past_due=0,
            ),
            arrears,
        )

    def rescheduled(self, remaining: Sequence[ScheduledInstalment]) -> LoanAccount:
        """A term loan on its re-amortised instalments (none left: nothing runs any more)."""
        if not remaining:
            return replace(
                self,
                next_due_date=None,
                period_interest_fen=0,
                period_principal_fen=0,
                period_days=1,
                period_days_elapsed=0,
            )
        running = remaining[0]
        return replace(
            self,
            next_due_date=running.due_date,
            period_interest_fen=running.interest_fen,
            period_principal_fen=running.principal_fen,
            period_days=running.period_days,
            period_days_elapsed=0,
            maturity_date=remaining[-1].due_date,
        )

    def write_off(self, on: date) -> tuple[LoanAccount, WriteOff]:
        """Write the account off (核销) on ``on``: interest to date is settled, every
        receivable leaves the books and the whole amount owed is kept as the claim."""
        settled = self.settle_accrued(on)
        written = WriteOff(
            principal_fen=settled.outstanding_principal_fen,
            interest_fen=settled.interest_owed_fen - settled.memo_interest_fen,
            penalty_fen=settled.penalty_owed_fen - settled.memo_penalty_fen,
            memo_fen=settled.memo_interest_fen + settled.memo_penalty_fen,
            claim_fen=settled.total_owed_fen,
        )
        after = replace(
            settled,
            status=LoanStatus.WRITTEN_OFF,
            outstanding_principal_fen=0,
            overdue_principal_fen=0,
            billed_principal_fen=0,
            next_due_date=None,
            period_interest_fen=0,
            period_principal_fen=0,
            period_days=1,
            period_days_elapsed=0,
            interest_billed_fen=0,
            penalty_billed_fen=0,
            compound_billed_fen=0,
            overdue_interest_fen=0,
            billed_due_on=None,
            memo_interest_fen=0,
            memo_penalty_fen=0,
            written_off_fen=written.claim_fen,
            closed_on=on,
        )
        return after, written

    @property
    def unrecovered_fen(self) -> int:
        """What is left of a written-off claim to recover."""
        return self.written_off_fen - self.recovered_fen

    def recover(self, amount_fen: int) -> LoanAccount:
        """Cash collected on a written-off claim, up to what is left of it."""
        if amount_fen > self.unrecovered_fen:
            raise InvalidAmount(
                f"recovery {amount_fen} fen exceeds the unrecovered claim "
                f"{self.unrecovered_fen} fen",
                details={"amount_fen": amount_fen, "unrecovered_fen": self.unrecovered_fen},
            )
        return replace(self, recovered_fen=self.recovered_fen + amount_fen)
