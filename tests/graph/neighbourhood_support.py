"""A small graph snapshot written by hand: one enterprise with every kind of tie around it.

The enterprise ``centre`` shares a phone with two enterprises (a ring of three), its legal
representative with a distressed one, invoices round trip with a trading partner, guarantees
one another with another (a circle), and logs in from an IP address shared by sixty
enterprises (a hub that must not flood the picture). One phone's label is written in clear,
as a careless builder might: no reader may show it so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from puhui.graph.snapshot import (
    FORMAT_VERSION,
    TABLES,
    Anomalies,
    BuildReport,
    enterprise_node,
    identifier_key,
    key_id,
    write_snapshot,
)

GRAPH_KEY = b"graph-identifier-key-of-the-tests-0001"
"""The key identifiers are hashed under in these tests (32 bytes or more, like a real one)."""
AS_OF = date(2026, 3, 1)
CENTRE = "91350100M000100Y43"
RING_PARTNERS = ("91330100MA2B000011", "91330100MA2B000022")
DISTRESSED = "91330100MA2B000033"
TRADER = "91330100MA2B000044"
GUARANTOR = "91330100MA2B000055"
HUB_MEMBERS = tuple(f"91330100MA2H{i:06d}" for i in range(60))
CLEAR_PHONE = "13800000001"
OWNER_ID = "11010519491231002X"
RING_SENTENCE = f"3 enterprises share the phone {CLEAR_PHONE} and applied within 10 days."

PHONE_NODE = identifier_key("phone", CLEAR_PHONE, GRAPH_KEY)
PERSON_NODE = identifier_key("person", OWNER_ID, GRAPH_KEY)
IP_NODE = identifier_key("ip", "10.1.2.3", GRAPH_KEY)
ADDRESS_NODE = identifier_key("address", "台州市 椒江区 一号", GRAPH_KEY)


def _month(i: int) -> date:
    index = AS_OF.year * 12 + AS_OF.month - 1 - i
    return date(index // 12, index % 12 + 1, 1)


def _edge(src: str, dst: str, kind: str, month: date, amount: int | None) -> dict[str, Any]:
    return {
        "src": src,
        "dst": dst,
        "kind": kind,
        "month": month,
        "last_month": month,
        "amount_fen": amount,
        "source": "test",
    }


def snapshot_frames(centre: str = CENTRE) -> dict[str, pl.DataFrame]:
    c = enterprise_node(centre)
    enterprises = (centre, *RING_PARTNERS, DISTRESSED, TRADER, GUARANTOR, *HUB_MEMBERS)
    nodes = [
        {"node": enterprise_node(u), "kind": "enterprise", "label": f"企业{u[-4:]}"}
        for u in enterprises
    ]
    nodes += [
        {"node": PHONE_NODE, "kind": "phone", "label": CLEAR_PHONE},  # in clear: a careless build
        {"node": PERSON_NODE, "kind": "person", "label": "110***********002X"},
        {"node": IP_NODE, "kind": "ip", "label": "10.1.2.*"},
        {"node": ADDRESS_NODE, "kind": "address", "label": "台州市椒江区***"},
    ]
    first = _month(12)
    edges = [
        _edge(c, PHONE_NODE, "phone", first, None),
        _edge(c, PERSON_NODE, "legal_rep", first, None),
        _edge(c, ADDRESS_NODE, "address", first, None),
        _edge(c, IP_NODE, "ip", _month(0), None),
        _edge(enterprise_node(DISTRESSED), PERSON_NODE, "legal_rep", first, None),
        _edge(c, enterprise_node(GUARANTOR), "guarantee", first, 50_000_000),
        _edge(enterprise_node(GUARANTOR), c, "guarantee", first, 40_000_000),
    ]
    edges += [_edge(enterprise_node(u), PHONE_NODE, "phone", first, None) for u in RING_PARTNERS]
    edges += [_edge(enterprise_node(u), IP_NODE, "ip", _month(1), None) for u in HUB_MEMBERS]
    # Invoices both ways for 14 months: the two oldest fall outside the 12-month window.
    for i in range(14):
        edges.append(_edge(c, enterprise_node(TRADER), "invoice", _month(i), 1_000_000))
        edges.append(_edge(enterprise_node(TRADER), c, "invoice", _month(i), 990_000))
    facts = [
        {
            "uscc": u,
            "shared_contact_count": 2 if u in (centre, *RING_PARTNERS) else 0,
            "applications_30d": 3 if u == centre else 0,
            "ring_id": "R1" if u in (centre, *RING_PARTNERS) else None,
            "ring_score": 0.8 if u in (centre, *RING_PARTNERS) else None,
            "packaging_score": 0.4 if u == centre else 0.0,
            "inflation_score": 0.8 if u == centre else 0.0,
            "invoice_round_trip_ratio": 0.5 if u in (centre, TRADER) else 0.0,
            "round_trip": u in (centre, TRADER),
            "guarantee_circle": centre if u in (centre, GUARANTOR) else None,
            "circle_exposure_fen": 90_000_000 if u in (centre, GUARANTOR) else None,
            "distressed": u == DISTRESSED,
            "contagion_score": 0.0,
            "guarantors_in_distress": 0,
            "degree": 1,
        }
        for u in enterprises
    ]
    frames = {
        "nodes": pl.DataFrame(nodes).with_columns(first_month=pl.lit(first)),
        "edges": pl.DataFrame(edges),
        "enterprise_facts": pl.DataFrame(facts),
        "rings": pl.DataFrame(
            [
                {
                    "ring_id": "R1",
                    "members": sorted((centre, *RING_PARTNERS)),
                    "score": 0.8,
                    "evidence": [RING_SENTENCE],
                }
            ]
        ),
        "circles": pl.DataFrame(
            [
                {
                    "circle_id": centre,
                    "members": sorted((centre, GUARANTOR)),
                    "exposure_fen": 90_000_000,
                    "cycles": [[centre, GUARANTOR]],
                    "members_distressed": 0,
                }
            ]
        ),
        "round_trips": pl.DataFrame(
            [
                {
                    "cycle_id": "T1",
                    "members": [centre, TRADER],
                    "month": _month(0),
                    "amount_fen": 990_000,
                    "spread": 0.01,
                }
            ]
        ),
    }
    return {
        name: frame.select([pl.col(col).cast(dtype) for col, dtype in TABLES[name].items()])
        for name, frame in frames.items()
    }


def write_test_snapshot(folder: Path, centre: str = CENTRE) -> Path:
    frames = snapshot_frames(centre)
    report = BuildReport(
        format_version=FORMAT_VERSION,
        as_of=AS_OF,
        built_at=datetime(2026, 4, 2, 3, 0, tzinfo=UTC),
        key_id=key_id(GRAPH_KEY),
        counts={name: frame.height for name, frame in frames.items()},
        anomalies=Anomalies(),
        seconds=0.1,
    )
    write_snapshot(folder, report, frames)
    return folder
