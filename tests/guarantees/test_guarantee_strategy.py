"""The shipped strategy reads ``guarantee_coverage``: a loan at least half guaranteed is
referred as a large exposure only from twice the amount; without the input nothing changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from puhui.decision import CompiledStrategy, ModelResult, Outcome, load_shipped_strategy

GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=(), model_versions={"m": "1"})


@pytest.fixture(scope="module")
def strategy() -> CompiledStrategy:
    return load_shipped_strategy("mse-online-credit")


def _applicant(requested_fen: int, **overrides: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "requested_amount_fen": requested_fen,
        "requested_term_months": 12,
        "verified_monthly_sales_fen": 100_000_000,
        "verified_monthly_tax_fen": 10_000_000,
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


def _decide(strategy: CompiledStrategy, inputs: dict[str, Any]) -> tuple[Outcome, int | None]:
    decision = strategy.evaluate(
        inputs, GRADE_B, as_of=dt.date(2026, 3, 2), licence_type="bank", trace=True
    )
    return decision.outcome, decision.limit_fen


@pytest.mark.parametrize(
    ("coverage", "outcome"),
    [(None, Outcome.REFER), (0.3, Outcome.REFER), (0.8, Outcome.APPROVE)],
)
def test_a_large_limit_is_referred_unless_an_agency_covers_half_or_more(
    strategy: CompiledStrategy, coverage: float | None, outcome: Outcome
) -> None:
    inputs = _applicant(150_000_000)
    if coverage is not None:
        inputs["guarantee_coverage"] = coverage
    decided, limit = _decide(strategy, inputs)
    assert limit == 150_000_000
    assert decided is outcome


def test_a_very_large_limit_is_referred_even_when_guaranteed(strategy: CompiledStrategy) -> None:
    decided, limit = _decide(strategy, _applicant(250_000_000, guarantee_coverage=0.8))
    assert limit == 250_000_000
    assert decided is Outcome.REFER
