"""One send per response: uvicorn's HTTP/1.1 protocol with its writes of a loop turn joined.

uvicorn writes a response's status line and headers to the socket as soon as the app starts
the response, and the body in a second write a moment later: two ``send`` system calls and
two TCP segments for every small JSON response. On the application path a py-spy sample of a
worker found the header write alone holding the GIL for a tenth of the worker's time (on
loopback the sender's ``send`` also runs the receiver's TCP work). Here the writes made
during one turn of the event loop are joined and sent once, at the end of the turn; past
``FLUSH_BYTES`` they are sent at once, so a streamed download never piles up in memory and
uvicorn's flow control (the real transport's pause and resume) still holds it back.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_BYTES = 64 * 1024
"""Writes of a turn are held back until they reach this size (uvicorn's high-water mark)."""


class TurnBufferedTransport:
    """Wraps a transport: ``write`` collects, one ``write`` to the real transport per turn.

    Everything else goes straight to the wrapped transport; ``close`` and ``write_eof`` send
    what was collected first, ``abort`` drops it (the connection is being torn down).
    """

    __slots__ = ("_loop", "_pending", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    @property
    def wrapped(self) -> asyncio.Transport:
        return self._transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what was collected (nothing if the connection is closing already)."""
        if not self._pending:
            return
        pending = self._pending
        self._pending = []
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = []
        self._size = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # is_closing, get_extra_info, pause_reading, resume_reading, set_protocol, ...
        return getattr(self._transport, name)


class OneSendHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`TurnBufferedTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        buffered: Any = TurnBufferedTransport(transport, self.loop)
        super().connection_made(buffered)
