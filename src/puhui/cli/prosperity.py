"""``puhui prosperity``: build the industry and regional prosperity indices (景气指数) of a
market and show one cell's months.

``--json`` prints the machine contract; without it, lines for a person. Bad input (no market,
no month to compare, ``--min-cell`` below one) exits 2 before anything is written.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from puhui.cli.context import fail, load_settings
from puhui.domain.errors import PuhuiError
from puhui.market.params import parse_month
from puhui.pipelines.prosperity.build import (
    build_index,
    cell_series,
    read_index,
    write_index,
)
from puhui.pipelines.prosperity.method import COMPOSITE, DEFAULT_MIN_CELL

app = typer.Typer(
    help="Prosperity indices (景气指数) by industry and region.", no_args_is_help=True
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")]


@app.command("build")
def build_command(  # noqa: PLR0917 - the contract's options
    market: Annotated[Path, typer.Option("--market", help="Folder of a generated market.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write the indices into (default: the platform's, "
            "PUHUI_PROSPERITY_INDEX_DIR or <data_dir>/prosperity, read online).",
        ),
    ] = None,
    min_cell: Annotated[
        int,
        typer.Option("--min-cell", help="Fewest enterprises a shown cell-month holds."),
    ] = DEFAULT_MIN_CELL,
    first: Annotated[
        str | None, typer.Option("--from", help="First month of the indices, YYYY-MM.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last month of the indices, YYYY-MM.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Monthly diffusion indices per industry and region, with a chart, written to --out.

    Also their correlation with the market's hidden factors.
    """
    if out is None:
        out = load_settings().prosperity_folder
    try:
        index = build_index(
            market,
            min_cell=min_cell,
            first_month=_month(first),
            last_month=_month(last),
        )
        written = write_index(index, out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    report = index.report()
    if as_json:
        typer.echo(json.dumps({**report, "written": [str(p) for p in written]}, ensure_ascii=False))
        return
    typer.echo(
        f"prosperity indices {report['first_month'][:7]} to {report['last_month'][:7]} "
        f"(cells under {min_cell} enterprises suppressed) -> {out}"
    )
    for dimension, counts in report["cells"].items():
        typer.echo(
            f"  {dimension:<9} {counts['cells']:>3} cell(s), {counts['shown_cell_months']} "
            f"shown and {counts['suppressed_cell_months']} suppressed cell-months"
        )
    if report["correlations"] is not None:
        typer.echo("correlation with the hidden factors' year-on-year change (r_truth, r_macro):")
        for row in report["correlations"]:
            if row["cell"] == "*":
                typer.echo(
                    f"  {row['dimension']:<9} {row['months']:>4} cell-months  "
                    f"{_r(row['r_truth'])}  {_r(row['r_macro'])}"
                )


@app.command("show")
def show_command(
    index_dir: Annotated[
        Path | None,
        typer.Option("--index", help="Folder of built indices (default: the platform's)."),
    ] = None,
    industry: Annotated[
        str | None, typer.Option("--industry", help="Industry group, e.g. manufacturing.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Region code (GB/T 2260), e.g. 330100.")
    ] = None,
    component: Annotated[
        str, typer.Option("--component", help="composite or one indicator, e.g. sales.")
    ] = COMPOSITE,
    as_json: AsJson = False,
) -> None:
    """One cell's index by month (the overall index without --industry or --region)."""
    if industry is not None and region is not None:
        raise fail("give --industry or --region, not both", code="invalid_input")
    if index_dir is None:
        index_dir = load_settings().prosperity_folder
    try:
        indices, _ = read_index(index_dir)
        series = cell_series(indices, industry=industry, region=region, component=component)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    rows = [_row(r) for r in series.iter_rows(named=True)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    first = series.row(0, named=True)
    typer.echo(f"{first['dimension']} {first['cell']} ({component})")
    for r in rows:
        shown = "suppressed" if r["suppressed"] else f"{r['index']:6.1f}"
        typer.echo(f"  {r['month'][:7]}  {shown:>10}  {r['enterprises']:>6} enterprises")


def _month(text: str | None) -> date | None:
    return None if text is None else parse_month(text)


def _r(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:+.3f}"


def _row(row: dict[str, Any]) -> dict[str, Any]:
    index = row["index"]
    return {
        "dimension": row["dimension"],
        "cell": row["cell"],
        "month": row["month"].isoformat(),
        "component": row["component"],
        "enterprises": row["enterprises"],
        "index": None if index is None else round(index, 2),
        "suppressed": row["suppressed"],
    }


__all__ = ["app"]
