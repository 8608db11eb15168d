"""Fixtures of the decision engine tests: the shipped strategy, typical applicants."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The helper next to this file is a plain module, not a package.
sys.path.insert(0, str(Path(__file__).parent))

from puhui.decision import CompiledStrategy, load_shipped_strategy
from puhui.decision.strategy import shipped_strategy_text

Applicant = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def strategy() -> CompiledStrategy:
    return load_shipped_strategy("mse-online-credit")


@pytest.fixture(scope="session")
def shipped_text() -> str:
    return shipped_strategy_text("mse-online-credit")


def good_applicant(**overrides: Any) -> dict[str, Any]:
    """An applicant that the shipped strategy approves with a grade-B model result."""
    inputs: dict[str, Any] = {
        "requested_amount_fen": 50_000_000,
        "requested_term_months": 12,
        "verified_monthly_sales_fen": 30_000_000,
        "verified_monthly_tax_fen": 900_000,
        "enterprise_age_months": 40,
        "owner_age_years": 45,
        "tax_grade": "B",
        "sales_growth_12m": 0.1,
        "overdue_count_24m": 0,
        "current_overdue_count": 0,
        "court_cases_open": 0,
        "blacklisted": False,
        "industry_restricted": False,
        "abnormal_operation_listed": False,
        "shared_contact_count": 0,
        "applications_30d": 1,
        "invoice_round_trip_ratio": 0.01,
    }
    inputs.update(overrides)
    return inputs


@pytest.fixture(scope="session")
def applicant() -> Applicant:
    """A factory of applicants the shipped strategy approves (with a grade-B model result)."""
    return good_applicant
