"""The build on a small generated market, and on hand-made markets with odd rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.graph.build import build
from puhui.graph.snapshot import ENTERPRISE_FACTS, BuildReport, identifier_key, read_table
from puhui.graph.sources import GraphInputError, parse_as_of

AS_OF = date(2024, 12, 1)
KEY = b"graph-identifier-key-of-odd-markets"
WriteMarket = Callable[..., Path]


def enterprise(uscc: str, n: int) -> dict[str, object]:
    """A registry row with identifiers of its own (``n`` makes them unique)."""
    return {
        "uscc": uscc,
        "name": f"测试企业{n}有限公司",
        "registration_date": date(2020, 1, 1),
        "phone": f"139{n:08d}",
        "address": f"杭州市测试路{n}号",
        "settlement_account": f"6217{n:015d}",
        "legal_rep_id_number": f"33010219800101{n:04d}",
    }


def _truth(market: Path) -> pl.DataFrame:
    return pl.read_parquet(f"{market}/truth/enterprises_truth/*.parquet")


def test_the_build_finds_the_markets_rings(small_market: Path, small_graph: Path) -> None:
    truth = _truth(small_market)
    registered = pl.read_parquet(f"{small_market}/tables/enterprises/*.parquet").filter(
        pl.col("registration_date") <= date(2024, 12, 31)
    )
    truth = truth.join(registered.select("uscc"), on="uscc")
    in_rings = truth.filter(pl.col("fraud_ring_id").is_not_null())["uscc"]
    reported = read_table(small_graph, "rings").explode("members")["members"]
    assert in_rings.len() >= 6
    assert in_rings.is_in(reported.implode()).mean() >= 0.8  # type: ignore[operator]
    ringish = truth.filter(pl.col("fraud_ring_id").is_not_null() | pl.col("is_shell"))["uscc"]
    assert reported.is_in(ringish.implode()).mean() >= 0.8  # type: ignore[operator]


def test_every_registered_enterprise_has_every_fact(
    small_market: Path, small_graph: Path, small_report: BuildReport
) -> None:
    facts = read_table(small_graph, "enterprise_facts")
    assert list(facts.columns) == list(ENTERPRISE_FACTS)
    assert facts.height == small_report.counts["enterprises"]
    never_null = [c for c in ENTERPRISE_FACTS if c not in {"ring_id", "ring_score"}]
    never_null = [c for c in never_null if c not in {"guarantee_circle", "circle_exposure_fen"}]
    assert facts.select(pl.col(never_null).null_count()).sum_horizontal().item() == 0
    assert facts.filter(pl.col("ring_id").is_not_null())["ring_score"].null_count() == 0
    circles = read_table(small_graph, "circles")
    members = facts.filter(pl.col("guarantee_circle").is_not_null())
    assert members.height == circles["members"].list.len().sum()
    assert facts["distressed"].any()
    assert facts["contagion_score"].max() > 0


def test_no_clear_personal_identifier_reaches_the_snapshot(
    small_market: Path, small_graph: Path, graph_key: bytes
) -> None:
    registry = pl.read_parquet(f"{small_market}/tables/enterprises/*.parquet")
    phone, id_number = registry["phone"][0], registry["legal_rep_id_number"][0]
    nodes = read_table(small_graph, "nodes")
    edges = read_table(small_graph, "edges")
    for frame in (nodes, edges):
        for column in frame.select(pl.all().cast(pl.String)).iter_columns():
            for clear in (phone, id_number):
                assert not column.str.contains(clear, literal=True).any()
    assert identifier_key("phone", phone, graph_key) in nodes["node"].to_list()


def test_only_data_up_to_the_as_of_month_is_used(small_graph: Path) -> None:
    edges = read_table(small_graph, "edges")
    assert edges["month"].max() <= AS_OF  # type: ignore[operator]
    assert read_table(small_graph, "nodes")["first_month"].max() <= AS_OF  # type: ignore[operator]


def test_odd_rows_are_counted_never_fatal(write_market: WriteMarket, tmp_path: Path) -> None:
    a, b, c = "913300000000000001", "913300000000000002", "913300000000000003"
    m = date(2024, 5, 1)
    market = write_market(
        enterprises=[enterprise(a, 1), enterprise(b, 2), enterprise(b, 2), enterprise(c, 3)],
        owners=[{"id_number": "330102198001010001", "phone": "13700000001"}],
        invoices=[
            {"seller_uscc": a, "buyer_uscc": b, "month": m, "amount_fen": 100},
            {"seller_uscc": a, "buyer_uscc": b, "month": m, "amount_fen": 100},
            {"seller_uscc": a, "buyer_uscc": a, "month": m, "amount_fen": 100},
            {"seller_uscc": a, "buyer_uscc": "91330000000000009X", "month": m, "amount_fen": 1},
            {"seller_uscc": b, "buyer_uscc": c, "month": date(2025, 5, 1), "amount_fen": 1},
        ],
        guarantees=[
            {"guarantor_uscc": c, "borrower_uscc": c, "start_month": m, "amount_fen": 5},
        ],
        applications=[
            {
                "application_id": "AP1",
                "uscc": "91330000000000008X",
                "application_date": date(2024, 6, 3),
                "legal_rep_id_number": "330102198001010099",
                "phone": "13700000099",
                "device_id": "DV1",
                "ip_address": "10.0.0.1",
                "channel": "qr",
            }
        ],
    )
    report = build(market, date(2024, 12, 1), tmp_path / "graph", key=KEY)
    assert report.anomalies.dangling_edges == 2  # an invoice buyer and an applicant
    assert report.anomalies.self_loops == 2  # an invoice and a guarantee
    assert report.anomalies.duplicate_identifiers == 2  # a registry row and an invoice
    assert report.anomalies.missing_enterprises == {"owners": 2, "applications": 1}
    assert report.counts["invoice_edges"] == 1  # the 2025 invoice is after the as-of month
    assert read_table(tmp_path / "graph", "enterprise_facts").height == 3


def test_a_missing_table_is_one_sentence(write_market: WriteMarket, tmp_path: Path) -> None:
    market = write_market()
    for part in (market / "tables" / "guarantees").iterdir():
        part.unlink()
    with pytest.raises(GraphInputError, match="has no table 'guarantees'"):
        build(market, date(2024, 12, 1), tmp_path / "graph", key=KEY)
    assert not (tmp_path / "graph").exists()


@pytest.mark.parametrize("text", ["2024-13", "2024/05", "May", ""])
def test_a_bad_as_of_is_refused(text: str) -> None:
    with pytest.raises(GraphInputError, match="YYYY-MM"):
        parse_as_of(text)


def test_the_build_finds_the_markets_round_trips_and_circles(
    small_market: Path, small_graph: Path
) -> None:
    truth = _truth(small_market)
    cycles = truth.filter(pl.col("round_trip_id").is_not_null()).select("uscc", "round_trip_id")
    invoices = pl.read_parquet(f"{small_market}/tables/invoices/*.parquet").filter(
        pl.col("month").is_between(date(2024, 1, 1), AS_OF)
    )
    legs = (
        invoices.join(cycles.rename({"uscc": "seller_uscc"}), on="seller_uscc")
        .join(cycles.rename({"uscc": "buyer_uscc", "round_trip_id": "id2"}), on="buyer_uscc")
        .filter(pl.col("round_trip_id") == pl.col("id2"))
    )
    active = pl.concat([legs["seller_uscc"], legs["buyer_uscc"]]).unique()
    facts = read_table(small_graph, "enterprise_facts")
    flagged = facts.filter(pl.col("round_trip"))["uscc"]
    assert active.len() >= 4
    assert active.is_in(flagged.implode()).all()
    shells = truth.filter(pl.col("is_shell"))["uscc"]
    assert flagged.is_in(pl.concat([cycles["uscc"], shells]).implode()).all()
    ratios = facts.filter(pl.col("round_trip"))["invoice_round_trip_ratio"]
    assert ratios.min() > 0.0  # type: ignore[operator]
    assert ratios.max() <= 1.0  # type: ignore[operator]
    members = truth.filter(pl.col("guarantee_circle_id").is_not_null())
    expected = members.group_by("guarantee_circle_id").agg(pl.col("uscc").sort().alias("m"))
    reported = read_table(small_graph, "circles")["members"].to_list()
    found = sum(m in reported for m in expected["m"].to_list())
    assert expected.height >= 10
    assert found == expected.height
