"""Bodies of supply-chain finance: core enterprises, payables, vouchers, financings.

Money is yuan strings with at most two places in ("1234.5", "1234.56") and exactly two out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from puhui.domain.money import format_yuan
from puhui.services.supply_chain.ports import (
    CoreEnterpriseView,
    EarningRun,
    FacilityUsage,
    FinancingView,
    PartnerView,
    PayableView,
    SettlementRun,
    SettlementView,
    SplitView,
    TransferView,
    TreeView,
    VoucherView,
)
from puhui.web.schemas.common import IsoDate, Strict

Yuan = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$",
        max_length=17,
        description="yuan, a decimal string with at most two places",
        examples=["1234.56"],
    ),
]
Uscc = Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$", description="unified social credit code")]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class CoreOnboard(Strict):
    uscc: Uscc
    requested: Yuan
    as_of: IsoDate | None = None


class PartnerIn(Strict):
    partner: Uscc
    relation: Annotated[str, Field(pattern=r"^(supplier|dealer)$")]


class FreezeIn(Strict):
    reason: Reason


class NonpaymentIn(Strict):
    on: IsoDate


class EnterpriseUserIn(Strict):
    user_id: Annotated[str, Field(min_length=1, max_length=40)]
    uscc: Uscc


class PayableIn(Strict):
    supplier: Uscc
    invoice_month: Annotated[str, Field(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")]
    amount: Yuan


class VoucherIssue(Strict):
    core: Uscc
    payable_id: Annotated[str, Field(min_length=1, max_length=64)]
    maturity: IsoDate


class SplitIn(Strict):
    parts: Annotated[list[Yuan], Field(min_length=1, max_length=100)]


class TransferIn(Strict):
    to: Uscc


class RejectIn(Strict):
    reason: Reason


class SettleIn(Strict):
    on: IsoDate


class EarnIn(Strict):
    through: IsoDate


class EarningRunOut(BaseModel):
    through: date
    financings: int
    earned: str
    entries: list[str]


class CoreOut(BaseModel):
    uscc: str
    status: str
    limit: str
    outstanding: str
    available: str
    grade: str
    discount_rate: str
    fee_rate: str
    term_days: int
    expires_on: date
    defaulting: bool
    frozen_reason: str | None
    strategy_version: str
    decided_at: datetime


class FacilityOut(CoreOut):
    live_count: int
    live: str
    financed: str
    by_status: dict[str, str]
    by_tier: dict[str, str]


class PartnerOut(BaseModel):
    core: str
    partner: str
    relation: str


class PayableOut(BaseModel):
    payable_id: str
    core: str
    supplier: str
    invoice_key: str
    invoice_month: str
    amount: str
    voucher_id: str | None


class VoucherOut(BaseModel):
    voucher_id: str
    root_id: str
    parent_id: str | None
    core: str
    holder: str
    amount: str
    issued_on: date
    maturity: date
    status: str
    tier: int
    invoice_key: str | None
    financed_on: date | None
    financing_pending: bool
    previous_holders: list[str]


class SplitOut(BaseModel):
    parent: VoucherOut
    children: list[VoucherOut]


class TransferOut(BaseModel):
    voucher_id: str
    seq: int
    from_uscc: str
    to_uscc: str
    transferred_on: date
    tier: int


class FinancingOut(BaseModel):
    financing_id: str
    voucher_id: str
    holder: str
    core: str
    status: str
    requested_on: date
    face: str
    days: int | None
    annual_rate: str | None
    fee_rate: str | None
    interest: str | None
    fee: str | None
    proceeds: str | None
    decided_on: date | None
    reason: str | None


class SettlementOut(BaseModel):
    voucher_id: str
    payee: str
    amount: str
    penalty: str
    settled_on: date


class TreeOut(BaseModel):
    voucher: VoucherOut
    root_id: str
    vouchers: list[VoucherOut]
    transfers: list[TransferOut]
    financings: list[FinancingOut]
    settlements: list[SettlementOut]


class VoucherPage(BaseModel):
    items: list[VoucherOut]
    next_after: str | None


class SettlementRunOut(BaseModel):
    on: date
    settled: int
    settled_amount: str
    to_bank: str
    to_holders: str
    penalty: str
    overdue: int
    overdue_amount: str
    cores_frozen: list[str]
    alerts_raised: int
    facilities_expired: int


def _opt(amount: int | None) -> str | None:
    return None if amount is None else format_yuan(amount)


def core_out(core: CoreEnterpriseView, status: str | None = None) -> CoreOut:
    return CoreOut(
        uscc=core.uscc,
        status=status or core.status,
        limit=format_yuan(core.limit_fen),
        outstanding=format_yuan(core.outstanding_fen),
        available=format_yuan(core.available_fen),
        grade=core.grade,
        discount_rate=str(core.discount_rate),
        fee_rate=str(core.fee_rate),
        term_days=core.term_days,
        expires_on=core.expires_on,
        defaulting=core.defaulting,
        frozen_reason=core.frozen_reason,
        strategy_version=core.strategy_version,
        decided_at=core.decided_at,
    )


def facility_out(usage: FacilityUsage) -> FacilityOut:
    return FacilityOut(
        **core_out(usage.core, usage.status).model_dump(),
        live_count=usage.live_count,
        live=format_yuan(usage.live_fen),
        financed=format_yuan(usage.financed_fen),
        by_status={k: format_yuan(v) for k, v in sorted(usage.by_status_fen.items())},
        by_tier={str(k): format_yuan(v) for k, v in sorted(usage.by_tier_fen.items())},
    )


def partner_out(p: PartnerView) -> PartnerOut:
    return PartnerOut(core=p.core, partner=p.partner, relation=p.relation)


def payable_out(p: PayableView) -> PayableOut:
    return PayableOut(
        payable_id=p.payable_id,
        core=p.core,
        supplier=p.supplier,
        invoice_key=p.invoice_key,
        invoice_month=f"{p.invoice_month:%Y-%m}",
        amount=format_yuan(p.amount_fen),
        voucher_id=p.voucher_id,
    )


def voucher_out(v: VoucherView) -> VoucherOut:
    return VoucherOut(
        voucher_id=v.voucher_id,
        root_id=v.root_id,
        parent_id=v.parent_id,
        core=v.core,
        holder=v.holder,
        amount=format_yuan(v.amount_fen),
        issued_on=v.issued_on,
        maturity=v.maturity,
        status=v.status,
        tier=v.tier,
        invoice_key=v.invoice_key,
        financed_on=v.financed_on,
        financing_pending=v.financing_pending,
        previous_holders=list(v.previous_holders),
    )


def split_out(s: SplitView) -> SplitOut:
    return SplitOut(parent=voucher_out(s.parent), children=[voucher_out(c) for c in s.children])


def financing_out(f: FinancingView) -> FinancingOut:
    return FinancingOut(
        financing_id=f.financing_id,
        voucher_id=f.voucher_id,
        holder=f.holder,
        core=f.core,
        status=f.status,
        requested_on=f.requested_on,
        face=format_yuan(f.face_fen),
        days=f.days,
        annual_rate=None if f.annual_rate is None else str(f.annual_rate),
        fee_rate=None if f.fee_rate is None else str(f.fee_rate),
        interest=_opt(f.interest_fen),
        fee=_opt(f.fee_fen),
        proceeds=_opt(f.proceeds_fen),
        decided_on=f.decided_on,
        reason=f.reason,
    )


def _transfer_out(t: TransferView) -> TransferOut:
    return TransferOut(
        voucher_id=t.voucher_id,
        seq=t.seq,
        from_uscc=t.from_uscc,
        to_uscc=t.to_uscc,
        transferred_on=t.transferred_on,
        tier=t.tier,
    )


def _settlement_out(s: SettlementView) -> SettlementOut:
    return SettlementOut(
        voucher_id=s.voucher_id,
        payee=s.payee,
        amount=format_yuan(s.amount_fen),
        penalty=format_yuan(s.penalty_fen),
        settled_on=s.settled_on,
    )


def tree_out(voucher_id: str, tree: TreeView) -> TreeOut:
    by_id = {v.voucher_id: v for v in tree.vouchers}
    return TreeOut(
        voucher=voucher_out(by_id[voucher_id]),
        root_id=tree.root_id,
        vouchers=[voucher_out(v) for v in tree.vouchers],
        transfers=[_transfer_out(t) for t in tree.transfers],
        financings=[financing_out(f) for f in tree.financings],
        settlements=[_settlement_out(s) for s in tree.settlements],
    )


def earning_out(run: EarningRun) -> EarningRunOut:
    return EarningRunOut(
        through=run.through,
        financings=run.financings,
        earned=format_yuan(run.earned_fen),
        entries=list(run.entries),
    )


def run_out(run: SettlementRun) -> SettlementRunOut:
    return SettlementRunOut(
        on=run.on,
        settled=run.settled,
        settled_amount=format_yuan(run.settled_fen),
        to_bank=format_yuan(run.to_bank_fen),
        to_holders=format_yuan(run.to_holders_fen),
        penalty=format_yuan(run.penalty_fen),
        overdue=run.overdue,
        overdue_amount=format_yuan(run.overdue_fen),
        cores_frozen=list(run.cores_frozen),
        alerts_raised=run.alerts_raised,
        facilities_expired=run.facilities_expired,
    )
