"""``puhui green``: the green industry catalogue and the green pre-screen of a market.

``--json`` prints the machine contract; without it, lines for a person. Bad input (no market,
a month outside it, an unknown catalogue version) exits 2 before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from puhui.cli.context import fail
from puhui.domain.errors import PuhuiError
from puhui.market.params import parse_month
from puhui.pipelines.green.screen import read_screen_row, screen_market, write_screen
from puhui.risk.green.catalogue import DEFAULT_VERSION, LABELS, load_catalogue

app = typer.Typer(help="Green finance pre-screening (绿色金融预筛).", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")]
Version = Annotated[
    str, typer.Option("--catalogue", help="Green industry catalogue version, e.g. 2019.1.")
]


@app.command("catalogue")
def catalogue_command(version: Version = DEFAULT_VERSION, as_json: AsJson = False) -> None:
    """The catalogue's version, provenance, categories and the divisions mapped to them."""
    try:
        catalogue = load_catalogue(version)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    described = catalogue.describe()
    if as_json:
        typer.echo(json.dumps(described, ensure_ascii=False))
        return
    typer.echo(f"green industry catalogue {catalogue.version}: {catalogue.title}")
    typer.echo(f"  {catalogue.provenance}")
    for key, name in catalogue.categories.items():
        divisions = [d for d, e in sorted(catalogue.entries.items()) if e.category == key]
        typer.echo(f"  {name} ({key}): {', '.join(divisions) or '-'}")


@app.command("screen")
def screen_command(
    market: Annotated[Path, typer.Option("--market", help="Folder of a generated market.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Month screened, YYYY-MM.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write screen.parquet and report.json.")
    ] = None,
    version: Version = DEFAULT_VERSION,
    as_json: AsJson = False,
) -> None:
    """Label every enterprise green, not_green or excluded_penalty as of a month.

    Each label comes with its evidence, and the labels are measured against the market's
    truth.
    """
    try:
        month = parse_month(as_of)
        catalogue = load_catalogue(version)
        if not Path(market).is_dir():
            raise fail(f"market folder {market} does not exist", code="market_not_found")
        screen = screen_market(market, month, catalogue)
        written = [] if out is None else write_screen(screen, out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    report = screen.report()
    if as_json:
        typer.echo(json.dumps({**report, "written": [str(p) for p in written]}, ensure_ascii=False))
        return
    _print_report(report, out)


@app.command("show")
def show_command(
    screen_dir: Annotated[
        Path, typer.Option("--screen", help="Folder `puhui green screen --out` wrote.")
    ],
    uscc: Annotated[str, typer.Option("--uscc", help="Unified social credit code.")],
    as_json: AsJson = False,
) -> None:
    """One enterprise's label, category and evidence from a written screen."""
    try:
        row = read_screen_row(screen_dir, uscc)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    category = "-" if row["category"] is None else f"{row['category_name']} ({row['category']})"
    typer.echo(
        f"{row['uscc']} as of {str(row['as_of'])[:7]}: {row['label']}, category {category}, "
        f"catalogue {row['catalogue_version']}"
    )
    for line in row["evidence"]:
        typer.echo(f"  - {line}")


def _print_report(report: dict[str, Any], out: Path | None) -> None:
    typer.echo(
        f"green screen {report['as_of']} (catalogue {report['catalogue_version']}): "
        f"{report['enterprises']} enterprises, {report['candidates']} in catalogue industries"
        + ("" if out is None else f" -> {out}")
    )
    for label in LABELS:
        typer.echo(f"  {label:<17} {report['labels'][label]:>7}")
    for category, n in report["green_by_category"].items():
        typer.echo(f"    green {category:<28} {n:>6}")
    m = report["measure"]
    if m is not None:
        typer.echo(
            f"against the truth: precision {_pct(m['precision'])}, recall {_pct(m['recall'])} "
            f"({m['labelled_green']} labelled, {m['truly_green']} truly green); "
            f"catalogue alone {_pct(m['precision_catalogue_only'])} / "
            f"{_pct(m['recall_catalogue_only'])}; "
            f"polluters excluded {_pct(m['polluters_excluded'])}"
        )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
