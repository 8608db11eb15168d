"""Origination's use cases, one import away: application, consent, assessment, review, lists.

Each concern lives in its own module (``context``, ``reading``, ``applying``, ``assessing``,
``reviewing``, ``fraud_lists``); callers that use several of them import them from here.
"""

from puhui.services.origination.applying import create_application, give_consent, revoke_consent
from puhui.services.origination.assessing import assess_application, channel_of, decision_record
from puhui.services.origination.context import ApplicationView, NewApplication, Origination
from puhui.services.origination.fraud_lists import add_to_fraud_list
from puhui.services.origination.reading import (
    count_waiting_review,
    get_application,
    get_decision_record,
    list_applications,
)
from puhui.services.origination.reviewing import (
    accept_offer,
    cancel_application,
    retry_line_opening,
    review_application,
)

__all__ = [
    "ApplicationView",
    "NewApplication",
    "Origination",
    "accept_offer",
    "add_to_fraud_list",
    "assess_application",
    "cancel_application",
    "channel_of",
    "count_waiting_review",
    "create_application",
    "decision_record",
    "get_application",
    "get_decision_record",
    "give_consent",
    "list_applications",
    "retry_line_opening",
    "review_application",
    "revoke_consent",
]
