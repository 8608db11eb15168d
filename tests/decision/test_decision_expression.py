"""The safe expression language: arithmetic, nulls, functions, and what it refuses."""

from __future__ import annotations

import pytest

from puhui.decision.expression import ExpressionError, parse_expression


def run(text: str, **env: object) -> object:
    return parse_expression(text).evaluate(env)  # type: ignore[arg-type]


def test_arithmetic_follows_usual_precedence() -> None:
    assert run("1 + 2 * 3 - 4 / 2") == 5
    assert run("(1 + 2) * 3") == 9
    assert run("-x + 1", x=3) == -2


def test_comparisons_and_logic() -> None:
    assert run("a > 1 and b == 'A'", a=2, b="A") is True
    assert run("not (a > 1) or b != 'A'", a=2, b="A") is False


def test_missing_value_propagates_and_division_by_zero_is_null() -> None:
    assert run("a * 2", a=None) is None
    assert run("a / b", a=1, b=0) is None
    assert run("a > 1", a=None) is False
    assert run("coalesce(a, 7)", a=None) == 7
    assert run("is_null(a)", a=None) is True


def test_functions() -> None:
    assert run("min(3, 1, 2) + max(1, 5)") == 6
    assert run("round(2.5)") == 3  # half-up, not banker's rounding
    assert run("round(1.005, 2)") == 1.01
    assert run("if(x > 0, 1, 2)", x=-1) == 2
    assert run("log(exp(2))") == pytest.approx(2.0)
    assert run("log(0)") is None
    assert run("exp(1000)") is None


def test_names_read_are_listed() -> None:
    assert parse_expression("a / (b * 12) + a").names == ("a", "b")


def test_unknown_name_is_refused_with_its_column() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'salez' at column 5"):
        parse_expression("1 + salez", known_names=frozenset({"sales"}))


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "open('x')",
        "a.b",
        "a[0]",
        "lambda: 1",
        "1 +",
        "(1 + 2",
        "",
        "rand()",
        "2 ** 3",
    ],
)
def test_anything_beyond_the_grammar_does_not_parse(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text, known_names=frozenset({"a"}))


def test_a_string_is_never_a_number() -> None:
    assert run("a + 1", a="3") is None
    assert run("a < 1", a="0") is False
