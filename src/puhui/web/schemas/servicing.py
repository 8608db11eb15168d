"""Bodies of credit lines, draws, repayments, receipts, statements, strategies and models."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from puhui.domain.lending.account import LoanAccount as LoanRecord
from puhui.domain.lending.reconciliation import ReconciliationRun
from puhui.services.origination.receipt_access import ReceiptSchedule
from puhui.services.servicing.lines import DrawResult
from puhui.services.servicing.receipts import RepaymentResult
from puhui.services.servicing.records import CreditLineRecord
from puhui.services.servicing.statements import Balances, Statement
from puhui.services.strategies import StrategyVersion

if TYPE_CHECKING:
    # The registry pulls in the modelling stack (seconds to import); only its types here.
    from puhui.risk.registry import RegistryEntry
from puhui.web.schemas.common import Fen, IsoDate, Strict

# --- servicing: credit lines, receipts, strategies, models ----------------------------------


class LineChange(Strict):
    reason: str = Field(min_length=1, max_length=200)


class LimitReduction(Strict):
    new_limit_fen: Fen = Field(ge=0, le=10_000_000_000)
    reason: str = Field(min_length=1, max_length=200)


class DrawCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=1_000_000_000)
    maturity_date: IsoDate


class RepaymentCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=10_000_000_000)


class CreditLineOut(BaseModel):
    line_id: str
    enterprise_id: str
    product_id: str
    status: str
    limit_fen: int
    drawn_fen: int
    available_fen: int
    annual_rate: str
    opened_on: date
    expiry_date: date
    version: int


class DrawOut(BaseModel):
    receipt_id: str
    line_id: str
    amount_fen: int
    drawn_on: date
    maturity_date: date
    available_fen: int
    replayed: bool


class RepaymentOut(BaseModel):
    receipt_id: str
    amount_fen: int
    paid_on: date
    penalty_fen: int
    compound_fen: int
    interest_fen: int
    principal_fen: int
    outstanding_principal_fen: int
    owed_after_fen: int
    closed: bool
    replayed: bool


class InstalmentOut(BaseModel):
    period: int
    due_date: date
    period_days: int


class ReceiptFields(BaseModel):
    """What every view of a receipt (借据) or term loan shows."""

    receipt_id: str
    line_id: str | None
    status: str
    disbursed_on: date
    maturity_date: date
    principal_fen: int
    outstanding_principal_fen: int
    overdue_principal_fen: int
    interest_owed_fen: int
    penalty_owed_fen: int
    total_owed_fen: int
    days_past_due: int
    category: str
    called_in_on: date | None = Field(
        description="the day the bank called the loan in early (提前收回): everything it owed "
        "fell due that day; null when not called in"
    )


class ReceiptScheduleOut(ReceiptFields):
    instalments: list[InstalmentOut]


class StrategyOut(BaseModel):
    name: str
    version: int
    status: str
    content_hash: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    activated_at: datetime | None
    document: str | None = None


class ModelOut(BaseModel):
    version: str
    name: str
    kind: str
    status: str
    registered_at: str
    data_hash: str
    metrics: dict[str, dict[str, float]]
    approver: str | None
    promoted_at: str | None


def credit_line_out(line: CreditLineRecord) -> CreditLineOut:
    return CreditLineOut(
        line_id=line.line_id,
        enterprise_id=line.enterprise_id,
        product_id=line.product_id,
        status=line.status.value,
        limit_fen=line.limit_fen,
        drawn_fen=line.drawn_fen,
        available_fen=line.available_fen,
        annual_rate=str(line.annual_rate),
        opened_on=line.opened_on,
        expiry_date=line.expiry_date,
        version=line.version,
    )


def draw_out(result: DrawResult) -> DrawOut:
    return DrawOut(
        receipt_id=result.receipt_id,
        line_id=result.line_id,
        amount_fen=result.amount_fen,
        drawn_on=date.fromisoformat(result.drawn_on),
        maturity_date=date.fromisoformat(result.maturity_date),
        available_fen=result.available_fen,
        replayed=result.replayed,
    )


def repayment_out(result: RepaymentResult) -> RepaymentOut:
    return RepaymentOut(
        receipt_id=result.receipt_id,
        amount_fen=result.amount_fen,
        paid_on=date.fromisoformat(result.paid_on),
        penalty_fen=result.penalty_fen,
        compound_fen=result.compound_fen,
        interest_fen=result.interest_fen,
        principal_fen=result.principal_fen,
        outstanding_principal_fen=result.outstanding_principal_fen,
        owed_after_fen=result.owed_after_fen,
        closed=result.closed,
        replayed=result.replayed,
    )


def receipt_schedule_out(schedule: ReceiptSchedule) -> ReceiptScheduleOut:
    return ReceiptScheduleOut(
        **_receipt_fields(schedule.receipt),
        instalments=[
            InstalmentOut(period=i.period, due_date=i.due_date, period_days=i.period_days)
            for i in schedule.instalments
        ],
    )


def strategy_out(strategy: StrategyVersion, *, with_document: bool) -> StrategyOut:
    return StrategyOut(
        name=strategy.name,
        version=strategy.version,
        status=strategy.status.value,
        content_hash=strategy.content_hash,
        created_by=strategy.created_by,
        created_at=strategy.created_at,
        approved_by=strategy.approved_by,
        activated_at=strategy.activated_at,
        document=strategy.document if with_document else None,
    )


def model_out(entry: RegistryEntry) -> ModelOut:
    return ModelOut(
        version=entry.version,
        name=entry.name,
        kind=entry.kind,
        status=entry.status.value,
        registered_at=entry.registered_at,
        data_hash=entry.data_hash,
        metrics=entry.metrics,
        approver=entry.approver,
        promoted_at=entry.promoted_at,
    )


# Statements (对账单) and the receipts of a line


class BalancesOut(BaseModel):
    principal_fen: int
    interest_fen: int
    penalty_fen: int = Field(description="penalty plus compound interest (罚息复利)")
    total_fen: int


class MovementOut(BaseModel):
    on: date = Field(description="the day of the event; for an accrual, its last day")
    from_date: date | None = Field(description="first day of an accrual, else null")
    kind: str
    label_zh: str
    label_en: str
    receipt_id: str
    amount_fen: int
    change: BalancesOut = Field(description="what the movement did to the balances (signed)")


class StatementTotalsOut(BaseModel):
    drawn_fen: int
    repaid_fen: int
    repaid: BalancesOut
    accrued: BalancesOut
    written_off: BalancesOut
    recovered_fen: int
    net_change: BalancesOut


class AmountDueOut(BaseModel):
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    total_fen: int
    due_date: date | None


class StatementReceiptOut(BaseModel):
    receipt_id: str
    disbursed_on: date
    maturity_date: date
    opening: BalancesOut
    closing: BalancesOut


class StatementOut(BaseModel):
    line_id: str
    enterprise_id: str
    period: str = Field(description="YYYY-MM: the interest cycle ending on its settlement day")
    period_start: date
    period_end: date
    final: bool = Field(description="false while the end of day has not closed the period")
    closed_through: date | None
    opening: BalancesOut
    movements: list[MovementOut]
    closing: BalancesOut
    totals: StatementTotalsOut
    due: AmountDueOut
    receipts: list[StatementReceiptOut]


class ReceiptOut(ReceiptFields):
    closed_on: date | None


def balances_out(balances: Balances) -> BalancesOut:
    return BalancesOut(
        principal_fen=balances.principal_fen,
        interest_fen=balances.interest_fen,
        penalty_fen=balances.penalty_fen,
        total_fen=balances.total_fen,
    )


def statement_out(statement: Statement) -> StatementOut:
    totals = statement.totals
    return StatementOut(
        line_id=statement.line_id,
        enterprise_id=statement.enterprise_id,
        period=statement.period.label,
        period_start=statement.period.start,
        period_end=statement.period.end,
        final=statement.final,
        closed_through=statement.closed_through,
        opening=balances_out(statement.opening),
        movements=[
            MovementOut(
                on=m.on,
                from_date=m.from_date,
                kind=m.kind.value,
                label_zh=m.kind.label_zh,
                label_en=m.kind.label_en,
                receipt_id=m.receipt_id,
                amount_fen=m.amount_fen,
                change=balances_out(m.change),
            )
            for m in statement.movements
        ],
        closing=balances_out(statement.closing),
        totals=StatementTotalsOut(
            drawn_fen=totals.drawn_fen,
            repaid_fen=totals.repaid_fen,
            repaid=balances_out(totals.repaid),
            accrued=balances_out(totals.accrued),
            written_off=balances_out(totals.written_off),
            recovered_fen=totals.recovered_fen,
            net_change=balances_out(totals.net_change),
        ),
        due=AmountDueOut(
            principal_fen=statement.due.principal_fen,
            interest_fen=statement.due.interest_fen,
            penalty_fen=statement.due.penalty_fen,
            total_fen=statement.due.total_fen,
            due_date=statement.due.due_date,
        ),
        receipts=[
            StatementReceiptOut(
                receipt_id=r.receipt_id,
                disbursed_on=r.disbursed_on,
                maturity_date=r.maturity_date,
                opening=balances_out(r.opening),
                closing=balances_out(r.closing),
            )
            for r in statement.receipts
        ],
    )


def _receipt_fields(receipt: LoanRecord) -> dict[str, Any]:
    """What every view of a receipt (借据) shows."""
    return {
        "receipt_id": receipt.loan_id,
        "line_id": receipt.line_id,
        "status": receipt.status.value,
        "disbursed_on": receipt.disbursed_on,
        "maturity_date": receipt.maturity_date,
        "principal_fen": receipt.principal_fen,
        "outstanding_principal_fen": receipt.outstanding_principal_fen,
        "overdue_principal_fen": receipt.overdue_principal_fen,
        "interest_owed_fen": receipt.interest_owed_fen,
        "penalty_owed_fen": receipt.penalty_owed_fen,
        "total_owed_fen": receipt.total_owed_fen,
        "days_past_due": receipt.days_past_due,
        "category": receipt.category.value,
        "called_in_on": receipt.called_in_on,
    }


def receipt_out(receipt: LoanRecord) -> ReceiptOut:
    return ReceiptOut(**_receipt_fields(receipt), closed_on=receipt.closed_on)


# Security administration: users' status, role grants (four eyes), API keys, audit search.


class RepaymentReconciliationCreate(Strict):
    value_date: IsoDate = Field(description="the closed business day reconciled")
    file: str = Field(
        max_length=5_000_000,
        description="the channel's CSV: order_id, loan_id, amount (yuan), value_date"
        "[, channel_ref]",
    )
    file_name: str | None = Field(
        default=None, max_length=255, description="the file's name, kept with the record"
    )


class ReconciliationSideOut(BaseModel):
    count: int
    amount_fen: int


class ReconciliationBreakOut(BaseModel):
    kind: str = Field(description="not_posted | not_collected | amount_differs | loan_differs")
    order_id: str
    loan_id: str = Field(description="the channel's loan, or ours where the channel has none")
    ours_loan_id: str | None
    ours_fen: int | None
    theirs_fen: int | None
    channel_ref: str | None


class ReconciliationSummaryOut(BaseModel):
    run_id: str = Field(description="the recorded reconciliation (rcn_…)")
    value_date: date
    agrees: bool
    matched: int
    matched_fen: int
    ours: ReconciliationSideOut
    theirs: ReconciliationSideOut
    breaks_count: int
    file_sha256: str = Field(description="SHA-256 of the file's UTF-8 text")
    file_name: str | None
    reconciled_by: str
    reconciled_at: datetime


class RepaymentReconciliationOut(ReconciliationSummaryOut):
    breaks: list[ReconciliationBreakOut]


class ReconciliationListOut(BaseModel):
    items: list[ReconciliationSummaryOut]
    limit: int
    offset: int


def _summary_fields(run: ReconciliationRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "value_date": run.value_date,
        "agrees": run.agrees,
        "matched": run.matched,
        "matched_fen": run.matched_fen,
        "ours": ReconciliationSideOut(count=run.ours_count, amount_fen=run.ours_fen),
        "theirs": ReconciliationSideOut(count=run.theirs_count, amount_fen=run.theirs_fen),
        "breaks_count": run.breaks_count,
        "file_sha256": run.file_sha256,
        "file_name": run.file_name,
        "reconciled_by": run.reconciled_by,
        "reconciled_at": run.reconciled_at,
    }


def reconciliation_list_out(
    runs: list[ReconciliationRun], *, limit: int, offset: int
) -> ReconciliationListOut:
    return ReconciliationListOut(
        items=[ReconciliationSummaryOut(**_summary_fields(r)) for r in runs],
        limit=limit,
        offset=offset,
    )


def repayment_reconciliation_out(found: ReconciliationRun) -> RepaymentReconciliationOut:
    return RepaymentReconciliationOut(
        **_summary_fields(found),
        breaks=[
            ReconciliationBreakOut(
                kind=b.kind.value,
                order_id=b.order_id,
                loan_id=b.loan_id,
                ours_loan_id=b.ours_loan_id,
                ours_fen=b.ours_fen,
                theirs_fen=b.theirs_fen,
                channel_ref=b.channel_ref or None,
            )
            for b in found.breaks or ()
        ],
    )
