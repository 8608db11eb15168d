"""Renewal mode (无还本续贷): a strategy's ``renewal:`` section as the loan-change rules.

The loan-change service decides renewals with ``domain.lending.loan_changes.RenewalRules``;
this maps the governed document's section onto them, so that a risk officer changes the
window, the number of renewals, the worst category, the open alerts tolerated and the longest
term by submitting, approving and activating a strategy version, not by a release.
"""

from __future__ import annotations

from puhui.decision.document import StrategyDocument
from puhui.domain.errors import Conflict
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.loan_changes import RenewalRules


class NoRenewalMode(Conflict):
    """The active strategy has no ``renewal:`` section: it renews nothing."""

    code = "no_renewal_mode"


def renewal_rules(document: StrategyDocument, *, label: str) -> RenewalRules:
    """The renewal rules of ``document`` (``label``: ``NAME@VERSION``, the decision's version)."""
    spec = document.renewal
    if spec is None:
        raise NoRenewalMode(
            f"strategy {label} has no renewal mode: add a renewal: section to renew loans",
            details={"strategy": label},
        )
    return RenewalRules(
        window_days=spec.window_days,
        max_renewals=spec.max_renewals,
        worst_category=FiveCategory(spec.worst_category),
        max_open_alerts=spec.max_open_alerts,
        max_term_months=spec.max_term_months,
        version=f"strategy:{label}",
    )
