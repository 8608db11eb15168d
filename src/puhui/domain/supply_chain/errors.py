"""Errors of the payable-voucher rules, each named after the rule it guards, with a stable code.

The web layer maps them to 4xx through the classes they derive from (InvalidInput -> 422,
NotFound -> 404, Conflict -> 409); :class:`NotHolder` is a Conflict in the domain and a 403
at the edge. Every rule refuses before anything changes: the voucher given stays as it was.
"""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidAmount, InvalidDate, InvalidInput, NotFound


class SplitDoesNotSum(InvalidAmount):
    """The parts of a split do not add up exactly to the voucher split."""

    code = "split_does_not_sum"


class InvalidSplitPart(InvalidAmount):
    """A part of a split is zero or negative, or a split has fewer than two parts."""

    code = "invalid_split_part"


class TransferToSelf(InvalidInput):
    """A voucher is transferred to the enterprise that already holds it."""

    code = "transfer_to_self"


class UnknownEnterprise(NotFound):
    """The enterprise named is not one the platform (or the book) knows."""

    code = "unknown_enterprise"


class UnknownVoucher(NotFound):
    """No voucher has this id."""

    code = "voucher_not_found"


class NotHolder(Conflict):
    """Only the holder of a voucher may accept, split, transfer or finance it (403 at the edge)."""

    code = "not_holder"


class FinancingAfterMaturity(InvalidDate):
    """A voucher is financed on or after its maturity: no day is left to discount."""

    code = "financing_after_maturity"


class MaturityBeforeIssue(InvalidDate):
    """A voucher's maturity is on or before its issue date."""

    code = "maturity_before_issue"


class VoucherNotLive(Conflict):
    """The voucher is split, settled, financed or overdue: it cannot be split, moved or financed."""

    code = "voucher_not_live"


class AlreadyFinanced(Conflict):
    """A voucher is financed a second time."""

    code = "already_financed"


class NotAccepted(Conflict):
    """The voucher is still pending: its holder has not accepted it yet."""

    code = "voucher_not_accepted"


class NotPending(Conflict):
    """Only a pending voucher can be accepted; this one was accepted (or retired) already."""

    code = "voucher_not_pending"


class InvoiceMismatch(InvalidInput):
    """The invoices do not match the payable (buyer, seller or amount)."""

    code = "invoice_mismatch"


class InvoiceAlreadyUsed(Conflict):
    """The invoice already backs another voucher."""

    code = "invoice_already_used"


class FacilityExceeded(Conflict):
    """Issuing the voucher would take the core enterprise's outstanding above its facility."""

    code = "facility_exceeded"


class FacilityFrozen(Conflict):
    code = "facility_frozen"


class FacilityExpired(Conflict):
    code = "facility_expired"


class NotDue(Conflict):
    """The voucher is settled (or marked overdue) before its maturity."""

    code = "voucher_not_due"


class DuplicateVoucherId(Conflict):
    """A voucher id is used twice (a new voucher, or two parts of one split)."""

    code = "duplicate_voucher_id"
