"""The servicing test vectors (tests/data/schedule-vectors.json) reproduced to the fen."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from puhui.domain.lending.delinquency import (
    FiveCategory,
    classify,
    days_past_due,
    overdue_charges,
    penalty_rate,
)
from puhui.domain.lending.interest import annuity_payment_fen
from puhui.domain.lending.product import Component, RepaymentMethod
from puhui.domain.lending.repayment import Due, allocate
from puhui.domain.lending.schedule import build_schedule
from puhui.domain.money import Rounding, format_yuan, parse_rate, parse_yuan, round_fen

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS_PATH = REPO_ROOT / "tests" / "data" / "schedule-vectors.json"
METHODS = {
    "a_equal_installment_12m": RepaymentMethod.EQUAL_INSTALMENT,
    "b_equal_principal_12m": RepaymentMethod.EQUAL_PRINCIPAL,
    "c_interest_first_12m_monthly_rate": RepaymentMethod.INTEREST_FIRST,
}


def _vectors() -> dict[str, dict[str, Any]]:
    document = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return {vector["id"]: vector for vector in document["vectors"]}


VECTORS = _vectors()


def test_every_schedule_vector_is_covered() -> None:
    with_schedule = {key for key, vector in VECTORS.items() if vector.get("schedule")}
    assert with_schedule == set(METHODS)
    assert "e_overdue_penalty_and_compound_interest" in VECTORS


def _schedule_for(vector: dict[str, Any], rounding: Rounding) -> list[dict[str, str | int]]:
    inputs = vector["inputs"]
    rows = build_schedule(
        parse_yuan(inputs["principal"]),
        parse_rate(inputs["annual_rate"]),
        inputs["periods"],
        METHODS[vector["id"]],
        date.fromisoformat(inputs["disbursement_date"]),
        rounding=rounding,
    )
    return [
        {
            "period": row.period,
            "principal": format_yuan(row.principal_fen),
            "interest": format_yuan(row.interest_fen),
            "payment": format_yuan(row.payment_fen),
            "remaining_balance": format_yuan(row.balance_fen),
            "due_date": row.due_date.isoformat(),
        }
        for row in rows
    ]


@pytest.mark.parametrize("vector_id", sorted(METHODS))
def test_schedule_vector_matches_to_the_fen(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    assert _schedule_for(vector, Rounding.HALF_UP) == vector["schedule"]


@pytest.mark.parametrize("vector_id", sorted(METHODS))
def test_schedule_vector_totals(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    rows = _schedule_for(vector, Rounding.HALF_UP)
    totals = vector["totals"]
    for column, key in (
        ("principal", "principal"),
        ("interest", "interest"),
        ("payment", "payment"),
    ):
        total_fen = sum(parse_yuan(str(row[column])) for row in rows)
        assert format_yuan(total_fen) == totals[key]


@pytest.mark.parametrize("vector_id", ["a_equal_installment_12m", "b_equal_principal_12m"])
def test_vectors_a_and_b_are_identical_under_half_even(vector_id: str) -> None:
    vector = VECTORS[vector_id]
    assert _schedule_for(vector, Rounding.HALF_EVEN) == vector["schedule"]


def test_equal_instalment_payment_is_rounded_once_from_the_exact_annuity() -> None:
    vector = VECTORS["a_equal_installment_12m"]
    exact_fen = annuity_payment_fen(10_000_000, Decimal("0.0435"), 12)
    assert (exact_fen / 100).quantize(Decimal("0.0000000001")) == Decimal(vector["emi_exact"])
    assert format_yuan(round_fen(exact_fen)) == vector["emi_rounded"]


def test_overdue_vector_penalty_compound_and_allocation() -> None:
    vector = VECTORS["e_overdue_penalty_and_compound_interest"]
    result = vector["result"]
    instalment = result["installment"]
    due_on = date.fromisoformat(result["due_date"])
    paid_on = date.fromisoformat(result["paid_date"])
    days = days_past_due(due_on, paid_on)
    assert days == result["days_past_due_at_payment"]
    assert penalty_rate(Decimal("0.0435"), Decimal("0.5")) == Decimal(result["penalty_annual_rate"])

    principal_fen = parse_yuan(instalment["principal"])
    interest_fen = parse_yuan(instalment["interest"])
    charges = overdue_charges(
        principal_fen, interest_fen, Decimal("0.0435"), days, uplift=Decimal("0.5")
    )
    assert format_yuan(charges.penalty_fen) == result["penalty_interest_on_overdue_principal"]
    assert format_yuan(charges.compound_fen) == result["compound_interest_on_overdue_interest"]

    dues = [
        Due(due_on, Component.PRINCIPAL, principal_fen),
        Due(due_on, Component.INTEREST, interest_fen),
        Due(due_on, Component.COMPOUND, charges.compound_fen),
        Due(due_on, Component.PENALTY, charges.penalty_fen),
    ]
    collected = parse_yuan(result["total_collected"])
    allocation = allocate(collected, dues)
    expected = result["allocation_result"]
    assert [line.due.component for line in allocation.lines] == [
        Component.PENALTY,
        Component.COMPOUND,
        Component.INTEREST,
        Component.PRINCIPAL,
    ]
    assert {c.value: format_yuan(v) for c, v in allocation.by_component.items()} == {
        "penalty": expected["penalty_interest"],
        "compound": expected["compound_interest"],
        "interest": expected["interest"],
        "principal": expected["principal"],
    }
    assert allocation.remaining_dues == ()


def test_overdue_vector_ten_days_is_special_mention_unless_within_grace() -> None:
    assert classify(10) is FiveCategory.SPECIAL_MENTION
    assert classify(10, grace_days=7) is FiveCategory.SPECIAL_MENTION
    assert classify(7, grace_days=7) is FiveCategory.PASS
