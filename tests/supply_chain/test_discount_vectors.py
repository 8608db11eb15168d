"""The discount convention against hand-computed vectors (tests/data/supply_chain)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan, parse_yuan
from puhui.domain.supply_chain import discount, penalty_interest

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "supply_chain" / "discount_vectors.json").read_text(
        encoding="utf-8"
    )
)


def _price(case: dict[str, Any]) -> Any:
    return discount(
        parse_yuan(case["face"]),
        financed_on=date.fromisoformat(case["financed_on"]),
        maturity=date.fromisoformat(case["maturity"]),
        annual_rate=Decimal(case["annual_rate"]),
        fee_rate=Decimal(case["fee_rate"]),
    )


def test_the_vectors_say_where_they_come_from() -> None:
    assert "hand computed" in VECTORS["provenance"]
    assert len(VECTORS["vectors"]) >= 5


@pytest.mark.parametrize("case", VECTORS["vectors"], ids=lambda c: c["name"])
def test_discount_matches_the_hand_computed_vector(case: dict[str, Any]) -> None:
    priced = _price(case)
    assert priced.days == case["days"]
    assert format_yuan(priced.interest_fen) == case["interest"]
    assert format_yuan(priced.fee_fen) == case["fee"]
    assert format_yuan(priced.proceeds_fen) == case["proceeds"]
    assert priced.face_fen == parse_yuan(case["face"])
    assert priced.proceeds_fen + priced.interest_fen + priced.fee_fen == priced.face_fen


@pytest.mark.parametrize("case", VECTORS["refusals"], ids=lambda c: c["name"])
def test_discount_refuses_with_the_named_error(case: dict[str, Any]) -> None:
    with pytest.raises(PuhuiError) as refused:
        _price(case)
    assert refused.value.code == case["error"]


def test_the_rate_must_be_a_decimal_not_a_float() -> None:
    with pytest.raises(PuhuiError) as refused:
        discount(
            100_00,
            financed_on=date(2026, 1, 1),
            maturity=date(2026, 2, 1),
            annual_rate=0.04,  # type: ignore[arg-type]
        )
    assert refused.value.code == "invalid_rate"


def test_penalty_interest_is_act_360_half_up_over_the_days_overdue() -> None:
    # 1,234,500 fen x 0.036 x 90 / 360 = 11,110.5 -> 11,111 (half-up)
    assert (
        penalty_interest(
            1_234_500,
            since=date(2026, 3, 1),
            through=date(2026, 5, 30),
            annual_rate=Decimal("0.036"),
        )
        == 11_111
    )
    assert (
        penalty_interest(
            1_234_500,
            since=date(2026, 3, 1),
            through=date(2026, 3, 1),
            annual_rate=Decimal("0.036"),
        )
        == 0
    )
    with pytest.raises(PuhuiError) as refused:
        penalty_interest(
            1_234_500, since=date(2026, 3, 2), through=date(2026, 3, 1), annual_rate=Decimal("0.05")
        )
    assert refused.value.code == "invalid_date"
