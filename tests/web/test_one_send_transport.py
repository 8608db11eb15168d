"""One send per response: the writes of a loop turn reach the socket together, large
responses still stream, closing sends what is left (``puhui.web.transport``)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from puhui.web.transport import FLUSH_BYTES, OneSendHttpToolsProtocol, TurnBufferedTransport


class _Recording:
    """A transport that records what reaches it (a unit-test fake)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing or self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    made = asyncio.new_event_loop()
    try:
        yield made
    finally:
        made.close()


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_the_writes_of_one_turn_reach_the_transport_as_one_write(
    loop: asyncio.AbstractEventLoop,
) -> None:
    real = _Recording()
    buffered = TurnBufferedTransport(real, loop)  # type: ignore[arg-type]
    buffered.write(b"HTTP/1.1 200 OK\r\n\r\n")
    buffered.write(memoryview(b'{"ok":true}'))
    buffered.write(b"")
    assert real.writes == []
    assert buffered.get_write_buffer_size() == 30
    _turn(loop)
    assert real.writes == [b'HTTP/1.1 200 OK\r\n\r\n{"ok":true}']
    buffered.writelines([b"a", b"b"])
    _turn(loop)
    assert real.writes[1:] == [b"ab"]
    # Everything else is the wrapped transport's.
    assert buffered.get_extra_info("peername") == ("127.0.0.1", 5)
    assert buffered.wrapped is real


def test_past_the_flush_size_writes_go_out_at_once(loop: asyncio.AbstractEventLoop) -> None:
    real = _Recording()
    buffered = TurnBufferedTransport(real, loop)  # type: ignore[arg-type]
    buffered.write(b"h" * 10)
    buffered.write(b"x" * FLUSH_BYTES)
    assert real.writes == [b"h" * 10 + b"x" * FLUSH_BYTES]
    assert buffered.get_write_buffer_size() == 0
    _turn(loop)  # the turn's flush finds nothing left
    assert len(real.writes) == 1


def test_close_sends_what_is_left_abort_drops_it_and_a_closing_transport_gets_nothing(
    loop: asyncio.AbstractEventLoop,
) -> None:
    real = _Recording()
    buffered = TurnBufferedTransport(real, loop)  # type: ignore[arg-type]
    buffered.write(b"last words")
    buffered.close()
    assert real.writes == [b"last words"]
    assert real.closed

    torn = _Recording()
    buffered = TurnBufferedTransport(torn, loop)  # type: ignore[arg-type]
    buffered.write(b"never")
    buffered.abort()
    _turn(loop)
    assert torn.writes == []
    assert torn.aborted

    gone = _Recording()
    buffered = TurnBufferedTransport(gone, loop)  # type: ignore[arg-type]
    buffered.write(b"too late")
    gone.closing = True
    _turn(loop)
    assert gone.writes == []


# --- a real server ---------------------------------------------------------------------------

SENDS: list[int] = []
"""Writes that reached the socket's transport, one entry per connection."""


class _Counted:
    """The socket's transport, counting the writes that reach it."""

    def __init__(self, transport: asyncio.Transport, index: int) -> None:
        self._transport = transport
        self._index = index

    def write(self, data: bytes) -> None:
        SENDS[self._index] += 1
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _CountingProtocol(OneSendHttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        SENDS.append(0)
        counted: Any = _Counted(transport, len(SENDS) - 1)
        super().connection_made(counted)


CHUNK = 16 * 1024
CHUNKS = 64


async def _json(request: Request) -> Response:
    return JSONResponse({"path": request.url.path, "ok": True})


async def _stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for k in range(CHUNKS):
            yield bytes([65 + k % 26]) * CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@pytest.fixture
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/json", _json), Route("/stream", _stream)])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, http=_CountingProtocol
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


def test_a_small_response_is_one_send_and_a_large_one_streams_whole(server: str) -> None:
    SENDS.clear()
    with httpx.Client(base_url=server) as client:  # one keep-alive connection
        for k in range(5):
            response = client.get(f"/json?k={k}")
            assert response.json() == {"path": "/json", "ok": True}
        assert SENDS == [5]  # status line, headers and body together, once per response
        streamed = client.get("/stream")
        assert streamed.content == b"".join(bytes([65 + k % 26]) * CHUNK for k in range(CHUNKS))
        # At most one send per FLUSH_BYTES of it (plus the turn's remainder): streamed, not
        # held back whole.
        assert 1 < SENDS[0] - 5 <= CHUNKS * CHUNK // FLUSH_BYTES + 2
