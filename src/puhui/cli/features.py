"""``puhui features``: build a month of the feature store from a market, show a stored row."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from puhui.bootstrap import Platform
from puhui.cli.context import fail, platform
from puhui.cli.engine_options import EngineOption, MasterOption, chosen_engine
from puhui.cli.progress import progress_bar
from puhui.domain.errors import PuhuiError
from puhui.market.params import parse_month
from puhui.pipelines.engines import DEFAULT_CHUNK_SIZE
from puhui.pipelines.feature_store import build_market_month
from puhui.risk.enterprise_inputs import feature_set_version
from puhui.services.features import FeatureStore, StoredFeatures

app = typer.Typer(
    help="Feature store: enterprise features computed in batch, read by key when deciding.",
    no_args_is_help=True,
)

FEATURE_STORE_REVISION = "0010"
EXIT_NOT_FOUND = 1


@app.callback()
def _group() -> None:
    """Feature store: enterprise features computed in batch, read by key when deciding."""


def _require_feature_store(p: Platform) -> None:
    if FEATURE_STORE_REVISION in p.database.status().pending:
        raise fail(
            "the database has no feature store yet: run `puhui db upgrade` first",
            code="schema_out_of_date",
        )


def _month(text: str) -> Any:
    try:
        return parse_month(text)
    except PuhuiError as exc:
        raise fail(exc.message.replace("a month", "--as-of"), code=exc.code) from None


@app.command()
def build(
    market: Annotated[Path, typer.Option("--market", help="Folder of a generated market.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The month to build, YYYY-MM.")],
    chunk_size: Annotated[
        int, typer.Option(help="Enterprises per chunk of the local engine (memory and speed only).")
    ] = DEFAULT_CHUNK_SIZE,
    engine: EngineOption = "local",
    master: MasterOption = None,
) -> None:
    """Compute one month for every enterprise of the market and replace it in the store."""
    month = _month(as_of)
    runner = chosen_engine(engine, master, chunk_size)
    if not (market / "tables").is_dir():
        raise fail(
            f"no market tables in {market}: give the folder `puhui market generate` wrote",
            code="market_not_found",
        )
    with platform() as p:
        _require_feature_store(p)
        store = p.feature_store()
        try:
            with progress_bar() as progress:
                report = build_market_month(
                    market,
                    month,
                    store,
                    engine=runner,
                    computed_at=p.clock.now(),
                    progress=progress,
                )
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
        except pl.exceptions.PolarsError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise fail(f"could not read the market in {market}: {first_line}") from None
    typer.echo(
        f"feature store {month:%Y-%m}: {report.rows:,} rows in {report.seconds:.1f} s "
        f"(feature set {report.feature_set_version}, source data to {report.source_month:%Y-%m})"
    )


def _plain(value: Any) -> Any:
    # Strict JSON has no NaN or infinity: they are written as text.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _as_dict(stored: StoredFeatures) -> dict[str, Any]:
    return {
        "uscc": stored.uscc,
        "as_of": f"{stored.month:%Y-%m}",
        "source_month": f"{stored.source_month:%Y-%m}",
        "feature_set_version": stored.feature_set_version,
        "current_feature_set_version": feature_set_version(),
        "computed_at": stored.computed_at.isoformat(),
        "features": {name: _plain(value) for name, value in stored.features.items()},
        "inputs": {name: _plain(value) for name, value in stored.inputs.items()},
    }


@app.command()
def show(
    uscc: Annotated[str, typer.Option("--uscc", help="Unified social credit code.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The month, YYYY-MM.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print an enterprise's stored features and strategy inputs, with their lineage."""
    month = _month(as_of)
    with platform() as p:
        _require_feature_store(p)
        reader: FeatureStore = p.feature_store()
        stored = reader.get(uscc.strip().upper(), month)
    if stored is None:
        raise fail(
            f"no stored features for {uscc} as of {month:%Y-%m}: build that month first",
            code="not_found",
            exit_code=EXIT_NOT_FOUND,
        )
    data = _as_dict(stored)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    current = data["current_feature_set_version"]
    typer.echo(f"{stored.uscc} as of {data['as_of']}")
    typer.echo(f"  source data to   {data['source_month']}")
    same = "current" if stored.feature_set_version == current else f"current is {current}"
    typer.echo(f"  feature set      {stored.feature_set_version} ({same})")
    typer.echo(f"  computed at      {data['computed_at']}")
    for title, values in (("strategy inputs", data["inputs"]), ("features", data["features"])):
        typer.echo(f"{title}:")
        for name, value in values.items():
            typer.echo(f"  {name:<36} {'-' if value is None else value}")
