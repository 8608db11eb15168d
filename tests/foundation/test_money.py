from decimal import Decimal

import pytest

from puhui.domain.errors import InvalidAmount, InvalidRate
from puhui.domain.money import (
    Rounding,
    fen,
    format_yuan,
    parse_rate,
    parse_yuan,
    require_positive,
    round_fen,
)


@pytest.mark.parametrize(
    ("exact", "half_up", "half_even"),
    [("2.5", 3, 2), ("3.5", 4, 4), ("-2.5", -3, -2), ("2.4999", 2, 2), ("0.5", 1, 0)],
)
def test_round_fen_is_half_up_by_default_and_half_even_on_request(
    exact: str, half_up: int, half_even: int
) -> None:
    assert round_fen(Decimal(exact)) == half_up
    assert round_fen(Decimal(exact), Rounding.HALF_EVEN) == half_even


def test_round_fen_refuses_infinity() -> None:
    with pytest.raises(InvalidAmount):
        round_fen(Decimal("Infinity"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234.56", 123456), ("0.01", 1), ("100000", 10000000), ("1,000.5", 100050)],
)
def test_parse_yuan_is_exact(text: str, expected: int) -> None:
    assert parse_yuan(text) == expected


@pytest.mark.parametrize("bad", ["12.345", "abc", "NaN", "", "1e400000"])
def test_parse_yuan_refuses_what_cannot_be_paid_in_fen(bad: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(bad)


def test_parse_yuan_refuses_floats() -> None:
    with pytest.raises(InvalidAmount, match="decimal strings"):
        parse_yuan(0.1)  # type: ignore[arg-type]


def test_format_yuan_round_trips() -> None:
    for amount in (0, 1, 99, 100, 123456, -1205):
        assert parse_yuan(format_yuan(amount)) == amount
    assert format_yuan(-1205) == "-12.05"


def test_fen_refuses_bool_and_float() -> None:
    with pytest.raises(InvalidAmount):
        fen(True)
    with pytest.raises(InvalidAmount):
        fen(1.0)  # type: ignore[arg-type]


def test_require_positive_names_the_amount() -> None:
    with pytest.raises(InvalidAmount, match="repayment must be positive"):
        require_positive(-5, "repayment")


@pytest.mark.parametrize("bad", ["4.35", "-0.01", "x", "NaN"])
def test_parse_rate_refuses_percentages_and_nonsense(bad: str) -> None:
    with pytest.raises(InvalidRate):
        parse_rate(bad)


def test_parse_rate_keeps_the_exact_decimal() -> None:
    assert parse_rate("0.0435") == Decimal("0.0435")
