"""Stored JSON documents (adapters/db/documents.py): the same values as the standard
library's JSON, and a clear refusal of what JSON cannot hold."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.adapters.db.documents import UnstorableValue, document_from_text, document_text

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_documents = st.dictionaries(
    st.text(),
    st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    ),
    max_size=8,
)


@given(_documents)
def test_a_document_reads_back_as_the_standard_library_reads_its_own_text(
    document: dict[str, Any],
) -> None:
    text = document_text(document)
    assert document_from_text(text) == json.loads(json.dumps(document))
    assert json.loads(text) == document_from_text(text)


def test_keys_are_sorted_and_the_text_is_compact_utf8() -> None:
    text = document_text({"b": 1, "a": {"d": [1, 2], "c": "普惠"}})
    assert text == '{"a":{"c":"普惠","d":[1,2]},"b":1}'


def test_numpy_scalars_are_written_as_the_numbers_they_hold() -> None:
    text = document_text({"x": np.float64(0.25), "n": np.int64(7), "f": np.float32(0.5)})
    assert document_from_text(text) == {"x": 0.25, "n": 7, "f": 0.5}


def test_a_non_finite_number_is_written_as_missing() -> None:
    assert document_from_text(document_text({"x": math.nan, "y": math.inf})) == {
        "x": None,
        "y": None,
    }


@pytest.mark.parametrize(
    "value",
    [Decimal("1.5"), date(2026, 1, 2), datetime(2026, 1, 2, 3, 4), b"raw", object()],
)
def test_a_value_json_cannot_hold_is_refused_by_name(value: object) -> None:
    with pytest.raises(UnstorableValue, match=type(value).__name__):
        document_text({"x": value})


def test_a_key_that_is_not_text_is_refused() -> None:
    with pytest.raises(UnstorableValue, match="str"):
        document_text({1: "one"})  # type: ignore[dict-item]


def test_stringify_writes_what_json_cannot_hold_as_its_text() -> None:
    text = document_text(
        {"rate": Decimal("0.0350"), "day": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4)},
        stringify=True,
    )
    assert document_from_text(text) == {
        "rate": "0.0350",
        "day": "2026-01-02",
        "at": "2026-01-02 03:04:00",
    }
