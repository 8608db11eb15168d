"""The packed row format gives back every value as written (nulls, NaN, text, integers)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.adapters.db.features.codec import Codec, InvalidStoredValue
from puhui.risk.enterprise_inputs import Kind

KINDS: list[Kind] = ["float", "int", "str", "float", "str", "int", "float", "float", "int"]

# Stored text comes from UTF-8 sources: lone surrogates (category Cs) cannot occur.
value_of: dict[Kind, st.SearchStrategy[Any]] = {
    "float": st.none() | st.floats(allow_nan=True, allow_infinity=True),
    "int": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "str": st.none()
    | st.text(alphabet=st.characters(blacklist_characters="\x1f", blacklist_categories=("Cs",))),
}


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or (
            left == right and math.copysign(1, left) == math.copysign(1, right)
        )
    return bool(left == right) and type(left) is type(right)


@given(st.tuples(*(value_of[kind] for kind in KINDS)))
def test_what_is_packed_unpacks_to_the_same_values(values: tuple[Any, ...]) -> None:
    codec = Codec(KINDS)
    back = codec.decode(codec.encode(values))
    assert all(same(a, b) for a, b in zip(values, back, strict=True)), (values, back)


def test_a_row_of_eighty_values_packs_into_a_few_hundred_bytes() -> None:
    kinds: list[Kind] = ["float"] * 63 + ["str"] * 7 + ["int"] * 9 + ["float"]
    values = [0.5] * 63 + ["manufacturing"] * 7 + [10**9] * 9 + [None]
    assert len(Codec(kinds).encode(values)) < 800


@pytest.mark.parametrize(
    ("kinds", "values"),
    [
        (["int"], [1.5]),
        (["str"], [3]),
        (["str"], ["a\x1fb"]),
        (["float", "int"], [1.0]),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(kinds: list[Kind], values: list[Any]) -> None:
    with pytest.raises(InvalidStoredValue):
        Codec(kinds).encode(values)
