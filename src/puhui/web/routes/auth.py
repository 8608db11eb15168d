"""Authentication: staff password login, applicant one-time codes, users and partner keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from puhui.domain.origination.errors import Unauthenticated
from puhui.services.security import accounts
from puhui.services.security.tokens import AccessToken
from puhui.web.dependencies import CurrentPrincipal, Deps, bearer_token, client_address
from puhui.web.schemas import (
    ApiKeyCreate,
    ApiKeyOut,
    ErrorBody,
    MeOut,
    OtpRequest,
    OtpVerify,
    TokenOut,
    UserCreate,
    UserOut,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: {"model": ErrorBody},
}
UserId = Annotated[str, Path(min_length=1, max_length=64)]
router = APIRouter(prefix="/api/v1", tags=["auth"], responses=ERRORS)  # type: ignore[arg-type]


def _token(token: AccessToken) -> TokenOut:
    return TokenOut(
        access_token=token.access_token,
        token_type=token.token_type,
        expires_in=token.expires_in_seconds,
    )


@router.post("/auth/token", response_model=TokenOut)
def login(
    deps: Deps, request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow for staff and partner users: a short-lived bearer token."""
    token = accounts.login(
        deps.security,
        username=form.username,
        password=form.password,
        client=client_address(request),
    )
    return _token(token)


@router.post("/auth/otp", status_code=status.HTTP_202_ACCEPTED)
def request_code(deps: Deps, request: Request, body: OtpRequest) -> dict[str, str]:
    """Send a one-time code to the applicant's phone."""
    accounts.request_code(deps.security, phone=body.phone, client=client_address(request))
    return {"status": "sent"}


@router.post("/auth/otp/verify", response_model=TokenOut)
def verify_code(deps: Deps, body: OtpVerify) -> TokenOut:
    """Exchange the one-time code for an applicant token."""
    return _token(accounts.verify_code(deps.security, phone=body.phone, code=body.code))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(deps: Deps, principal: CurrentPrincipal, request: Request) -> None:
    """Revoke the bearer token of this request (sign out); the caller's other tokens stay."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("sign out needs the bearer token to revoke")
    accounts.logout(deps.security, token)


@router.post("/users/{user_id}/token-revocation", status_code=status.HTTP_204_NO_CONTENT)
def revoke_user_tokens(deps: Deps, principal: CurrentPrincipal, user_id: UserId) -> None:
    """Void every token the user holds now (admin): a lost phone, a leaver, a breach."""
    accounts.revoke_user_tokens(deps.security, actor=principal, user_id=user_id)


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        user_id=principal.user_id,
        role=principal.role.value,
        partner_id=principal.partner_id,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(deps: Deps, principal: CurrentPrincipal, body: UserCreate) -> UserOut:
    user = accounts.create_user(
        deps.security,
        actor=principal,
        username=body.username,
        password=body.password,
        role=body.role,
        partner_id=body.partner_id,
    )
    return UserOut(
        user_id=user.user_id,
        username=user.username,
        role=user.role.value,
        partner_id=user.partner_id,
    )


@router.post("/api-keys", response_model=ApiKeyOut, status_code=status.HTTP_201_CREATED)
def issue_api_key(deps: Deps, principal: CurrentPrincipal, body: ApiKeyCreate) -> ApiKeyOut:
    issued = accounts.issue_api_key(
        deps.security, actor=principal, partner_id=body.partner_id, scopes=body.scopes
    )
    return ApiKeyOut(
        key_id=issued.key_id,
        partner_id=issued.partner_id,
        scopes=sorted(p.value for p in issued.scopes),
        api_key=issued.api_key,
    )
