"""An application's enterprise in the relationship graph: what the API and the console show.

Both read it the same way: the caller first reads the application (the services' permission
check), then staff who may read decision evidence get the enterprise's neighbourhood in the
newest snapshot. Applicants and partners never do: telling an applicant that its phone ties it
to a ring would teach the ring what to hide.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from puhui.graph.loaded import SnapshotCache
from puhui.graph.neighbourhood import Neighbourhood, neighbourhood
from puhui.graph.snapshot import SnapshotError
from puhui.services.origination.use_cases import ApplicationView
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies

logger = logging.getLogger(__name__)


def install_graph_cache(app: FastAPI) -> None:
    """One loaded snapshot per process, shared by the API and the console."""
    app.state.graph_snapshots = SnapshotCache()


def may_see_graph(principal: Principal) -> bool:
    return principal.can(Permission.DECISION_EVIDENCE_READ)


async def application_neighbourhood(
    app: FastAPI, principal: Principal, view: ApplicationView, *, depth: int = 2
) -> Neighbourhood | None:
    """The neighbourhood of the application's enterprise, or None (no graph, not in it, or a
    caller who may not see it). A broken snapshot is logged and shows as no graph."""
    deps: ApiDependencies = app.state.deps
    if deps.graph_folder is None or not may_see_graph(principal):
        return None
    folder = deps.graph_folder()
    if folder is None:
        return None
    cache: SnapshotCache = app.state.graph_snapshots
    uscc = view.application.applicant.uscc
    try:
        # Off the event loop even on SQLite: the first look-up of a snapshot loads it (seconds).
        return await run_in_threadpool(_lookup, cache, folder, uscc, depth)
    except (SnapshotError, OSError) as exc:
        logger.warning("relationship graph at %s unreadable: %s", folder, exc)
        return None


def _lookup(cache: SnapshotCache, folder: Path, uscc: str, depth: int) -> Neighbourhood | None:
    return neighbourhood(cache.get(folder), uscc, depth=depth)
