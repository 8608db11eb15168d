"""Request bodies over the limit are refused with 413 before anything parses them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from api_support import Api
from fastapi.testclient import TestClient

from puhui.web.app import create_app
from puhui.web.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit

OVER = b'{"phone": "' + b"1" * (DEFAULT_MAX_BODY_BYTES + 10) + b'"}'


def _assert_refused(response: Any) -> None:
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "request_too_large"
    assert body["details"] == {"max_bytes": DEFAULT_MAX_BODY_BYTES}
    assert set(body) == {"code", "message", "details"}


def test_a_declared_oversized_body_is_refused(api: Api) -> None:
    response = api.client.post(
        "/api/v1/auth/otp", content=OVER, headers={"content-type": "application/json"}
    )
    _assert_refused(response)
    assert api.sender.sent == []


def test_a_streamed_oversized_body_is_refused_as_it_arrives(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(OVER), 64 * 1024):
            yield OVER[start : start + 64 * 1024]

    response = api.client.post(
        "/api/v1/auth/otp", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_refused(response)


def test_bodies_within_the_limit_are_answered_as_before(api: Api) -> None:
    assert api.client.post("/api/v1/auth/otp", json={"phone": "13800138000"}).status_code == 202
    assert api.client.post("/api/v1/auth/otp", json={"phone": 5}).status_code == 422


def test_the_limit_is_configurable(api: Api) -> None:
    small = TestClient(create_app(replace(api.deps, max_body_bytes=64)))
    response = small.post("/api/v1/auth/otp", json={"phone": "1" * 100})
    assert response.status_code == 413
    assert response.json()["details"] == {"max_bytes": 64}


def test_the_middleware_stops_reading_at_the_limit() -> None:
    read: list[int] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            read.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [{"type": "http.request", "body": b"x" * 40, "more_body": True} for _ in range(10)]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(BodyLimit(app, max_bytes=100)({"type": "http", "headers": []}, receive, send))
    assert sum(read) == 80  # the third chunk passed the limit and never reached the app
    assert len(chunks) == 7
    assert sent[0]["status"] == 413
