"""A stand-in for a bank's SMS platform: a real HTTP server on 127.0.0.1 that checks each
request's signature and answers as told (the adapter is tested over the wire, not mocked)."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from puhui.adapters.notify.sms_gateway import sign

SECRET = "the-sms-platform-shared-secret-0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signed: bool
    """Whether the signature matched the body and timestamp under ``SECRET``."""

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Platform:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    """(status, body) for the next requests, in order; then 200 ``{"ok": true}``."""
    delay_seconds: float = 0.0


@contextmanager
def sms_platform() -> Iterator[Platform]:
    state = Platform(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            expected = sign(SECRET.encode(), headers.get("x-puhui-timestamp", ""), body)
            signed = hmac.compare_digest(expected, headers.get("x-puhui-signature", ""))
            state.received.append(Received(headers, body, signed))
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            status, text = state.answers.pop(0) if state.answers else (200, '{"ok": true}')
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads ``received``."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
