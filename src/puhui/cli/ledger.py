"""``puhui ledger``: the general ledger of lending (trial balance)."""

from __future__ import annotations

import json
from datetime import date

import typer

from puhui.cli.context import fail, platform
from puhui.domain.ledger import Account, TrialBalance
from puhui.domain.money import format_yuan
from puhui.services.servicing.ledger import trial_balance

app = typer.Typer(help="General ledger: balances of the lending accounts.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """General ledger: balances of the lending accounts."""


EXIT_UNBALANCED = 1


def parse_business_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"not a date (YYYY-MM-DD): {text!r}", code="invalid_date") from None


def _as_json(balance: TrialBalance) -> str:
    accounts = [
        {
            "code": account.code,
            "name": account.name_en,
            "name_zh": account.name_zh,
            "type": account.account_type.value,
            "balance": format_yuan(balance.balances_fen.get(account, 0)),
        }
        for account in Account
    ]
    return json.dumps(
        {
            "as_of": balance.as_of.isoformat(),
            "accounts": accounts,
            "total": format_yuan(balance.total_fen),
            "balanced": balance.balanced,
        },
        ensure_ascii=False,
        indent=2,
    )


@app.command("trial-balance")
def trial_balance_command(
    as_of: str = typer.Option(..., "--as-of", help="Business date, YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Balances per account as of a date (debit positive); they sum to zero."""
    day = parse_business_date(as_of)
    with platform() as p:
        balance = trial_balance(p.servicing_uow, as_of=day)
    if as_json:
        typer.echo(_as_json(balance))
    else:
        typer.echo(f"trial balance as of {day.isoformat()} (yuan; debit +, credit -)")
        for account in Account:
            amount = balance.balances_fen.get(account, 0)
            typer.echo(f"  {account.code}  {account.name_en:<42} {format_yuan(amount):>20}")
        typer.echo(f"  {'':4}  {'total':<42} {format_yuan(balance.total_fen):>20}")
    if not balance.balanced:
        typer.echo("error [unbalanced_ledger]: the trial balance does not sum to zero", err=True)
        raise typer.Exit(EXIT_UNBALANCED)
