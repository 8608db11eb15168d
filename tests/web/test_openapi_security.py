"""The OpenAPI document says how to authenticate, and exactly where it is needed."""

from __future__ import annotations

from api_support import Api

from puhui.services.security.permissions import Role

PUBLIC = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/otp"),
    ("post", "/api/v1/auth/otp/verify"),
    ("get", "/api/v1/health"),
}


def test_schemes_are_published_and_every_other_operation_requires_one_of_them(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}

    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert operations.keys() >= PUBLIC
    for key, operation in operations.items():
        if key in PUBLIC:
            assert "security" not in operation, key
            continue
        assert operation["security"] == [{"OAuth2PasswordBearer": []}, {"APIKeyHeader": []}], key
        # And the server means it: no credentials, no entry (before any validation).
        method, path = key
        response = api.client.request(method, path.replace("{", "x").replace("}", ""), json={})
        assert response.status_code == 401, (key, response.text)


def test_a_wrong_method_names_every_method_the_path_allows(api: Api) -> None:
    headers = api.staff_headers(Role.ADMIN)
    response = api.client.put("/api/v1/applications", headers=headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["code"] == "method_not_allowed"
    one = api.client.delete("/api/v1/applications/app_x/decision", headers=headers)
    assert one.headers["allow"] == "GET, POST"


def test_an_unreadable_body_is_a_documented_400_with_the_error_shape(api: Api) -> None:
    response = api.client.post(
        "/api/v1/applications",
        content=b"\xff\xfe not json",
        headers={**api.applicant_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_request",
        "message": "the request body could not be read: send UTF-8 JSON",
        "details": {},
    }
    document = api.client.get("/api/v1/openapi.json").json()
    assert "400" in document["paths"]["/api/v1/applications"]["post"]["responses"]
