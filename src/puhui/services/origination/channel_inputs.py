"""Strategy inputs that depend on how an application came: a guarantee agency's coverage of
the channel (银担合作, docs/guarantees.md)."""

from __future__ import annotations

from typing import Any

from puhui.services.origination.ports import AssessmentRequest, GuaranteeCoverage

GUARANTEE_COVERAGE = "guarantee_coverage"


def channel_inputs(
    request: AssessmentRequest, guarantees: GuaranteeCoverage | None
) -> dict[str, Any]:
    """The inputs filled from the application's channel; an input with no source is left out
    (missing: the strategy decides as without it)."""
    inputs: dict[str, Any] = {}
    if guarantees is not None and request.channel is not None:
        coverage = guarantees.coverage_for_channel(request.channel, request.as_of)
        if coverage is not None:
            # A share, not money: the engine compares numbers, and the evidence stores JSON.
            inputs[GUARANTEE_COVERAGE] = float(coverage)
    return inputs
