"""Request-size limit: a body over the limit is refused with 413 before anything parses it.

A pure ASGI middleware, so that it sees the body as it streams: a declared ``Content-Length``
over the limit is refused before a byte is read, and a chunked (or lying) body is counted as
it arrives and refused the moment it passes the limit. Nothing downstream ever holds more
than ``max_bytes`` of it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised inside ``receive`` once the streamed body passes the limit."""


def _too_large_body(max_bytes: int) -> bytes:
    return json.dumps(
        {
            "code": "request_too_large",
            "message": f"the request body is larger than the limit of {max_bytes} bytes",
            "details": {"max_bytes": max_bytes},
        }
    ).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = _too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            # Whatever the app makes of the interrupted read (FastAPI turns it into a 400),
            # the caller hears 413 in the house error body instead.
            nonlocal started
            if message["type"] == "http.response.start":
                if started:
                    return
                started = True
                if exceeded:
                    await self._refuse(send)
                    return
            elif exceeded:
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                return
            started = True
            await self._refuse(send)
