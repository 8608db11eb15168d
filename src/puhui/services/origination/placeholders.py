"""Stand-ins for ports not wired yet: refer everything, pull nothing, open no line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from puhui.domain.errors import ConfigurationError
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.services.origination.ports import AssessmentRequest, LineOpening


class ReferEveryApplication:
    """Without a decision engine no application is approved automatically: a human decides."""

    def assess(self, request: AssessmentRequest) -> Assessment:
        return Assessment(
            outcome=Outcome.REFER,
            reasons=("RF00_NO_DECISION_ENGINE",),
            trace={"strategy": "none: decision engine not wired"},
        )


class NoDataSource:
    """Returns nothing for every scope (the rules that need data then cannot fire)."""

    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        return {}


class ServicingNotWired:
    def open_line(self, opening: LineOpening) -> str:
        raise ConfigurationError("servicing is not wired: no credit line can be opened yet")
