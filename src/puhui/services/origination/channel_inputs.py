"""Strategy inputs that depend on how an application came: a guarantee agency's coverage of
the channel (银担合作, docs/guarantees.md) and the referring partner's own risk score
(助贷, docs/partners.md)."""

from __future__ import annotations

from typing import Any

from puhui.services.origination.ports import AssessmentRequest, GuaranteeCoverage

GUARANTEE_COVERAGE = "guarantee_coverage"
PARTNER_SCORE = "partner_score"


def channel_inputs(
    request: AssessmentRequest, guarantees: GuaranteeCoverage | None
) -> dict[str, Any]:
    """The inputs filled from the application's channel; an input with no source is left out
    (missing: the strategy decides as without it)."""
    inputs: dict[str, Any] = {}
    channel = request.application_channel or request.channel
    if guarantees is not None and channel is not None:
        coverage = guarantees.coverage_for_channel(channel, request.as_of)
        if coverage is not None:
            # A share, not money: the engine compares numbers, and the evidence stores JSON.
            inputs[GUARANTEE_COVERAGE] = float(coverage)
    if request.partner_score is not None:
        inputs[PARTNER_SCORE] = request.partner_score
    return inputs
