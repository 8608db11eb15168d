"""Errors of the guarantee rules, each named after the rule it guards, with a stable code.

The web layer maps them through their bases (InvalidInput -> 422, NotFound -> 404,
Conflict -> 409). Every rule refuses before anything changes.
"""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, NotFound


class InvalidAgreement(InvalidInput):
    """An agreement's terms break a rule (share, rate, caps, trigger or validity)."""

    code = "invalid_agreement"


class AgencyNotFound(NotFound):
    code = "agency_not_found"


class AgreementNotFound(NotFound):
    code = "agreement_not_found"


class LoanNotFound(NotFound):
    code = "loan_not_found"


class CoverNotFound(NotFound):
    """The loan is not covered by any guarantee agreement."""

    code = "cover_not_found"


class ClaimNotFound(NotFound):
    code = "claim_not_found"


class AgreementNotValid(Conflict):
    """The agreement is not in force on the date (before it starts, after it ends)."""

    code = "agreement_not_valid"


class AlreadyCovered(Conflict):
    """The loan is already covered by a guarantee agreement."""

    code = "already_covered"


class BorrowerCapExceeded(Conflict):
    """Covering the loan would take the borrower's covered exposure above the agreement's cap."""

    code = "borrower_cap_exceeded"


class PortfolioCapExceeded(Conflict):
    """Covering the loan would take the agreement's covered exposure above its portfolio cap."""

    code = "portfolio_cap_exceeded"


class ClaimNotTriggered(Conflict):
    """The loan has not reached the agreement's claim trigger (days past due)."""

    code = "claim_not_triggered"


class ClaimExists(Conflict):
    """A claim was raised for this loan already: one claim per covered loan."""

    code = "claim_exists"


class ClaimNotPayable(Conflict):
    """Only a raised claim can be paid; this one is paid already."""

    code = "claim_not_payable"


class ClaimNotPaid(Conflict):
    """Recoveries are shared only after the agency paid the claim."""

    code = "claim_not_paid"


class FeeModeMismatch(Conflict):
    """A periodic fee on an at-draw agreement, or the reverse."""

    code = "fee_mode_mismatch"


class FeeAlreadyCollected(Conflict):
    code = "fee_already_collected"
