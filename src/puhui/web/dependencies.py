"""What routes need: the wired services, the caller's principal, and short aliases for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from puhui.domain.origination.errors import Unauthenticated
from puhui.services.origination.use_cases import Origination
from puhui.services.security.accounts import (
    Security,
    authenticate_api_key,
    authenticate_token,
)
from puhui.services.security.permissions import Principal


@dataclass(frozen=True)
class ApiDependencies:
    """Everything the API calls into; the composition root builds it once per process."""

    origination: Origination
    security: Security
    title: str = "Puhui open API"


def get_deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)

Deps = Annotated[ApiDependencies, Depends(get_deps)]


def get_principal(
    deps: Deps,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    if api_key:
        return authenticate_api_key(deps.security, api_key)
    if token:
        return authenticate_token(deps.security, token)
    raise Unauthenticated("sign in: a bearer token or an X-API-Key header is required")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"
