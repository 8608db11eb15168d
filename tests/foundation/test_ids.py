"""Identifiers: a prefix and a ULID in Crockford base 32, time-ordered."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidInput
from puhui.domain.ids import crockford_128, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decode(digits: str) -> int:
    value = 0
    for char in digits:
        value = value * 32 + CROCKFORD.index(char)
    return value


def test_an_id_is_the_prefix_and_26_crockford_digits_of_now() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id("vch")
    after = time.time_ns() // 1_000_000
    prefix, digits = made.split("_")
    assert prefix == "vch"
    assert len(digits) == 26
    assert set(digits) <= set(CROCKFORD)
    value = decode(digits)
    assert value < 2**128
    assert before <= value >> 80 <= after


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_every_128_bit_value_is_written_most_significant_digit_first(value: int) -> None:
    digits = crockford_128(value)
    assert len(digits) == 26
    assert decode(digits) == value


def test_the_extremes_and_a_value_beyond_128_bits() -> None:
    assert crockford_128(0) == "0" * 26
    assert crockford_128(2**128 - 1) == "7" + "Z" * 25
    assert crockford_128(31) == "0" * 25 + "Z"
    with pytest.raises(ValueError, match="128 bits"):
        crockford_128(2**128)


def test_ids_made_later_sort_later() -> None:
    first = new_id("app")
    time.sleep(0.002)
    assert new_id("app") > first


@pytest.mark.parametrize("prefix", ["", "Vch", "v-ch", "信"])
def test_a_prefix_must_be_lower_case_ascii_letters_or_digits(prefix: str) -> None:
    with pytest.raises(InvalidInput):
        new_id(prefix)
