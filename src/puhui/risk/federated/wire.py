"""The JSON wire form of protocol values: points in base64, big integers in signed hex."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Any

from puhui.risk.federated.errors import InvalidFederatedData


def points_out(points: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(p).decode("ascii") for p in points]


def points_in(values: Sequence[Any]) -> list[bytes]:
    try:
        return [base64.b64decode(str(v), validate=True) for v in values]
    except (binascii.Error, ValueError):
        raise InvalidFederatedData("a PSI point is not base64") from None


def ints_out(values: Iterable[int]) -> list[str]:
    return [format(v, "x") for v in values]


def ints_in(values: Sequence[Any]) -> list[int]:
    try:
        return [int(str(v), 16) for v in values]
    except ValueError:
        raise InvalidFederatedData("a protocol integer is not hexadecimal") from None


def int_in(value: Any) -> int:
    return ints_in([value])[0]
