"""``puhui market``: generate the synthetic market and its calibration report."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.cli.progress import chunks_reporter, progress_bar
from puhui.domain.errors import PuhuiError
from puhui.market.generate import DEFAULT_CHUNK_SIZE, generate_market
from puhui.market.params import PROFILES, MarketParams, parse_month

app = typer.Typer(help="Synthetic market of micro and small enterprises.", no_args_is_help=True)


@app.command()
def generate(
    *,
    enterprises: Annotated[int, typer.Option("--enterprises", "-n", help="Enterprise slots.")],
    months: Annotated[int, typer.Option("--months", "-m", help="Months to simulate.")],
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")],
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same market.")],
    out: Annotated[Path, typer.Option(help="Folder to write the market into.")],
    profile: Annotated[str, typer.Option(help=" | ".join(PROFILES))] = "baseline",
    chunk_size: Annotated[
        int, typer.Option(help="Enterprises per chunk (memory and speed only).")
    ] = DEFAULT_CHUNK_SIZE,
    workers: Annotated[int, typer.Option(help="Worker processes (speed only).")] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace a market already in --out.")] = False,
) -> None:
    """Generate the market tables, truth/ and manifest.json into --out."""
    try:
        params = MarketParams(
            enterprises=enterprises,
            months=months,
            start=parse_month(start),
            seed=seed,
            profile=profile,
        )
        with progress_bar() as progress:
            progress.start(
                math.ceil(enterprises / max(1, chunk_size)),
                f"market: {enterprises:,} enterprises x {months} months, by chunk",
            )
            manifest = generate_market(
                params,
                out,
                chunk_size=chunk_size,
                workers=workers,
                overwrite=overwrite,
                progress=chunks_reporter(progress),
            )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"market of {enterprises:,} enterprises x {months} months written to {out} "
        f"in {manifest['run']['seconds']:.1f} s"
    )
    for info in manifest["tables"].values():
        typer.echo(f"  {info['folder']:<28} {info['rows']:>12,} rows")
    typer.echo(f"content hash {manifest['content_hash']}")


@app.command()
def report(
    market_dir: Annotated[Path, typer.Argument(help="Folder of a generated market.")],
    out: Annotated[Path | None, typer.Option(help="Report folder (default: DIR/report).")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if a target is outside.")] = False,
) -> None:
    """Write the calibration report (Markdown + PNG charts) of a generated market."""
    try:
        # matplotlib is slow to import: only this command needs it.
        from puhui.market.report import write_report  # noqa: PLC0415

        result = write_report(market_dir, out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    for t in result.targets:
        mark = "ok " if t.inside else ("OUT" if t.checked else "   ")
        value = "n/a" if t.value is None else f"{t.value:.4f}"
        typer.echo(f"{mark} {t.key:<30} {value:>10}  [{t.low:g}, {t.high:g}]")
    typer.echo(f"report written to {result.markdown_path}")
    if strict and result.outside:
        raise typer.Exit(1)
