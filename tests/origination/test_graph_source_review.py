"""Which snapshot serves, after the review of issue #15: only past months, a failed load
retried after a back-off, a health answer that never loads and names no path."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from graph_snapshots import GRAPH_KEY
from test_graph_check import MONTH, TODAY, ringed_graph

from puhui.graph.live import RETRY_SECONDS, GraphSource, newest_complete


def test_a_snapshot_of_the_current_month_does_not_serve(tmp_path: Path) -> None:
    ringed_graph().write(tmp_path)  # March 2026
    assert newest_complete(tmp_path, date(2026, 3, 31)) is None
    assert newest_complete(tmp_path, date(2026, 4, 1)) == tmp_path / "2026-03"


def test_a_failed_load_is_retried_after_a_back_off(tmp_path: Path) -> None:
    now = [0.0]
    folder = ringed_graph().write(tmp_path / "graph")
    good = (folder / "edges.parquet").read_bytes()
    (folder / "edges.parquet").write_bytes(b"half written")
    source = GraphSource(
        tmp_path / "graph",
        key=GRAPH_KEY,
        recheck_seconds=5,
        background=False,
        monotonic=lambda: now[0],
    )
    assert source.current(TODAY).index is None
    (folder / "edges.parquet").write_bytes(good)  # rebuilt in place: report.json unchanged
    now[0] = 10.0  # rechecked, but within the back-off
    assert source.current(TODAY).index is None
    now[0] = RETRY_SECONDS[0] + 1
    live = source.current(TODAY)
    assert live.index is not None
    assert live.health.status == "ok"


def test_a_snapshot_removed_under_the_reader_is_missing_not_an_error(tmp_path: Path) -> None:
    folder = ringed_graph().write(tmp_path / "graph")
    source = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False)
    (folder / "report.json").unlink()
    assert source.current(TODAY).health.status == "missing"
    shutil.rmtree(folder)
    assert source.current(TODAY).health.status == "missing"


def test_health_never_loads_and_names_no_path_nor_exception(tmp_path: Path) -> None:
    folder = ringed_graph().write(tmp_path / "graph")
    source = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False)
    health = source.health(TODAY)
    assert health.status == "missing"  # nothing loaded yet, and health does not load
    assert source.current(TODAY).health.status == "ok"
    assert source.health(TODAY).as_of == MONTH
    (folder / "edges.parquet").write_bytes(b"not parquet")
    broken = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False).current(TODAY).health
    assert broken.why == "snapshot 2026-03 could not be read (see the log)"
    shutil.rmtree(folder)
    empty = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False).current(TODAY).health
    assert str(tmp_path) not in (empty.why or "")


def test_health_says_loading_while_the_first_load_runs(tmp_path: Path) -> None:
    ringed_graph().write(tmp_path / "graph")
    source = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False)
    seen = []
    original = source._load

    def load_and_look(folder: Path, signature: tuple[str, int]) -> None:
        seen.append(source.health(TODAY).status)
        original(folder, signature)

    source._load = load_and_look  # type: ignore[method-assign]
    source.current(TODAY)
    assert seen == ["loading"]
    assert source.health(TODAY).status == "ok"
