"""The OpenAPI document says how to authenticate, and exactly where it is needed."""

from __future__ import annotations

from api_support import Api

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
