"""``puhui graph``: the JSON contracts of rings and circles, the build report, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from puhui.bootstrap.settings import Settings
from puhui.cli.main import app
from puhui.graph.snapshot import key_id, read_table

runner = CliRunner()


def test_rings_json_is_the_contract(small_graph: Path) -> None:
    result = runner.invoke(app, ["graph", "rings", "--graph", str(small_graph), "--json"])
    assert result.exit_code == 0, result.output
    rings = json.loads(result.stdout)
    assert rings
    assert len(rings) == read_table(small_graph, "rings").height
    for ring in rings:
        assert set(ring) == {"ring", "members", "score", "evidence"}
        assert isinstance(ring["ring"], str)
        assert isinstance(ring["score"], float)
        assert len(ring["members"]) >= 3
        assert all(len(m) == 18 for m in ring["members"])
        assert ring["evidence"]
        assert all(isinstance(e, str) for e in ring["evidence"])
    assert [r["score"] for r in rings] == sorted((r["score"] for r in rings), reverse=True)


def test_circles_json_is_the_contract(small_graph: Path) -> None:
    result = runner.invoke(app, ["graph", "circles", "--graph", str(small_graph), "--json"])
    assert result.exit_code == 0, result.output
    circles = json.loads(result.stdout)
    assert circles
    for circle in circles:
        assert set(circle) == {"circle", "members", "exposure_fen"}
        assert circle["circle"] == min(circle["members"])
        assert isinstance(circle["exposure_fen"], int)
        assert circle["exposure_fen"] > 0


def test_circle_exposure_is_the_exact_sum_of_guarantees_between_members(
    small_market: Path, small_graph: Path
) -> None:
    guarantees = pl.read_parquet(f"{small_market}/tables/guarantees/*.parquet").filter(
        pl.col("start_month") <= pl.date(2024, 12, 1)
    )
    for circle in read_table(small_graph, "circles").iter_rows(named=True):
        members = pl.Series(circle["members"]).implode()
        inside = guarantees.filter(
            pl.col("guarantor_uscc").is_in(members) & pl.col("borrower_uscc").is_in(members)
        )
        assert circle["exposure_fen"] == inside["amount_fen"].sum()


def test_tables_without_json_are_for_people(small_graph: Path) -> None:
    rings = runner.invoke(app, ["graph", "rings", "--graph", str(small_graph)])
    circles = runner.invoke(app, ["graph", "circles", "--graph", str(small_graph)])
    assert rings.exit_code == 0
    assert "Rings" in rings.stdout
    assert "share the" in rings.stdout
    assert circles.exit_code == 0
    assert "Guarantee circles" in circles.stdout


def test_build_prints_its_report_as_json(small_market: Path, tmp_path: Path) -> None:
    out = tmp_path / "g"
    args = ["graph", "build", "--market", str(small_market), "--as-of", "2024-06", "--out"]
    result = runner.invoke(app, [*args, str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["as_of"] == "2024-06-01"
    assert report["counts"]["enterprises"] > 0
    assert set(report["anomalies"]) == {
        "dangling_edges",
        "self_loops",
        "duplicate_identifiers",
        "missing_enterprises",
    }
    assert (out / "report.json").is_file()
    assert "salt" not in report  # the key that hashed the identifiers is named, never given
    assert report["key_id"] == key_id(Settings().graph_identifier_key())


def test_errors_are_one_sentence(tmp_path: Path) -> None:
    bad_month = runner.invoke(
        app,
        ["graph", "build", "--market", str(tmp_path), "--as-of", "2024-13", "--out", "x"],
    )
    assert bad_month.exit_code == 2
    assert bad_month.output.strip().splitlines() == [
        "error [graph_input]: --as-of must be a month written YYYY-MM, not '2024-13'"
    ]
    no_graph = runner.invoke(app, ["graph", "rings", "--graph", str(tmp_path), "--json"])
    assert no_graph.exit_code == 2
    assert "holds no complete graph" in no_graph.output
