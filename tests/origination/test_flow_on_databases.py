"""The application flow at the service level on SQLite and PostgreSQL (integration)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flow_scenarios import SCENARIOS
from origination_wiring import Wired


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_application_flow(scenario: Callable[[Wired], None], db: Wired) -> None:
    scenario(db)
