"""Helpers of the monitoring and operations page tests: a browser-like client per staff user."""

from __future__ import annotations

import re

import httpx
from api_support import PASSWORD
from fastapi.testclient import TestClient

from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.dependencies import ApiDependencies

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Staff:
    """A signed-in console user: its own cookies, the CSRF token of its forms."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        found = CSRF.search(response.text)
        if found is not None:
            self.csrf = found.group(1)
        return response.text

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False)


def sign_in(
    deps: ApiDependencies,
    app: object,
    username: str,
    role: Role,
    *,
    create: bool = True,
    password: str = PASSWORD,
) -> Staff:
    if create:
        accounts.create_user(
            deps.security, actor=SYSTEM, username=username, password=password, role=role
        )
    client = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
    staff = Staff(client)
    staff.get("/console/sign-in")
    response = staff.post("/console/sign-in", {"username": username, "password": password})
    assert response.status_code == 303, response.text
    return staff
