"""Security use cases, one import away: staff users, sign-in, applicant codes, API keys.

The use cases live by concern (``context``, ``sign_in``, ``users``, ``api_keys``,
``audit_search``); callers import them from here.
"""

from __future__ import annotations

from puhui.services.security.api_keys import (
    API_KEY_PREFIX,
    IssuedApiKey,
    authenticate_api_key,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
    rotate_api_key,
)
from puhui.services.security.audit_search import search_audit_events
from puhui.services.security.context import Security, SecurityConfig, principal_from
from puhui.services.security.sign_in import (
    authenticate_token,
    ensure_applicant,
    login,
    logout,
    request_code,
    verify_code,
)
from puhui.services.security.users import (
    MAX_DECIDED_GRANTS,
    MAX_GRANT_REASON,
    ApprovedGrant,
    GrantReasonInvalid,
    approve_role_grant,
    bootstrap_admin,
    create_user,
    decided_role_grants,
    get_user,
    list_users,
    pending_role_grants,
    principal_of,
    reject_role_grant,
    request_role_grant,
    revoke_user_tokens,
    set_user_disabled,
    user_by_username,
)

__all__ = [
    "API_KEY_PREFIX",
    "MAX_DECIDED_GRANTS",
    "MAX_GRANT_REASON",
    "ApprovedGrant",
    "GrantReasonInvalid",
    "IssuedApiKey",
    "Security",
    "SecurityConfig",
    "approve_role_grant",
    "authenticate_api_key",
    "authenticate_token",
    "bootstrap_admin",
    "create_user",
    "decided_role_grants",
    "ensure_applicant",
    "get_user",
    "issue_api_key",
    "list_api_keys",
    "list_users",
    "login",
    "logout",
    "pending_role_grants",
    "principal_from",
    "principal_of",
    "reject_role_grant",
    "request_code",
    "request_role_grant",
    "revoke_api_key",
    "revoke_user_tokens",
    "rotate_api_key",
    "search_audit_events",
    "set_user_disabled",
    "user_by_username",
    "verify_code",
]
