"""``puhui voucher``: payable vouchers (电子债权凭证) of supply-chain finance.

``puhui voucher simulate --file events.json [--json]`` runs a scenario of voucher events
(issue, split, transfer, finance, settle; docs/supply-chain.md) on an in-memory book, with
the platform's own rules and prices, and prints the vouchers, financings and settlements.
No database is used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from puhui.cli.context import fail
from puhui.domain.errors import PuhuiError
from puhui.domain.supply_chain.simulation import EventFailed, result_document, simulate

app = typer.Typer(
    help="Payable vouchers (电子债权凭证): simulate issue, split, transfer, financing, settlement.",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """Payable vouchers (电子债权凭证): simulate issue, split, transfer, financing, settlement."""


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"no such file: {path}", code="file_not_found") from None
    except IsADirectoryError:
        raise fail(f"{path} is a folder, a file was expected", code="invalid_file") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text", code="invalid_file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            f"{path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            code="invalid_json",
        ) from None


def _table(document: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [f"vouchers ({len(document['vouchers'])})"]
    lines.append(f"  {'id':<16} {'parent':<16} {'holder':<16} {'amount':>18}  status")
    for v in document["vouchers"]:
        lines.append(
            f"  {v['id']:<16} {v['parent'] or '-':<16} {v['holder']:<16} "
            f"{v['amount']:>18}  {v['status']}"
        )
    lines.append(f"financings ({len(document['financings'])})")
    if document["financings"]:
        lines.append(
            f"  {'voucher':<16} {'face':>18} {'days':>5} {'interest':>14} {'fee':>12} "
            f"{'proceeds':>18}"
        )
    for f in document["financings"]:
        lines.append(
            f"  {f['voucher']:<16} {f['face']:>18} {f['days']:>5} {f['interest']:>14} "
            f"{f['fee']:>12} {f['proceeds']:>18}"
        )
    lines.append(f"settlements ({len(document['settlements'])})")
    if document["settlements"]:
        lines.append(f"  {'voucher':<16} {'payee':<16} {'amount':>18}")
    for s in document["settlements"]:
        lines.append(f"  {s['voucher']:<16} {s['payee']:<16} {s['amount']:>18}")
    return lines


@app.command("simulate")
def simulate_command(
    file: Annotated[
        Path,
        typer.Option("--file", help='Scenario: JSON {"events": [...]} (docs/supply-chain.md).'),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Run a scenario of voucher events and print vouchers, financings and settlements."""
    raw = _load(file)
    try:
        book = simulate(raw)
    except EventFailed as failed:
        raise fail(f"event {failed.index}: {failed.error.message}", code=failed.code) from None
    except PuhuiError as exc:
        raise fail(f"{file}: {exc.message}", code=exc.code) from None
    document = result_document(book)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for line in _table(document):
            typer.echo(line)
