"""``puhui qr``: the QR code of a branch or village service point, as a PNG file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail, load_settings
from puhui.domain.errors import PuhuiError
from puhui.domain.origination.channel import Channel
from puhui.services.documents.branch_qr import branch_code_qr


def qr(
    branch: Annotated[str, typer.Option("--branch", help='branch code: 2-16 of A-Z, 0-9 and "-"')],
    out: Annotated[Path, typer.Option("--out", help="the PNG file to write", dir_okay=False)],
    channel: Annotated[
        str, typer.Option("--channel", help="the channel the code records")
    ] = Channel.H5_QR.value,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="the web app's address (default PUHUI_PUBLIC_BASE_URL)"),
    ] = None,
) -> None:
    """Write the QR code that opens the H5 pages for a branch; print the address it encodes."""
    base = base_url if base_url is not None else load_settings().public_base_url
    try:
        code = branch_code_qr(base_url=base, branch_code=branch, channel=channel)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if out.suffix.lower() != ".png":
        raise fail("the output file is a .png", code="invalid_input")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(code.png())
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}", code="io_error", exit_code=1) from None
    typer.echo(f"{out}: {code.url}")
