"""Refusals of collections, each with a stable code the API and the CLI show."""

from __future__ import annotations

from puhui.domain.monitoring.errors import WriteOffRefused
from puhui.domain.origination.errors import Forbidden


class WriteOffNotLegalBucket(WriteOffRefused):
    """Only a receipt more than 90 days past due may be proposed for write-off."""

    code = "write_off_not_90_dpd"


class WriteOffSamePerson(Forbidden):
    """The proposer may not approve or reject the proposal: a second person decides."""

    code = "write_off_same_person"


class AlreadyWrittenOff(WriteOffRefused):
    """The receipt is written off already (by this proposal or another way)."""

    code = "already_written_off"


class WriteOffAlreadyDecided(WriteOffRefused):
    code = "write_off_already_decided"


class CaseNotOpen(WriteOffRefused):
    """The case is resolved (the receipt is current again, repaid or written off)."""

    code = "collection_case_not_open"
