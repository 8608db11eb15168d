"""``puhui dealer line``: dealer loans (经销商贷) of supply-chain finance on the platform.

``decide`` sizes and opens a dealer's line on its core's dealer programme (the core must be
onboarded and have named the dealer), ``draw`` draws on it to pay the core (受托支付),
``list`` and ``show`` read the lines and their receipts. Amounts are in yuan; the command
acts as a risk officer named by ``--actor`` (the audit trail). Docs: docs/supply-chain.md.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date
from typing import Annotated, Any

import typer

from puhui.bootstrap.dealers import dealer_access
from puhui.cli.context import fail, platform
from puhui.decision.supply_chain import COMMITMENTS
from puhui.domain.errors import InvalidAmount, PuhuiError
from puhui.domain.money import format_yuan, parse_yuan
from puhui.services.dealers import (
    DealerLineView,
    dealer_line,
    default_maturity,
    draw_to_core,
    list_dealer_lines,
    open_dealer_line,
)
from puhui.services.security.permissions import Principal, Role

app = typer.Typer(
    help="Dealer loans (经销商贷): lines drawn to pay the core.", no_args_is_help=True
)
line_app = typer.Typer(
    help="Dealer lines: decide, draw (paid to the core), list, show.", no_args_is_help=True
)
app.add_typer(line_app, name="line")

USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
ACTOR = typer.Option("cli", "--actor", help="Who acts (a risk officer), for the audit trail.")
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
KEY = typer.Option(
    "--key",
    help="Idempotency key: the same key and request act once (default: a fresh key).",
)


@app.callback()
def main() -> None:
    """Dealer loans (经销商贷): lines sized from purchases from a core, drawn to pay it."""


def _actor(name: str) -> Principal:
    return Principal(user_id=f"cli:{name}", role=Role.RISK_OFFICER)


def _uscc(text: str, option: str) -> str:
    value = text.strip().upper()
    if not USCC.match(value):
        raise fail(
            f"{option}: not a unified social credit code (18 characters): {text!r}",
            code="invalid_uscc",
        )
    return value


def _amount(text: str) -> int:
    try:
        fen = int(parse_yuan(text.strip()))
    except InvalidAmount as exc:
        raise fail(f"--amount: {exc.message}", code=exc.code) from None
    if fen <= 0:
        raise fail(f"--amount must be more than zero yuan, got {text!r}", code="invalid_amount")
    return fen


def _line_dict(view: DealerLineView) -> dict[str, Any]:
    return {
        "line_id": view.line_id,
        "dealer": view.dealer_uscc,
        "core": view.core_uscc,
        "limit": format_yuan(view.limit_fen),
        "drawn": format_yuan(view.drawn_fen),
        "available": format_yuan(view.available_fen),
        "annual_rate": str(view.annual_rate),
        "opened_on": view.opened_on.isoformat(),
        "expiry_date": view.expiry_date.isoformat(),
        "status": view.status,
        "receipts": [
            {
                "receipt_id": r.receipt_id,
                "amount": format_yuan(r.principal_fen),
                "outstanding": format_yuan(r.outstanding_principal_fen),
                "drawn_on": r.drawn_on.isoformat(),
                "maturity_date": r.maturity_date.isoformat(),
                "payee": r.payee,
                "status": r.status,
            }
            for r in view.receipts
        ],
    }


def _echo(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@line_app.command("decide")
def decide(  # noqa: PLR0917 - one option each, as Typer declares them
    core: Annotated[str, typer.Option("--core", help="The core enterprise's USCC.")],
    dealer: Annotated[str, typer.Option("--dealer", help="The dealer's USCC.")],
    commitment: Annotated[
        str, typer.Option("--commitment", help="The core's undertaking: guarantee|repurchase|none.")
    ],
    amount: Annotated[str, typer.Option("--amount", help="Requested limit in yuan.")],
    actor: str = ACTOR,
    key: Annotated[str | None, KEY] = None,
    as_json: bool = JSON,
) -> None:
    """Size and open a dealer's line from its purchases from the core (or say why not)."""
    core_uscc = _uscc(core, "--core")
    dealer_uscc = _uscc(dealer, "--dealer")
    if commitment not in COMMITMENTS:
        raise fail(
            f"--commitment must be one of {', '.join(COMMITMENTS)}, got {commitment!r}",
            code="invalid_input",
        )
    requested = _amount(amount)
    with platform() as p:
        access = dealer_access(p)
        try:
            line, sizing = open_dealer_line(
                access,
                actor=_actor(actor),
                core_uscc=core_uscc,
                dealer_uscc=dealer_uscc,
                commitment=commitment,
                requested_fen=requested,
                idempotency_key=key or f"cli-decide-{secrets.token_hex(8)}",
            )
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    document = {
        "line_id": line.line_id,
        "dealer": line.dealer_uscc,
        "core": line.core_uscc,
        "commitment": line.commitment,
        "limit": format_yuan(line.limit_fen),
        "annual_rate": str(line.annual_rate),
        "grade": line.grade,
        "opened_on": line.opened_on.isoformat(),
        "expiry_date": line.expiry_date.isoformat(),
        "seasonal_peak_month": line.seasonal_peak_month,
        "peak_average": format_yuan(line.peak_average_fen),
        "purchases_12m": format_yuan(line.purchases_12m_fen),
        "core_grade": sizing.core_grade,
        "strategy_version": line.strategy_version,
    }
    if as_json:
        _echo(document)
        return
    typer.echo(
        f"dealer line {line.line_id}: {line.dealer_uscc} of core {line.core_uscc} "
        f"({line.commitment}), limit {document['limit']} yuan at {line.annual_rate}, "
        f"{line.opened_on} to {line.expiry_date}"
    )


