"""``puhui keys``: re-encrypt personal data at rest under the current data key."""

from __future__ import annotations

from typing import Annotated

import typer

from puhui.adapters.db import key_rotation
from puhui.cli.context import platform

app = typer.Typer(help="Data-encryption keys: rotate.", no_args_is_help=True)


@app.command()
def rotate(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="rows per transaction")] = 500,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would be re-encrypted; change nothing")
    ] = False,
) -> None:
    """Re-encrypt every encrypted column under PUHUI_DATA_KEY (id PUHUI_DATA_KEY_ID).

    Values sealed under a key in PUHUI_RETIRED_DATA_KEYS are decrypted and sealed again
    under the current key; values already under it are left alone, so a second run changes
    nothing. Once it reports no older values, the retired keys can be removed.
    """
    with platform() as p:
        cipher = p.settings.field_cipher()
        reports = key_rotation.rotate(
            p.database.engine, cipher, batch_size=batch_size, dry_run=dry_run
        )
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    typer.echo(f"current data key: {cipher.key_id}")
    for r in reports:
        typer.echo(
            f"{r.label:<40} {verb} {r.rotated:>7}  already current {r.current:>7}"
            + (f"  skipped (changed meanwhile) {r.skipped}" if r.skipped else "")
        )
    rotated = sum(r.rotated for r in reports)
    skipped = sum(r.skipped for r in reports)
    typer.echo(f"total: {verb} {rotated}, skipped {skipped}")
    if skipped:
        raise typer.Exit(1)
