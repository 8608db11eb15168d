"""Support of the console's page tests: a signed-in browser of its own per staff user."""

from __future__ import annotations

import re

from api_support import PASSWORD, Api
from fastapi.testclient import TestClient

from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    """The CSRF token the page at ``path`` carries in its forms."""
    match = CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def console(api: Api, username: str, password: str = PASSWORD) -> TestClient:
    """A browser of its own (cookies, https) signed in to the console as ``username``."""
    client = TestClient(api.client.app, base_url="https://testserver")
    response = client.post(
        "/console/sign-in",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf(client, "/console/sign-in"),
            "next": "/console/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def staff(api: Api, username: str, role: Role) -> TestClient:
    """A new staff user of ``role``, signed in to the console."""
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
    )
    return console(api, username)
