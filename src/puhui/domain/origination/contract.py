"""The credit contract: rendered from a template with the offer, hashed, signed, accepted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from string import Template

from puhui.domain.money import format_yuan
from puhui.domain.origination.offer import Offer
from puhui.domain.privacy import mask_id_number

CONTRACT_TEMPLATE_VERSION = "credit-line-v1"
CONTRACT_TEMPLATE = Template(
    """普惠小微企业授信合同 / Puhui MSE Credit Line Agreement
合同编号 Contract no.: $contract_no
模板版本 Template: $template_version

授信人 Lender: $lender
受信人 Borrower (统一社会信用代码 USCC): $uscc
法定代表人证件号 Legal representative ID: $id_number_masked

授信额度 Credit limit: CNY $limit_yuan
年利率 Annual interest rate: $annual_rate_percent%
期限 Term: $term_months 个月 months
要约编号 Offer: $offer_id
要约有效期至 Offer valid until: $offer_expires_at

受信人确认已阅读并同意本合同全部条款。
The borrower confirms having read and agreed to every term of this agreement.
"""
)


def percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


@dataclass(frozen=True, slots=True)
class Contract:
    contract_no: str
    application_id: str
    text: str
    sha256: str
    signature_hex: str
    signing_key_id: str
    signed_at: datetime
    accepted_by: str
    accepted_at: datetime


def render_contract(
    *, contract_no: str, lender: str, uscc: str, id_number: str, offer: Offer
) -> str:
    """The contract text. The ID number appears masked: the text is shown to people."""
    return CONTRACT_TEMPLATE.substitute(
        contract_no=contract_no,
        template_version=CONTRACT_TEMPLATE_VERSION,
        lender=lender,
        uscc=uscc,
        id_number_masked=mask_id_number(id_number),
        limit_yuan=format_yuan(offer.limit_fen),
        annual_rate_percent=percent(offer.annual_rate),
        term_months=offer.term_months,
        offer_id=offer.offer_id,
        offer_expires_at=offer.expires_at.isoformat(),
    )


def contract_digest(text: str) -> str:
    """SHA-256 of the UTF-8 text: what the platform signs and the owner accepts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
