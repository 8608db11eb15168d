"""An enterprise's neighbourhood in a snapshot: caps, depth, evidence, masking and layout."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from neighbourhood_support import (
    AS_OF,
    CENTRE,
    CLEAR_PHONE,
    DISTRESSED,
    GUARANTOR,
    HUB_MEMBERS,
    IP_NODE,
    OWNER_ID,
    PHONE_NODE,
    RING_PARTNERS,
    TRADER,
    snapshot_frames,
    write_test_snapshot,
)

from puhui.graph.layout import radial_layout
from puhui.graph.live import newest_complete
from puhui.graph.loaded import SnapshotCache, load_snapshot
from puhui.graph.neighbourhood import (
    EVIDENCE_TEMPLATES,
    MAX_FANOUT,
    Neighbourhood,
    neighbourhood,
)
from puhui.graph.snapshot import enterprise_node, write_snapshot


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_snapshot(tmp_path_factory.mktemp("graph") / "2026-03")


@pytest.fixture(scope="module")
def hood(folder: Path) -> Neighbourhood:
    found = neighbourhood(load_snapshot(folder), CENTRE)
    assert found is not None
    return found


def _nodes(hood: Neighbourhood) -> dict[str, int]:
    return {n.node: n.depth for n in hood.nodes}


def test_the_enterprise_comes_first_with_its_own_ties_then_theirs(hood: Neighbourhood) -> None:
    depths = _nodes(hood)
    assert hood.nodes[0].node == enterprise_node(CENTRE)
    assert hood.nodes[0].depth == 0
    assert hood.nodes[0].parent is None
    assert depths[PHONE_NODE] == 1
    assert depths[enterprise_node(TRADER)] == 1
    assert depths[enterprise_node(GUARANTOR)] == 1
    # Enterprises sharing its phone and its legal representative are two ties away.
    for partner in RING_PARTNERS:
        assert depths[enterprise_node(partner)] == 2
    assert depths[enterprise_node(DISTRESSED)] == 2
    assert [n.depth for n in hood.nodes] == sorted(n.depth for n in hood.nodes)
    by_id = {n.node: n for n in hood.nodes}
    assert by_id[enterprise_node(RING_PARTNERS[0])].parent == PHONE_NODE
    assert hood.as_of == AS_OF


def test_depth_one_shows_only_the_enterprise_s_own_ties(folder: Path) -> None:
    near = neighbourhood(load_snapshot(folder), CENTRE, depth=1)
    assert near is not None
    assert {n.depth for n in near.nodes} == {0, 1}
    assert enterprise_node(RING_PARTNERS[0]) not in _nodes(near)
    assert all(enterprise_node(CENTRE) in (e.src, e.dst) for e in near.edges)
    with pytest.raises(ValueError, match="1 or 2"):
        neighbourhood(load_snapshot(folder), CENTRE, depth=3)


def test_a_hub_shows_a_few_of_its_members_and_counts_the_rest(hood: Neighbourhood) -> None:
    hanging = [n for n in hood.nodes if n.parent == IP_NODE]
    assert len(hanging) == MAX_FANOUT
    ip = next(n for n in hood.nodes if n.node == IP_NODE)
    assert ip.degree == len(HUB_MEMBERS) + 1
    assert hood.hidden == len(HUB_MEMBERS) - MAX_FANOUT


def test_the_cap_keeps_ring_and_circle_partners_before_the_rest(folder: Path) -> None:
    snapshot = load_snapshot(folder)
    small = neighbourhood(snapshot, CENTRE, max_nodes=6)
    assert small is not None
    assert len(small.nodes) == 6
    kept = _nodes(small)
    # Partners first: the ring's two (and the phone that ties them), the circle's guarantor,
    # the round trip's trader; the hub's members and the distressed neighbour wait.
    assert {enterprise_node(p) for p in RING_PARTNERS} <= set(kept)
    assert enterprise_node(GUARANTOR) in kept
    assert enterprise_node(TRADER) in kept
    assert PHONE_NODE in kept
    assert not any(enterprise_node(m) in kept for m in HUB_MEMBERS)
    # Every drawn node hangs from a drawn node: the picture has no loose ends.
    for node in small.nodes[1:]:
        assert node.parent in kept
    assert small.hidden > 0
    assert all(e.src in kept and e.dst in kept for e in small.edges)


def test_flags_and_amounts_come_from_the_snapshot(hood: Neighbourhood) -> None:
    by_id = {n.node: n for n in hood.nodes}
    assert by_id[enterprise_node(CENTRE)].flags == ("ring", "circle", "round_trip")
    assert by_id[enterprise_node(DISTRESSED)].flags == ("distressed",)
    assert by_id[enterprise_node(GUARANTOR)].flags == ("circle",)
    sales = next(e for e in hood.edges if e.src == enterprise_node(CENTRE) and e.kind == "invoice")
    # Fourteen months were invoiced: the 12-month window adds up twelve of them.
    assert sales.months == 12
    assert sales.amount_fen == 12 * 1_000_000
    guarantee = next(
        e for e in hood.edges if e.src == enterprise_node(GUARANTOR) and e.kind == "guarantee"
    )
    assert guarantee.amount_fen == 40_000_000
    phone = next(e for e in hood.edges if e.dst == PHONE_NODE)
    assert phone.amount_fen is None


def test_the_evidence_names_the_ring_the_circle_the_round_trip_and_the_facts(
    hood: Neighbourhood,
) -> None:
    codes = [e.code for e in hood.evidence]
    assert codes[:4] == ["ring", "ring_finding", "circle", "round_trip"]
    assert {"shared_contacts", "applications_30d", "packaging", "round_trip_ratio"} <= set(codes)
    inflation = next(e for e in hood.evidence if e.code == "inflation")
    assert inflation.text.startswith("Its data look freshly inflated")
    assert "distressed" not in codes  # the enterprise itself is not distressed
    circle = next(e for e in hood.evidence if e.code == "circle")
    assert circle.values["exposure_fen"] == 90_000_000
    assert "900,000.00 yuan" in circle.text
    trip = next(e for e in hood.evidence if e.code == "round_trip")
    assert trip.text.startswith(f"Invoices went round {CENTRE} → {TRADER} → {CENTRE}")
    assert set(EVIDENCE_TEMPLATES) >= set(codes)


def test_identifiers_never_show_in_clear_even_when_the_build_wrote_them_so(
    hood: Neighbourhood,
) -> None:
    shown = repr(hood)
    assert CLEAR_PHONE not in shown
    assert OWNER_ID not in shown
    phone = next(n for n in hood.nodes if n.node == PHONE_NODE)
    assert phone.label == CLEAR_PHONE[:3] + "****" + CLEAR_PHONE[-4:]
    finding = next(e for e in hood.evidence if e.code == "ring_finding")
    assert CLEAR_PHONE[:3] + "****" + CLEAR_PHONE[-4:] in finding.text


def test_an_enterprise_the_graph_does_not_hold_has_no_neighbourhood(folder: Path) -> None:
    assert neighbourhood(load_snapshot(folder), "91110000000000000X") is None


def test_the_layout_is_the_same_every_time_and_keeps_rings_apart(
    folder: Path, hood: Neighbourhood
) -> None:
    again = neighbourhood(load_snapshot(folder), CENTRE)
    assert again == hood
    points = radial_layout(hood)
    assert points == radial_layout(again)
    assert set(points) == {n.node for n in hood.nodes}
    assert (points[hood.centre].x, points[hood.centre].y) == (0.0, 0.0)
    for node in hood.nodes[1:]:
        at = points[node.node]
        assert math.hypot(at.x, at.y) == pytest.approx(node.depth)
    # No two nodes on a ring share a place.
    places = {(round(p.x, 3), round(p.y, 3)) for p in points.values()}
    assert len(places) == len(points)
    # A node of the outer ring sits within its parent's sector (no tie crosses another's).
    for node in hood.nodes:
        if node.depth == 2 and node.parent is not None:
            gap = abs(points[node.node].angle - points[node.parent].angle)
            assert gap < math.pi / 2


def test_the_cache_reads_a_folder_once_and_again_when_it_is_rebuilt(tmp_path: Path) -> None:
    folder = write_test_snapshot(tmp_path / "2026-03")
    cache = SnapshotCache()
    first = cache.get(folder)
    assert cache.get(folder) is first
    frames = snapshot_frames()
    frames["enterprise_facts"] = frames["enterprise_facts"].with_columns(
        distressed=pl.col("uscc") == CENTRE
    )
    report = first.report
    write_snapshot(folder, report, frames)
    # A rebuilt folder has a newer report: bump its time in case the file system is coarse.
    stamp = (folder / "report.json").stat().st_mtime + 5
    os.utime(folder / "report.json", (stamp, stamp))
    rebuilt = cache.get(folder)
    assert rebuilt is not first
    hood = neighbourhood(rebuilt, CENTRE)
    assert hood is not None
    assert "distressed" in hood.nodes[0].flags


def test_the_newest_complete_month_is_the_snapshot_read(tmp_path: Path) -> None:
    assert newest_complete(tmp_path / "missing") is None
    assert newest_complete(tmp_path) is None
    write_test_snapshot(tmp_path / "2026-02")
    write_test_snapshot(tmp_path / "2026-03")
    (tmp_path / "2026-04").mkdir()  # a build in progress: no report yet
    assert newest_complete(tmp_path) == tmp_path / "2026-03"
