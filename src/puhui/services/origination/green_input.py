"""The strategy inputs from the green pre-screen (绿色金融预筛, docs/green.md): a strategy
version may price a green enterprise lower through ``pricing.adjustments``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from puhui.domain.origination.decision_record import DecisionEvidence

GREEN_LABEL = "green_label"
"""``green`` | ``not_green`` | ``excluded_penalty`` (docs/green.md)."""
GREEN_CATEGORY = "green_category"
"""The green catalogue category of the applicant's industry (e.g. ``clean_energy``)."""
GREEN_INPUTS = (GREEN_LABEL, GREEN_CATEGORY)


class GreenLabels(Protocol):
    """The green screen in force as assessment reads it."""

    def label_of(self, uscc: str, on: date) -> tuple[str, str | None] | None:
        """(label, catalogue category) of the enterprise in the latest screen of a month up
        to ``on``; None when no such screen covers it."""
        ...


def green_inputs(uscc: str, labels: GreenLabels | None, as_of: date) -> dict[str, Any]:
    """``green_label`` and ``green_category`` of the applicant; left out (missing: the strategy
    decides as without them) with no screen configured or none covering the applicant."""
    if labels is None:
        return {}
    found = labels.label_of(uscc, as_of)
    if found is None:
        return {}
    label, category = found
    return {GREEN_LABEL: label, GREEN_CATEGORY: category}


def recorded_green(evidence: DecisionEvidence | None) -> tuple[str | None, str | None]:
    """(label, category) the decision read, to record on the application (and so on the
    loans of its line): both None when the decision read none."""
    inputs = {} if evidence is None else evidence.inputs
    label, category = inputs.get(GREEN_LABEL), inputs.get(GREEN_CATEGORY)
    return (
        label if isinstance(label, str) else None,
        category if isinstance(category, str) else None,
    )