@line_app.command("draw")
def draw(  # noqa: PLR0917 - one option each, as Typer declares them
    line_id: Annotated[str, typer.Argument(help="The dealer line.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount in yuan.")],
    maturity: Annotated[
        str | None,
        typer.Option("--maturity", help="YYYY-MM-DD (default: 90 days, within the line)."),
    ] = None,
    actor: str = ACTOR,
    key: Annotated[str | None, KEY] = None,
    as_json: bool = JSON,
) -> None:
    """Draw on a dealer line; the proceeds are paid to the core (受托支付), never the dealer."""
    fen = _amount(amount)
    due: date | None = None
    if maturity is not None:
        try:
            due = date.fromisoformat(maturity.strip())
        except ValueError:
            raise fail(
                f"--maturity: not a date (YYYY-MM-DD): {maturity!r}", code="invalid_date"
            ) from None
    with platform() as p:
        access = dealer_access(p)
        who = _actor(actor)
        try:
            if due is None:
                seen = dealer_line(access, actor=who, line_id=line_id)
                due = default_maturity(seen, access.today())
            paid = draw_to_core(
                access,
                actor=who,
                line_id=line_id,
                amount_fen=fen,
                maturity_date=due,
                idempotency_key=key or f"cli-draw-{secrets.token_hex(8)}",
            )
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    result = paid.draw
    document = {
        "receipt_id": result.receipt_id,
        "line_id": result.line_id,
        "amount": format_yuan(result.amount_fen),
        "drawn_on": result.drawn_on,
        "maturity_date": result.maturity_date,
        "available": format_yuan(result.available_fen),
        "payee": paid.payee,
        "payee_account": paid.payee_account,
        "replayed": result.replayed,
    }
    if as_json:
        _echo(document)
        return
    typer.echo(
        f"receipt {result.receipt_id}: {document['amount']} yuan paid to core {paid.payee}"
        f"{'' if paid.payee_account is None else f' (account {paid.payee_account})'}, "
        f"due {result.maturity_date}; available {document['available']} yuan"
    )


@line_app.command("list")
def list_lines(
    core: Annotated[str | None, typer.Option("--core", help="Only this core's dealers.")] = None,
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Dealer lines, newest first."""
    core_uscc = None if core is None else _uscc(core, "--core")
    with platform() as p:
        try:
            found = list_dealer_lines(dealer_access(p), actor=_actor(actor), core_uscc=core_uscc)
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    if as_json:
        _echo([{k: v for k, v in _line_dict(v).items() if k != "receipts"} for v in found])
        return
    typer.echo(f"dealer lines ({len(found)})")
    if found:
        typer.echo(
            f"  {'line':<26} {'dealer':<18} {'core':<18} {'limit':>14} {'available':>14} "
            f"{'expiry':<10}  status"
        )
    for v in found:
        typer.echo(
            f"  {v.line_id:<26} {v.dealer_uscc:<18} {v.core_uscc:<18} "
            f"{format_yuan(v.limit_fen):>14} {format_yuan(v.available_fen):>14} "
            f"{v.expiry_date.isoformat():<10}  {v.status}"
        )


@line_app.command("show")
def show(
    line_id: Annotated[str, typer.Argument(help="The dealer line.")],
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """A dealer line with its receipts (each paid to the core)."""
    with platform() as p:
        try:
            view = dealer_line(dealer_access(p), actor=_actor(actor), line_id=line_id)
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    document = _line_dict(view)
    if as_json:
        _echo(document)
        return
    typer.echo(
        f"dealer line {view.line_id} ({view.status}): dealer {view.dealer_uscc}, "
        f"core {view.core_uscc}"
    )
    typer.echo(
        f"  limit {document['limit']}, drawn {document['drawn']}, available "
        f"{document['available']} yuan at {view.annual_rate}; expires {view.expiry_date}"
    )
    typer.echo(f"receipts ({len(view.receipts)})")
    for r in document["receipts"]:
        typer.echo(
            f"  {r['receipt_id']:<26} {r['amount']:>14} {r['drawn_on']} -> "
            f"{r['maturity_date']}  paid to {r['payee']}  {r['status']}"
        )
