"""Vectorised identifiers (USCC, ID numbers, phones) whose check characters follow the domain."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.domain.identity import USCC_ALPHABET, id_check_char, uscc_check_char

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_ID_CHECK_CHARS = "10X98765432"


@cache
def _uscc_weights() -> npt.NDArray[np.int64]:
    """Position weights of GB 32100, read off the domain's check function (one source of truth)."""
    weights = []
    for p in range(17):
        body = "0" * p + "1" + "0" * (16 - p)
        check = USCC_ALPHABET.index(uscc_check_char(body))
        weights.append((31 - check) % 31)
    return np.array(weights, dtype=np.int64)


@cache
def _id_weights() -> npt.NDArray[np.int64]:
    """Position weights (mod 11) of GB 11643, read off the domain's check function."""
    weights = []
    for p in range(17):
        body = "0" * p + "1" + "0" * (16 - p)
        weights.append(_ID_CHECK_CHARS.index(id_check_char(body)))
    return np.array(weights, dtype=np.int64)


def digits(values: I64, width: int) -> U8:
    """Zero-padded decimal digits of non-negative integers as ASCII, shape (n, width)."""
    v = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(v), width), dtype=np.uint8)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = 48 + (v % 10)
        v //= 10
    return out


def ascii_series(matrix: U8, name: str) -> pl.Series:
    width = matrix.shape[1]
    raw = np.frombuffer(np.ascontiguousarray(matrix).tobytes(), dtype=f"S{width}")
    return pl.Series(name, raw).cast(pl.String)


def uscc_codes(
    region_code: I64, is_company: npt.NDArray[np.bool_], org_number: I64, name: str = "uscc"
) -> pl.Series:
    """Unified social credit codes: '9' (market regulator), '1' company / '2' individual
    business, the GB/T 2260 region, a 9-character organisation code (8 digits and its
    GB 11714 check character), then the GB 32100 check character.

    ``org_number`` (0 <= x < 10**8) must be unique per enterprise: it makes the code unique.
    """
    n = len(region_code)
    body = np.empty((n, 17), dtype=np.uint8)
    body[:, 0] = ord("9")
    body[:, 1] = np.where(is_company, ord("1"), ord("2"))
    body[:, 2:8] = digits(region_code, 6)
    org = digits(org_number, 8)
    body[:, 8:16] = org
    # GB 11714 organisation code check: weights 3,7,9,10,5,8,4,2; 11 - sum mod 11; 10 -> X.
    org_sum = ((org.astype(np.int64) - 48) * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1)
    c9 = (11 - org_sum % 11) % 11
    body[:, 16] = np.where(c9 == 10, ord("X"), 48 + c9)
    alphabet = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
    value_of = np.zeros(128, dtype=np.int64)
    value_of[alphabet] = np.arange(len(alphabet))
    total = (value_of[body] * _uscc_weights()).sum(axis=1)
    full = np.empty((n, 18), dtype=np.uint8)
    full[:, :17] = body
    full[:, 17] = alphabet[(31 - total % 31) % 31]
    return ascii_series(full, name)


def id_numbers(
    region_code: I64, birth_ymd: I64, sequence: I64, name: str = "id_number"
) -> pl.Series:
    """Resident ID numbers: region, YYYYMMDD birth date, 3-digit sequence, check character."""
    n = len(region_code)
    body = np.empty((n, 17), dtype=np.uint8)
    body[:, 0:6] = digits(region_code, 6)
    body[:, 6:14] = digits(birth_ymd, 8)
    body[:, 14:17] = digits(sequence, 3)
    total = ((body.astype(np.int64) - 48) * _id_weights()).sum(axis=1)
    checks = np.frombuffer(_ID_CHECK_CHARS.encode(), dtype=np.uint8)
    full = np.empty((n, 18), dtype=np.uint8)
    full[:, :17] = body
    full[:, 17] = checks[total % 11]
    return ascii_series(full, name)


_MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        157,
        158,
        159,
        166,
        176,
        177,
        180,
        181,
        186,
        187,
        188,
        189,
        191,
        199,
    ],
    dtype=np.int64,
)


def mobile_numbers(bits: npt.NDArray[np.uint64], name: str) -> pl.Series:
    """11-digit mainland mobile numbers from random bits."""
    prefix = _MOBILE_PREFIXES[(bits % np.uint64(len(_MOBILE_PREFIXES))).astype(np.int64)]
    rest = ((bits >> np.uint64(8)) % np.uint64(100_000_000)).astype(np.int64)
    return pl.Series(name, prefix * 100_000_000 + rest).cast(pl.String)


def hex_ids(prefix: str, bits: npt.NDArray[np.uint64], name: str, width: int = 14) -> pl.Series:
    """Opaque identifiers: ``prefix`` + ``width`` upper-case hex digits of random bits."""
    n = len(bits)
    pre = prefix.encode()
    out = np.empty((n, len(pre) + width), dtype=np.uint8)
    out[:, : len(pre)] = np.frombuffer(pre, dtype=np.uint8)
    hexchars = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
    v = np.asarray(bits, dtype=np.uint64)
    for pos in range(width):
        shift = np.uint64(60 - 4 * pos)
        out[:, len(pre) + pos] = hexchars[((v >> shift) & np.uint64(15)).astype(np.int64)]
    return ascii_series(out, name)
