"""The batch engine options every batch command shares: ``--engine local|spark --master URL``."""

from __future__ import annotations

from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.domain.errors import PuhuiError
from puhui.pipelines.engines import DEFAULT_CHUNK_SIZE, Engine, engine_from_options

EngineOption = Annotated[
    str,
    typer.Option("--engine", help="Batch engine: local (Polars, this process) or spark (PySpark)."),
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        "--master",
        help="Spark master URL (local[2], spark://host:7077, yarn, k8s://...); default: the "
        "one spark-submit gives, else local[2].",
    ),
]


def chosen_engine(name: str, master: str | None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Engine:
    """The engine of the options; a bad name or a master without Spark is a usage error."""
    try:
        return engine_from_options(name, master, chunk_size=chunk_size)
    except PuhuiError as exc:
        raise fail(exc.message, code="usage") from None
