"""The signed credit contract as a PDF: what it shows, who may read it, and the renderer port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from puhui.domain.clock import BANK_ZONE
from puhui.domain.errors import NotFound
from puhui.domain.money import FEN_PER_YUAN
from puhui.domain.origination.application import Application
from puhui.domain.origination.contract import Contract, percent
from puhui.domain.origination.offer import Offer
from puhui.domain.privacy import mask_id_number
from puhui.services.origination.context import Origination, load_visible, view_of
from puhui.services.security.permissions import Permission, Principal, require

TITLE_ZH = "普惠小微企业授信合同"
TITLE_EN = "Puhui MSE Credit Line Agreement"


@dataclass(frozen=True, slots=True)
class ContractSheet:
    """Everything the PDF shows, already formatted for people (the ID number masked)."""

    contract_no: str
    lender: str
    borrower_uscc: str
    id_number_masked: str
    limit_yuan: str
    """Yuan with thousands separators and two decimals: ``1,234,567.00``."""
    annual_rate_percent: str
    term_months: int
    signed_on: date
    accepted_on: date
    offer_valid_until: date
    text_sha256: str
    signing_key_id: str
    text: str
    """The signed text itself, shown in full: the PDF is a rendering of it, not a new contract."""


class ContractRenderer(Protocol):
    """Draws a contract sheet as PDF bytes (the adapter owns the fonts)."""

    def render(self, sheet: ContractSheet) -> bytes: ...


def grouped_yuan(amount_fen: int) -> str:
    """Fen as yuan with thousands separators and two decimals (``-1,234.05``)."""
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{part:02d}"


def business_date(at: datetime) -> date:
    """The bank's date (Asia/Shanghai) of a UTC timestamp."""
    return at.astimezone(BANK_ZONE).date()


def contract_sheet(
    *, application: Application, offer: Offer, contract: Contract, lender: str
) -> ContractSheet:
    return ContractSheet(
        contract_no=contract.contract_no,
        lender=lender,
        borrower_uscc=application.applicant.uscc,
        id_number_masked=mask_id_number(application.applicant.id_number),
        limit_yuan=grouped_yuan(offer.limit_fen),
        annual_rate_percent=percent(offer.annual_rate),
        term_months=offer.term_months,
        signed_on=business_date(contract.signed_at),
        accepted_on=business_date(contract.accepted_at),
        offer_valid_until=business_date(offer.expires_at),
        text_sha256=contract.sha256,
        signing_key_id=contract.signing_key_id,
        text=contract.text,
    )


def contract_pdf(
    origination: Origination,
    renderer: ContractRenderer,
    *,
    actor: Principal,
    application_id: str,
) -> bytes:
    """The application's signed contract as PDF, for those who may read the application.

    Applicants see only their own and partners their referrals (others get "not found", as
    for the application itself); staff read it with the application-read permission.
    """
    require(actor, Permission.APPLICATION_READ)
    with origination.reading() as uow:
        view = view_of(uow, load_visible(uow, actor, application_id))
    if view.contract is None or view.offer is None:
        raise NotFound(
            "the application has no contract yet", details={"application_id": application_id}
        )
    sheet = contract_sheet(
        application=view.application,
        offer=view.offer,
        contract=view.contract,
        lender=origination.lender_name,
    )
    return renderer.render(sheet)
