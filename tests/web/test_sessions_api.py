"""Signing out and revoking a user's tokens over the API."""

from __future__ import annotations

from api_support import Api

from puhui.services.security.permissions import Role


def test_sign_out_revokes_the_presented_token_only(api: Api) -> None:
    first = api.staff_headers(Role.OPERATIONS, "ops1")
    second = {
        "Authorization": "Bearer "
        + api.client.post(
            "/api/v1/auth/token", data={"username": "ops1", "password": "correct horse battery"}
        ).json()["access_token"]
    }
    assert api.client.get("/api/v1/me", headers=first).status_code == 200

    assert api.client.post("/api/v1/auth/logout", headers=first).status_code == 204
    refused = api.client.get("/api/v1/me", headers=first)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    assert "revoked" in refused.json()["message"]
    assert api.client.get("/api/v1/me", headers=second).status_code == 200
    assert api.client.post("/api/v1/auth/logout").status_code == 401


def test_an_admin_revokes_every_token_of_a_user(api: Api) -> None:
    ops = api.staff_headers(Role.OPERATIONS, "ops1")
    admin = api.staff_headers(Role.ADMIN, "admin1")
    user_id = api.client.get("/api/v1/me", headers=ops).json()["user_id"]

    path = f"/api/v1/users/{user_id}/token-revocation"
    assert api.client.post(path, headers=ops).status_code == 403
    assert (
        api.client.post("/api/v1/users/usr_nobody/token-revocation", headers=admin).status_code
        == 404
    )
    assert api.client.post(path, headers=admin).status_code == 204
    assert api.client.get("/api/v1/me", headers=ops).status_code == 401
    assert api.client.get("/api/v1/me", headers=admin).status_code == 200
