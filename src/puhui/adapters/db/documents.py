"""JSON documents stored in a text column: encoded with orjson (ADR 0049).

Every decision stores its replayable record (about 6 kB: inputs, trace, reasons) and the
application's assessment (about 2 kB). The standard library's encoder spent about 150 µs of
the worker on the two, a few percent of an application; orjson writes the same documents in
about 15 µs. What is written is the same JSON value, not the same text: keys sorted, no
spaces, UTF-8 kept, and a float in its shortest form (``0.00001`` where ``json`` wrote
``1e-05``). Readers parse the text, so documents written before read the same.

Digests are not made here: the audit chain hashes ``canonical_json`` (standard library), whose
exact text the stored hashes depend on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

# Dates and times go through ``default`` too: refused in a document that should not hold
# them, written as ``str`` gives them in one that stringifies (as ``json`` did).
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class UnstorableValue(TypeError):
    """A document holds a value JSON cannot carry (an object, bytes, a Decimal)."""


def _plain(value: Any) -> Any:
    # A NumPy scalar that reached a document (a feature value read from an array) is
    # written as the Python number it holds, as ``json`` did for ``float64``.
    if isinstance(value, np.generic):
        return value.item()
    raise UnstorableValue(f"cannot store a {type(value).__name__} in a JSON document")


def _plain_or_text(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else str(value)


def document_text(document: Mapping[str, Any], *, stringify: bool = False) -> str:
    """The document as JSON text: sorted keys, compact, UTF-8 kept.

    A value JSON has no form for is refused, or with ``stringify`` written as its ``str``
    (a Decimal, a date).

    A NaN or an infinity is written as null, which reads back as a missing value: what a
    non-finite feature means to the models. (No walk over the document refuses them: it cost
    more than the standard library's encoder.)
    """
    default = _plain_or_text if stringify else _plain
    try:
        return orjson.dumps(document, default=default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError as exc:
        raise UnstorableValue(str(exc)) from exc


def document_from_text(text: str) -> Any:
    """A document read back: the JSON value of ``text``."""
    return orjson.loads(text)
