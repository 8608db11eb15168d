"""``puhui graph``: build the relationship graph (关系图谱) of a market and read its findings.

``build`` writes a snapshot folder; ``rings`` and ``circles`` read one. ``--json`` prints the
machine contract (a list of objects); without it, rich tables for a person.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from puhui.cli.context import fail, load_settings
from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan
from puhui.graph.snapshot import BuildReport, SnapshotError, read_report, read_table
from puhui.graph.sources import parse_as_of

app = typer.Typer(help="Relationship graph (关系图谱) of a market.", no_args_is_help=True)

GraphDir = Annotated[Path, typer.Option("--graph", help="Folder of a built graph.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.command("build")
def build_command(
    market: Annotated[Path, typer.Option("--market", help="Folder of a generated market.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Last month of data, YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the graph into.")],
    as_json: AsJson = False,
) -> None:
    """Build the graph from the market's data of months up to --as-of, then print its report.

    Identifiers are hashed under the key derived from PUHUI_INDEX_KEY (else PUHUI_DATA_KEY):
    the servers checking applications against this graph need the same secrets."""
    from puhui.graph.build import build  # noqa: PLC0415 - igraph only when building

    settings = load_settings()
    try:
        key = settings.graph_identifier_key()
        report = build(market, parse_as_of(as_of), out, key=key)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if as_json:
        typer.echo(report.to_json())
        return
    _print_report(report, out)


@app.command("rings")
def rings_command(graph: GraphDir, as_json: AsJson = False) -> None:
    """Rings (团伙): communities of enterprises tied by shared identifiers, highest score first."""
    rings = _table(graph, "rings")
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "ring": r["ring_id"],
                        "members": r["members"],
                        "score": r["score"],
                        "evidence": r["evidence"],
                    }
                    for r in rings.iter_rows(named=True)
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title=f"Rings (团伙): {rings.height}")
    for column in ("ring", "members", "score", "evidence"):
        table.add_column(column, justify="right" if column in {"members", "score"} else "left")
    for r in rings.iter_rows(named=True):
        table.add_row(
            r["ring_id"], str(len(r["members"])), f"{r['score']:.3f}", "\n".join(r["evidence"])
        )
    Console().print(table)


@app.command("circles")
def circles_command(graph: GraphDir, as_json: AsJson = False) -> None:
    """Guarantee circles (互保圈): members guaranteeing each other round, with the exposure."""
    circles = _table(graph, "circles")
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "circle": c["circle_id"],
                        "members": c["members"],
                        "exposure_fen": c["exposure_fen"],
                    }
                    for c in circles.iter_rows(named=True)
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title=f"Guarantee circles (互保圈): {circles.height}")
    for column in ("circle", "members", "exposure", "distressed"):
        table.add_column(column, justify="left" if column == "circle" else "right")
    for c in circles.iter_rows(named=True):
        table.add_row(
            c["circle_id"],
            str(len(c["members"])),
            format_yuan(int(c["exposure_fen"])),
            str(c["members_distressed"]),
        )
    Console().print(table)


def _table(graph: Path, name: str) -> pl.DataFrame:
    try:
        read_report(graph)
        return read_table(graph, name)
    except SnapshotError as exc:
        raise fail(str(exc), code="graph_snapshot") from None


def _print_report(report: BuildReport, out: Path) -> None:
    console = Console()
    counts = Table(title=f"Graph as of {report.as_of:%Y-%m} written to {out}")
    counts.add_column("count")
    counts.add_column("value", justify="right")
    for name, value in sorted(report.counts.items()):
        counts.add_row(name, f"{value:,}")
    counts.add_row("seconds", f"{report.seconds:.1f}")
    console.print(counts)
    anomalies = Table(title="Anomalies (handled, not fatal)")
    anomalies.add_column("anomaly")
    anomalies.add_column("rows", justify="right")
    found: dict[str, Any] = {
        "dangling edges": report.anomalies.dangling_edges,
        "self-loops": report.anomalies.self_loops,
        "duplicates": report.anomalies.duplicate_identifiers,
    }
    for source, n in sorted(report.anomalies.missing_enterprises.items()):
        found[f"missing from {source}"] = n
    for name, value in found.items():
        anomalies.add_row(name, f"{value:,}")
    console.print(anomalies)
