"""Bodies of dealer lines (经销商贷): open one for a core's dealer, draw to pay the core."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from puhui.services.dealers import DealerDraw, DealerLine, DealerLineView
from puhui.web.schemas.common import Fen, IsoDate, Strict

USCC = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="unified social credit code")


class DealerLineCreate(Strict):
    core_uscc: str = USCC
    dealer_uscc: str = USCC
    commitment: Literal["repurchase", "guarantee", "none"] = Field(
        description="the core's undertaking for the dealer's debt (回购 / 担保 / none)"
    )
    requested_amount_fen: Fen | None = Field(default=None, gt=0, le=10_000_000_000)


class DealerLineOut(BaseModel):
    line_id: str
    dealer_uscc: str
    core_uscc: str
    commitment: str
    limit_fen: int
    annual_rate: str
    opened_on: date
    expiry_date: date
    grade: str | None
    seasonal_peak_month: int | None
    peak_average_fen: int
    purchases_12m_fen: int
    strategy_version: str


class DealerDrawCreate(Strict):
    amount_fen: Fen = Field(gt=0, le=1_000_000_000)
    maturity_date: IsoDate


class DealerDrawOut(BaseModel):
    receipt_id: str
    line_id: str
    amount_fen: int
    drawn_on: date
    maturity_date: date
    available_fen: int
    payee: str
    """The core enterprise paid (受托支付)."""
    payee_account: str | None
    replayed: bool


def dealer_line_out(line: DealerLine) -> DealerLineOut:
    return DealerLineOut(
        line_id=line.line_id,
        dealer_uscc=line.dealer_uscc,
        core_uscc=line.core_uscc,
        commitment=line.commitment,
        limit_fen=line.limit_fen,
        annual_rate=str(line.annual_rate),
        opened_on=line.opened_on,
        expiry_date=line.expiry_date,
        grade=line.grade,
        seasonal_peak_month=line.seasonal_peak_month,
        peak_average_fen=line.peak_average_fen,
        purchases_12m_fen=line.purchases_12m_fen,
        strategy_version=line.strategy_version,
    )


def dealer_draw_out(paid: DealerDraw) -> DealerDrawOut:
    result = paid.draw
    return DealerDrawOut(
        receipt_id=result.receipt_id,
        line_id=result.line_id,
        amount_fen=result.amount_fen,
        drawn_on=date.fromisoformat(result.drawn_on),
        maturity_date=date.fromisoformat(result.maturity_date),
        available_fen=result.available_fen,
        payee=paid.payee,
        payee_account=paid.payee_account,
        replayed=result.replayed,
    )


class DealerReceiptOut(BaseModel):
    receipt_id: str
    principal_fen: int
    outstanding_principal_fen: int
    drawn_on: date
    maturity_date: date
    payee: str | None
    """The core enterprise paid (受托支付)."""
    status: str
    called_in_on: date | None = Field(description="the day it was called in early, if it was")


class DealerLineViewOut(BaseModel):
    line_id: str
    dealer_uscc: str
    core_uscc: str
    limit_fen: int
    drawn_fen: int
    available_fen: int
    annual_rate: str
    opened_on: date
    expiry_date: date
    status: str
    """active, frozen or expired."""
    receipts: list[DealerReceiptOut]
    """The line's receipts (the list answer leaves them empty: read the line for them)."""


def dealer_line_view_out(view: DealerLineView) -> DealerLineViewOut:
    return DealerLineViewOut(
        line_id=view.line_id,
        dealer_uscc=view.dealer_uscc,
        core_uscc=view.core_uscc,
        limit_fen=view.limit_fen,
        drawn_fen=view.drawn_fen,
        available_fen=view.available_fen,
        annual_rate=str(view.annual_rate),
        opened_on=view.opened_on,
        expiry_date=view.expiry_date,
        status=view.status,
        receipts=[
            DealerReceiptOut(
                receipt_id=r.receipt_id,
                principal_fen=r.principal_fen,
                outstanding_principal_fen=r.outstanding_principal_fen,
                drawn_on=r.drawn_on,
                maturity_date=r.maturity_date,
                payee=r.payee,
                status=r.status,
                called_in_on=r.called_in_on,
            )
            for r in view.receipts
        ],
    )
