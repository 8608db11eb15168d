"""Receipt arithmetic: settle what has accrued, then allocate a payment down the waterfall."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from puhui.domain.ledger import Account
from puhui.domain.lending.errors import Overpayment
from puhui.domain.lending.product import Component
from puhui.services.servicing.records import LoanKind, LoanRecord, LoanStatus


def settle_accrued(loan: LoanRecord, on: date, *, interest: bool = True) -> LoanRecord:
    """Settle at repayment (结息): the rounded accruals become billed, accumulators restart.

    The accrued figures are already the rounded price of the exact accumulators, so
    settling moves them without rounding again and nothing is gained or lost. A term loan's
    running-period interest (``interest=False``) stays accrued until its instalment falls
    due, unless the loan is repaid early or written off.
    """
    moved_interest = loan.interest_accrued_fen if interest else 0
    billed_interest = loan.interest_billed_fen + moved_interest
    billed_penalty = loan.penalty_billed_fen + loan.penalty_accrued_fen
    billed_compound = loan.compound_billed_fen + loan.compound_accrued_fen
    anything_billed = billed_interest + billed_penalty + billed_compound > 0
    due_on = loan.billed_due_on
    if anything_billed:
        due_on = on if due_on is None else min(due_on, on)
    return replace(
        loan,
        interest_accum_fen_days=0 if interest else loan.interest_accum_fen_days,
        interest_accrued_fen=loan.interest_accrued_fen - moved_interest,
        penalty_accum_fen_days=0,
        penalty_accrued_fen=0,
        compound_accum_fen_days=0,
        compound_accrued_fen=0,
        interest_billed_fen=billed_interest,
        penalty_billed_fen=billed_penalty,
        compound_billed_fen=billed_compound,
        billed_due_on=due_on if anything_billed else loan.billed_due_on,
    )


@dataclass(frozen=True, slots=True)
class Allocation:
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


def allocate_payment(
    receipt: LoanRecord, amount_fen: int, waterfall: tuple[Component, ...], on: date
) -> tuple[LoanRecord, Allocation]:
    """Allocate a payment on a settled receipt: overdue amounts first, each tier in waterfall
    order (default 罚息 → 复利 → 利息 → 本金); an amount above what is owed is refused."""
    owed = receipt.total_owed_fen
    if amount_fen > owed:
        raise Overpayment(amount_fen, owed, details={"receipt_id": receipt.loan_id})
    billed_term = receipt.kind is LoanKind.TERM
    current_principal = (
        receipt.billed_principal_fen - receipt.overdue_principal_fen
        if billed_term
        else receipt.outstanding_principal_fen - receipt.overdue_principal_fen
    )
    overdue = {
        Component.PENALTY: receipt.penalty_billed_fen,
        Component.COMPOUND: receipt.compound_billed_fen,
        Component.INTEREST: receipt.overdue_interest_fen,
        Component.PRINCIPAL: receipt.overdue_principal_fen,
    }
    current = {
        Component.PENALTY: 0,
        Component.COMPOUND: 0,
        Component.INTEREST: receipt.interest_billed_fen - receipt.overdue_interest_fen,
        Component.PRINCIPAL: current_principal,
    }
    # A term loan's principal not yet due comes last: paying it is an early repayment.
    early = dict.fromkeys(Component, 0)
    if billed_term:
        early[Component.PRINCIPAL] = receipt.unbilled_principal_fen
    paid = dict.fromkeys(Component, 0)
    paid_overdue = dict.fromkeys(Component, 0)
    paid_billed_principal = 0
    remaining = amount_fen
    for tier, name in ((overdue, "overdue"), (current, "current"), (early, "early")):
        for component in waterfall:
            take = min(remaining, tier[component])
            paid[component] += take
            if name == "overdue":
                paid_overdue[component] += take
            if component is Component.PRINCIPAL and name != "early" and billed_term:
                paid_billed_principal += take
            remaining -= take
    # On-balance receivables are the older ones: a payment clears them before the memo part.
    on_balance_interest = min(
        receipt.interest_billed_fen, receipt.interest_owed_fen - receipt.memo_interest_fen
    )
    on_balance_penalty = (
        receipt.penalty_billed_fen + receipt.compound_billed_fen - receipt.memo_penalty_fen
    )
    memo_interest = max(0, paid[Component.INTEREST] - on_balance_interest)
    memo_penalty = max(0, paid[Component.PENALTY] + paid[Component.COMPOUND] - on_balance_penalty)
    allocation = Allocation(
        penalty_fen=paid[Component.PENALTY],
        compound_fen=paid[Component.COMPOUND],
        interest_fen=paid[Component.INTEREST],
        principal_fen=paid[Component.PRINCIPAL],
        overdue_principal_fen=paid_overdue[Component.PRINCIPAL],
        memo_interest_fen=memo_interest,
        memo_penalty_fen=memo_penalty,
    )
    after = replace(
        receipt,
        penalty_billed_fen=receipt.penalty_billed_fen - allocation.penalty_fen,
        compound_billed_fen=receipt.compound_billed_fen - allocation.compound_fen,
        interest_billed_fen=receipt.interest_billed_fen - allocation.interest_fen,
        overdue_interest_fen=receipt.overdue_interest_fen - paid_overdue[Component.INTEREST],
        outstanding_principal_fen=receipt.outstanding_principal_fen - allocation.principal_fen,
        overdue_principal_fen=receipt.overdue_principal_fen - allocation.overdue_principal_fen,
        billed_principal_fen=receipt.billed_principal_fen - paid_billed_principal,
        memo_interest_fen=receipt.memo_interest_fen - memo_interest,
        memo_penalty_fen=receipt.memo_penalty_fen - memo_penalty,
    )
    return _after_payment(after, on), allocation


def _after_payment(receipt: LoanRecord, on: date) -> LoanRecord:
    billed = receipt.interest_billed_fen + receipt.penalty_billed_fen + receipt.compound_billed_fen
    still_overdue = (
        receipt.overdue_principal_fen
        + receipt.overdue_interest_fen
        + receipt.penalty_billed_fen
        + receipt.compound_billed_fen
    ) > 0
    closed = receipt.total_owed_fen == 0
    return replace(
        receipt,
        billed_due_on=receipt.billed_due_on if billed else None,
        # DPD counts from the oldest unpaid overdue amount; only clearing them all resets it.
        overdue_since=receipt.overdue_since if still_overdue else None,
        days_past_due=receipt.days_past_due if still_overdue else 0,
        status=LoanStatus.CLOSED if closed else receipt.status,
        closed_on=on if closed else None,
    )
