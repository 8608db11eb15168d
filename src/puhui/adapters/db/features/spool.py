"""A month's packed rows spooled to a temporary file before the transaction that loads them.

Computing a month takes far longer than inserting it. Spooling first keeps the loading
transaction short: on SQLite it holds the database's only write lock, and origination's
writers wait for it (up to the busy timeout), so it must not span the computation.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO, Self

_HEADER = struct.Struct("<HI")  # bytes of the code, bytes of the packed values


class RowSpool:
    """Appends (uscc, packed values) records; reads them back in order, in slices."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="puhui-features-")  # noqa: SIM115
        self.rows = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()

    def append(self, uscc: str, packed: bytes) -> None:
        code = uscc.encode("utf-8")
        self._file.write(_HEADER.pack(len(code), len(packed)))
        self._file.write(code)
        self._file.write(packed)
        self.rows += 1

    def slices(self, size: int) -> Iterator[tuple[list[str], list[bytes]]]:
        """The records in the order appended, ``size`` at a time."""
        self._file.flush()
        self._file.seek(0)
        read = self._file.read
        usccs: list[str] = []
        packed: list[bytes] = []
        for _ in range(self.rows):
            code_length, packed_length = _HEADER.unpack(read(_HEADER.size))
            usccs.append(read(code_length).decode("utf-8"))
            packed.append(read(packed_length))
            if len(usccs) == size:
                yield usccs, packed
                usccs, packed = [], []
        if usccs:
            yield usccs, packed
