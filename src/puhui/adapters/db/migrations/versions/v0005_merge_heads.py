"""Merge the servicing, strategy and origination branches into one head.

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

revision = "0005"
down_revision: tuple[str, ...] = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch disjoint tables."""


def downgrade() -> None:
    """Nothing to change."""
