"""Property-based fuzzing of every operation in the OpenAPI document: never a 5xx.

An equivalent of Schemathesis built on Hypothesis: bodies are drawn from each operation's
request schema (right keys, arbitrary JSON values) and from arbitrary JSON; path and query
parameters are arbitrary text. Every answer is below 500, and every error is
``{code, message, details}``. Successful answers are validated by FastAPI against their
response models before they leave, so they cannot break their own schema silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from api_support import Api, build_servicing_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%"),
    min_size=1,
    max_size=24,
)

HEADER = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


class Quiet(list[Any]):
    """Keeps Hypothesis's failure report short: the OpenAPI document is large."""

    def __repr__(self) -> str:
        return "<operations>"


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, list[Any]]]:
    clock = FixedClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'puhui.db'}"
    api, engine = build_servicing_api(url, clock, tmp_path_factory.mktemp("models"))
    identities: list[dict[str, str]] = [
        {},
        api.staff_headers(Role.ADMIN),
        api.staff_headers(Role.APPROVER),
        api.staff_headers(Role.RISK_OFFICER),
        api.applicant_headers(),
        api.partner_headers(),
    ]
    doc = api.client.get("/api/v1/openapi.json").json()
    operations = [
        (method.upper(), path, spec, doc)
        for path, methods in doc["paths"].items()
        for method, spec in methods.items()
    ]
    yield api, Quiet([identities, operations])
    api.client.close()
    engine.dispose()  # type: ignore[attr-defined]


def _schema_of(spec: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any] | None:
    content = spec.get("requestBody", {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema")
    if schema and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return dict(doc["components"]["schemas"][name])
    return schema


@st.composite
def requests(
    draw: st.DrawFn, operations: list[Any]
) -> tuple[str, str, Any, dict[str, str], dict[str, str]]:
    method, path, spec, doc = draw(st.sampled_from(operations))
    url = path
    for param in spec.get("parameters", []):
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", quote(draw(TEXT), safe=""))
    query = {
        p["name"]: draw(TEXT)
        for p in spec.get("parameters", [])
        if p["in"] == "query" and draw(st.booleans())
    }
    headers = {
        p["name"]: draw(HEADER)
        for p in spec.get("parameters", [])
        if p["in"] == "header" and draw(st.booleans())
    }
    schema = _schema_of(spec, doc)
    body: Any = None
    if schema is not None:
        keys = list(schema.get("properties", {}))
        shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(keys, JSON))
        body = draw(shaped | JSON)
    return method, url, body, query, headers


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_operation_answers_5xx_or_an_unshaped_error(
    fuzz_world: tuple[Api, list[Any]], data: st.DataObject
) -> None:
    api, (identities, operations) = fuzz_world
    method, url, body, query, extra = data.draw(requests(operations))
    headers = {**data.draw(st.sampled_from(identities)), **extra}
    if url.endswith("/auth/token"):
        form = data.draw(st.dictionaries(st.sampled_from(["username", "password"]), TEXT))
        response = api.client.request(method, url, data=form, headers=headers)
    else:
        response = api.client.request(method, url, json=body, params=query, headers=headers)
    assert response.status_code < 500, (method, url, body, response.text)
    if response.status_code >= 400:
        payload = response.json()
        assert set(payload) == {"code", "message", "details"}, payload
        assert isinstance(payload["code"], str)
        assert isinstance(payload["details"], dict)
