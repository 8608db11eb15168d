"""Errors of the partner-lending rules, each named after the rule it guards, with a stable code.

The web layer maps them to 4xx through the classes they derive from (InvalidInput -> 422,
NotFound -> 404, Conflict -> 409). Every rule refuses before anything changes.
"""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, NotFound


class InvalidPartnerShare(InvalidInput):
    """A partner share is not a decimal fraction, or is negative."""

    code = "invalid_partner_share"


class BankShareBelowMinimum(InvalidInput):
    """The partner's funding share would leave the bank under its own minimum (30 %)."""

    code = "bank_share_below_minimum"


class InvalidAgreement(InvalidInput):
    """An agreement's terms are inconsistent (dates, fee terms, limits, kind)."""

    code = "invalid_agreement"


class ConcentrationLimitBreached(Conflict):
    """A draw or an agreement would take a partner over one of its concentration limits."""

    code = "concentration_limit_breached"


class AgreementNotActive(Conflict):
    """The agreement is not active on the date asked (draft, suspended, or outside validity)."""

    code = "agreement_not_active"


class UnknownAgreement(NotFound):
    """No partner agreement has this id."""

    code = "agreement_not_found"


class UnknownPartner(NotFound):
    """No partner institution has this id."""

    code = "partner_not_found"
