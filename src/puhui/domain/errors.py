"""The one error root of the platform, and the errors named after the rules they guard."""

from __future__ import annotations

from typing import Any, ClassVar


class PuhuiError(Exception):
    """Root of every error the platform raises on purpose.

    ``code`` is stable (clients and the web layer map on it); ``message`` is for people;
    ``details`` carries machine-readable context (never personal data).
    """

    code: ClassVar[str] = "puhui_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(PuhuiError):
    """A value offered from outside breaks a rule of its type (amount, date, identifier)."""

    code = "invalid_input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class InvalidRate(InvalidInput):
    code = "invalid_rate"


class InvalidDate(InvalidInput):
    code = "invalid_date"


class InvalidIdentifier(InvalidInput):
    code = "invalid_identifier"


class NotFound(PuhuiError):
    code = "not_found"


class Conflict(PuhuiError):
    """The request contradicts current state (duplicate, stale version, reused key)."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """An idempotency key was reused with a different request."""

    code = "idempotency_conflict"


class ConfigurationError(PuhuiError):
    code = "configuration_error"


class AuditChainBroken(PuhuiError):
    code = "audit_chain_broken"
