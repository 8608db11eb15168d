"""Anti-fraud, second layer: the application against the relationship graph (AF10-AF14).

The snapshot is the batch build's; the applications made since it are read from the
platform's database in the same unit of work as the first layer's counts, so the check sees
the graph as of this moment in every worker alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from puhui.domain.clock import BANK_ZONE
from puhui.domain.origination import fraud
from puhui.domain.origination.application import Application
from puhui.domain.origination.reasons import Reason
from puhui.graph.live import GraphHealth, LiveGraph
from puhui.graph.online import unavailable_inputs
from puhui.services.origination.context import Origination
from puhui.services.origination.ports import OriginationUnitOfWork, TieField

NOT_CONFIGURED = LiveGraph(
    GraphHealth("missing", None, "no relationship graph configured (PUHUI_GRAPH_DIR)"), None
)


@dataclass(frozen=True, slots=True)
class GraphScreening:
    """The graph's hits, its strategy inputs and its trace (evidence, or why it is absent)."""

    hits: tuple[Reason, ...]
    inputs: dict[str, Any]
    trace: dict[str, Any]


def check_graph(
    origination: Origination, uow: OriginationUnitOfWork, application: Application
) -> GraphScreening:
    """Check one application; with no graph fit to serve, every graph input is missing."""
    today = origination.clock.today()
    live = NOT_CONFIGURED if origination.graph is None else origination.graph.current(today)
    if live.index is None:
        return GraphScreening((), unavailable_inputs(), live.unavailable())
    index = live.index
    applicant = application.applicant
    identifiers: dict[TieField, str | None] = {
        "id_number": applicant.id_number,
        "phone": applicant.phone,
        "device_id": applicant.device_id,
        "ip_address": applicant.ip_address,
        "address": applicant.address,
    }
    # Applications after the snapshot's last business day (the bank's zone, as the build
    # dates them) are the ones it does not hold.
    since = datetime.combine(index.data_until + timedelta(days=1), time(), tzinfo=BANK_ZONE)
    recent = uow.applications.identifier_ties(
        identifiers={k: v for k, v in identifiers.items() if v},
        since=since,
        uscc=applicant.uscc,
    )
    check = index.check(
        applicant,
        today,
        recent,
        origination.graph_policy,
    )
    hits = fraud.screen_graph(check.facts, origination.graph_policy)
    return GraphScreening(hits, check.inputs, {**check.evidence, "hits": [h.code for h in hits]})
