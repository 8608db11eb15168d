"""``puhui monitor``: post-loan monitoring (贷后) — runs, backtests, alerts and tasks."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Post-loan monitoring (贷后): trigger runs, backtests, alerts and tasks.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Post-loan monitoring (贷后): trigger runs, backtests, alerts and tasks."""
