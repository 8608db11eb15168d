"""``puhui apikey``: partners' API keys (the secret is printed once; only its hash is kept)."""

from __future__ import annotations

from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.cli.security_context import operator, security
from puhui.services.security import accounts
from puhui.services.security.permissions import PARTNER_SCOPES, Permission

app = typer.Typer(help="Partner API keys: create, rotate, revoke.", no_args_is_help=True)
_SCOPES = ", ".join(sorted(p.value for p in PARTNER_SCOPES))


def _scopes(values: list[str]) -> list[Permission]:
    wanted = [part.strip() for value in values for part in value.split(",") if part.strip()]
    try:
        return [Permission(name) for name in wanted]
    except ValueError:
        raise fail(f"scopes are among: {_SCOPES}", code="invalid_input") from None


@app.command()
def create(
    partner: Annotated[str, typer.Option(help="The partner (channel) the key belongs to.")],
    scopes: Annotated[
        list[str], typer.Option(help=f"Scopes, comma-separated or repeated: {_SCOPES}.")
    ],
) -> None:
    """Issue a key; the secret is printed once."""
    with security() as sec:
        issued = accounts.issue_api_key(
            sec, actor=operator(), partner_id=partner, scopes=_scopes(scopes)
        )
    typer.echo(f"key {issued.key_id} for {issued.partner_id}")
    typer.echo(f"api key (shown once): {issued.api_key}")


@app.command()
def rotate(key_id: Annotated[str, typer.Argument(help="The key id.")]) -> None:
    """A new secret for the same key and scopes; the old secret stops working at once."""
    with security() as sec:
        issued = accounts.rotate_api_key(sec, actor=operator(), key_id=key_id)
    typer.echo(f"rotated key {issued.key_id} for {issued.partner_id}")
    typer.echo(f"api key (shown once): {issued.api_key}")


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The key id.")]) -> None:
    """The key stops working at once."""
    with security() as sec:
        record = accounts.revoke_api_key(sec, actor=operator(), key_id=key_id)
    typer.echo(f"revoked key {record.key_id} of {record.partner_id}")
