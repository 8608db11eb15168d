"""Cell syntax: one meaning per cell, a comma never means OR, and containment for shadowing."""

from __future__ import annotations

import pytest

from puhui.decision.cells import CellError, parse_cell


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("-", None, True),
        ("-", 5, True),
        ("null", None, True),
        ("null", 0, False),
        ("not null", 0, True),
        ("< 5", 4.99, True),
        ("< 5", 5, False),
        ("<= 5", 5, True),
        ("> 5", 5, False),
        (">= 5", 5, True),
        ("[30..50)", 30, True),
        ("[30..50)", 50, False),
        ("(30..50]", 30, False),
        ("(30..50]", 50, True),
        ("in {A, B}", "B", True),
        ("in {A, B}", "C", False),
        ("not in {A, B}", "C", True),
        ("not in {A, B}", None, False),
        ("== 3", 3, True),
        ("!= 3", 4, True),
        ("'A B'", "A B", True),
        ("A", "A", True),
        ("true", True, True),
        ("true", 1, False),
        ("< 5", None, False),
        ("in {1, 2}", 2.0, True),
    ],
)
def test_cell_matches(cell: str, value: object, expected: bool) -> None:
    assert parse_cell(cell).predicate()(value) is expected


def test_a_comma_outside_a_set_is_refused() -> None:
    with pytest.raises(CellError, match="comma is only allowed inside a set"):
        parse_cell(">= 30, < 50")


@pytest.mark.parametrize("cell", ["[50..30)", "[5..5)", "in {}", "< A", "[a..b]", "=> 3", "x y"])
def test_malformed_cells_are_refused(cell: str) -> None:
    with pytest.raises(CellError):
        parse_cell(cell)


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("-", "< 5", True),
        ("< 10", "< 5", True),
        ("< 5", "< 10", False),
        ("[0..10)", "[2..3]", True),
        ("[0..10)", "[2..10]", False),
        ("in {A, B, C}", "in {A, B}", True),
        ("in {A}", "in {A, B}", False),
        ("not in {C}", "in {A, B}", True),
        ("not in {A}", "not in {A, B}", True),
        (">= 0", "in {1, 2}", True),
        ("null", "< 5", False),
        ("not null", ">= 1", True),
    ],
)
def test_containment(outer: str, inner: str, expected: bool) -> None:
    assert parse_cell(outer).contains(parse_cell(inner)) is expected


@pytest.mark.parametrize(
    ("cell", "zen"),
    [
        ("[30..50)", "[30..50)"),
        (">= 5", ">= 5"),
        ("in {A, B}", 'in ["A", "B"]'),
        ("not in {A}", '$ != null and not($ in ["A"])'),
        ("null", "$ == null"),
        ("-", ""),
    ],
)
def test_cells_have_a_zen_equivalent(cell: str, zen: str) -> None:
    assert parse_cell(cell).to_zen() == zen
