"""Errors of origination, named after the rule each one guards."""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, PuhuiError


class InvalidTransition(Conflict):
    """The application is not in a state that allows this step."""

    code = "invalid_transition"


class DuplicateApplication(Conflict):
    """The enterprise already has an open application."""

    code = "duplicate_application"


class ApplicationNumberTaken(Conflict):
    """Two applications drew the same human-facing number; the second one draws again."""

    code = "application_number_taken"


class ConsentRequired(Conflict):
    """No active consent covers the data this step needs."""

    code = "consent_required"


class ApplicationChanged(Conflict):
    """The application moved on while a step was working on it; the step may be asked again."""

    code = "application_changed"


class OfferOutOfBounds(InvalidInput):
    """An offer's limit, rate or term lies outside a bound (product, LPR floor, legal cap).

    ``details`` name the field, the value, the bound and its allowed range.
    """

    code = "offer_out_of_bounds"


class LineOpeningFailed(Conflict):
    """The contract is signed but servicing refused to open the line; staff retry or cancel."""

    code = "line_opening_failed"


class OfferExpired(Conflict):
    code = "offer_expired"


class FourEyesViolation(PuhuiError):
    """The account manager who owns the customer may not approve the customer's application."""

    code = "four_eyes_violation"


class Forbidden(PuhuiError):
    """The caller is known but not allowed to do this."""

    code = "forbidden"


class Unauthenticated(PuhuiError):
    """The caller could not be identified (missing, wrong or expired credentials)."""

    code = "unauthenticated"


class RateLimited(PuhuiError):
    code = "rate_limited"
