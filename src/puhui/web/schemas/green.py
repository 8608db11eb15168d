"""Green-loan report rows (``GET /api/v1/reports/green``, docs/green.md)."""

from __future__ import annotations

from pydantic import BaseModel


class GreenLoanLineOut(BaseModel):
    label: str
    """``green`` | ``not_green`` | ``excluded_penalty`` | ``unlabelled``."""
    category: str
    """The green catalogue category (``-`` when none)."""
    loans: int
    outstanding_principal_fen: int
