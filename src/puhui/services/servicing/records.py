"""What servicing stores: products and credit lines as records, loan accounts as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.product import LoanProduct, RepaymentMethod


class LineStatus(Enum):
    ACTIVE = "active"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class ProductRecord:
    product_id: ProductId
    product: LoanProduct


@dataclass(frozen=True, slots=True)
class CreditLineRecord:
    line_id: CreditLineId
    enterprise_id: str
    product_id: ProductId
    annual_rate: Decimal
    limit_fen: int
    drawn_fen: int
    opened_on: date
    expiry_date: date
    status: LineStatus
    version: int

    @property
    def available_fen(self) -> int:
        return max(0, self.limit_fen - self.drawn_fen)


_LOAN_ENUMS: dict[str, type[Enum]] = {
    "kind": LoanKind,
    "method": RepaymentMethod,
    "status": LoanStatus,
    "category": FiveCategory,
}
_LOAN_DATES = frozenset(
    {
        "disbursed_on",
        "maturity_date",
        "next_due_date",
        "billed_due_on",
        "overdue_since",
        "accrued_through",
        "closed_on",
        "called_in_on",
    }
)


def loan_to_json(loan: LoanAccount) -> str:
    """The whole record as JSON (dates ISO, rates as decimal strings, enums by value)."""
    data: dict[str, Any] = {}
    for item in fields(loan):
        value = getattr(loan, item.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        data[item.name] = value
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def loan_from_json(text: str) -> LoanAccount:
    data = json.loads(text)
    for name, enum in _LOAN_ENUMS.items():
        data[name] = enum(data[name])
    for name in _LOAN_DATES:
        if data[name] is not None:
            data[name] = date.fromisoformat(data[name])
    data["annual_rate"] = Decimal(data["annual_rate"])
    return LoanAccount(**data)
