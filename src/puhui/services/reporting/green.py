"""Green-loan reporting (docs/green.md): outstanding loans and balance by the green label and
catalogue category their application was decided with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from puhui.services.security.permissions import Permission, Principal, require

if TYPE_CHECKING:
    from puhui.services.reporting.ports import ReportingStore

UNLABELLED = "unlabelled"
"""Loans whose decision read no green label (no screen configured, or decided before migration
0032), and loans not drawn on a line an application opened."""
NO_CATEGORY = "-"


@dataclass(frozen=True, slots=True)
class GreenLoanLine:
    label: str
    category: str
    loans: int
    """Loans with principal outstanding."""
    outstanding_principal_fen: int


def green_loan_report(store: ReportingStore, *, actor: Principal) -> list[GreenLoanLine]:
    """The live book's green loans by label and category (reporting permission)."""
    require(actor, Permission.REPORT_READ)
    return store.green_loans()
