"""An application's enterprise in the relationship graph: what the API and the console show.

Both read it the same way: the caller first reads the application (the services' permission
check), then staff who may read decision evidence get the enterprise's neighbourhood. Applicants
and partners never do: telling an applicant that its phone ties it to a ring would teach the
ring what to hide.

The snapshot shown is the one that decided the application when its trace names one (what the
decision saw), else the newest complete one. Snapshots load in the background: a detail asked
for while its snapshot loads comes back at once, its graph said to be loading.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from puhui.graph.live import snapshot_folders
from puhui.graph.loaded import SnapshotCache
from puhui.graph.neighbourhood import Neighbourhood, neighbourhood
from puhui.graph.snapshot import SnapshotError
from puhui.services.origination.use_cases import ApplicationView
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies

logger = logging.getLogger(__name__)

GraphStatus = Literal["shown", "loading", "not_in_graph", "unavailable"]
"""``shown``: the neighbourhood is there; ``loading``: its snapshot is being read, ask again
shortly; ``not_in_graph``: the snapshot does not hold the enterprise; ``unavailable``: no graph
configured, none complete, or an unreadable one."""


@dataclass(frozen=True, slots=True)
class GraphView:
    status: GraphStatus
    neighbourhood: Neighbourhood | None = None


def install_graph_cache(app: FastAPI) -> None:
    """One snapshot cache per process, shared by the API and the console; the newest snapshot
    starts loading now, so the first detail view after a start rarely finds it loading."""
    cache = SnapshotCache()
    app.state.graph_snapshots = cache
    deps: ApiDependencies = app.state.deps
    if deps.graph_folder is None:
        return
    folder = deps.graph_folder()
    if folder is not None:
        try:
            cache.warm(folder)
        except OSError as exc:
            logger.warning("relationship graph at %s unreadable: %s", folder, exc)


def may_see_graph(principal: Principal) -> bool:
    return principal.can(Permission.DECISION_EVIDENCE_READ)


async def application_graph(
    app: FastAPI, principal: Principal, view: ApplicationView, *, depth: int = 2
) -> GraphView | None:
    """The application's enterprise in the graph; None for a caller who may not see it. A
    broken snapshot is logged and shows as unavailable."""
    deps: ApiDependencies = app.state.deps
    if not may_see_graph(principal):
        return None
    if deps.graph_folder is None:
        return GraphView("unavailable")
    newest = deps.graph_folder()
    if newest is None:
        return GraphView("unavailable")
    folder = _deciding_folder(view, newest) or newest
    cache: SnapshotCache = app.state.graph_snapshots
    try:
        # Off the event loop: a neighbourhood of two ties walks thousands of rows.
        return await run_in_threadpool(
            _lookup, cache, folder, newest, view.application.applicant.uscc, depth
        )
    except (SnapshotError, OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("relationship graph at %s unreadable: %s", folder, exc)
        return GraphView("unavailable")


def _deciding_folder(view: ApplicationView, newest: Path) -> Path | None:
    """The complete snapshot the decision's graph check names, when it is still there."""
    assessment = view.application.assessment
    graph = None if assessment is None else assessment.trace.get("graph")
    name = graph.get("snapshot") if isinstance(graph, dict) else None
    if not isinstance(name, str) or name == newest.name:
        return None
    # Only a month folder of the same graph folder: a trace is data, not a path to follow.
    for folder in snapshot_folders(newest.parent):
        if folder.name == name and (folder / "report.json").is_file():
            return folder
    return None


def _lookup(cache: SnapshotCache, folder: Path, newest: Path, uscc: str, depth: int) -> GraphView:
    cache.warm(newest)  # a newer month appeared: have it ready for the next applications
    snapshot = cache.peek(folder)
    if snapshot is None:
        return GraphView("loading")
    hood = neighbourhood(snapshot, uscc, depth=depth)
    return GraphView("not_in_graph" if hood is None else "shown", hood)
