"""``puhui serve``: run the open API with uvicorn."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from pydantic import ValidationError

from puhui.bootstrap.settings import Settings, start_up_refusal

app = typer.Typer(help="Serve the open API.", invoke_without_command=True)


@app.callback()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help=(
                "worker processes; each new connection goes to the one holding fewest, "
                "and one that dies is replaced"
            ),
        ),
    ] = 1,
) -> None:
    """Serve the API (OpenAPI at /api/v1/docs) until interrupted."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(str(e["msg"]) for e in error.errors())
        typer.echo(f"refusing to serve: invalid settings: {problems}", err=True)
        raise typer.Exit(2) from None
    refusal = start_up_refusal(settings, host)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    # The CLI and the web layer sit side by side (DESIGN.md): the server is looked up by
    # name so that the CLI does not import FastAPI at all unless this command runs.
    server = importlib.import_module("puhui.web.server")
    server.run(host=host, port=port, workers=workers)
