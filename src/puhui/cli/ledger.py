"""``puhui ledger``: the general ledger of lending (trial balance), the reconciliation of
a day's repayments with the collecting channel, and the repayments held in suspense (挂账)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail, platform
from puhui.cli.ledger_suspense import operator as _operator
from puhui.cli.ledger_suspense import register as _register_suspense
from puhui.domain.ledger import Account, TrialBalance
from puhui.domain.lending.reconciliation import BreakKind, ReconciliationRun
from puhui.domain.money import format_yuan
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.operations import (
    reconcile_repayments,
    reconciliation_run,
    reconciliation_runs,
)

app = typer.Typer(
    help="General ledger: balances, repayments reconciled with the channel, and suspense (挂账).",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """General ledger: balances, repayments reconciled with the channel, and suspense (挂账)."""


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


EXIT_BREAKS = 1


def _run_summary(run: ReconciliationRun) -> dict[str, object]:
    return {
        "run_id": run.run_id,
        "value_date": run.value_date.isoformat(),
        "agrees": run.agrees,
        "matched": run.matched,
        "matched_amount": format_yuan(run.matched_fen),
        "ours": {"count": run.ours_count, "amount": format_yuan(run.ours_fen)},
        "theirs": {"count": run.theirs_count, "amount": format_yuan(run.theirs_fen)},
        "breaks_count": run.breaks_count,
        "file_sha256": run.file_sha256,
        "file_name": run.file_name,
        "reconciled_by": run.reconciled_by,
        "reconciled_at": run.reconciled_at.isoformat(),
    }


def _reconciliation_document(found: ReconciliationRun) -> dict[str, object]:
    return {
        **_run_summary(found),
        "breaks": [
            {
                "kind": b.kind.value,
                "order_id": b.order_id,
                "loan_id": b.loan_id,
                "ours_loan_id": b.ours_loan_id,
                "ours": None if b.ours_fen is None else format_yuan(b.ours_fen),
                "theirs": None if b.theirs_fen is None else format_yuan(b.theirs_fen),
                "channel_ref": b.channel_ref or None,
            }
            for b in found.breaks or ()
        ],
    }


BREAK_WORDS = {
    BreakKind.NOT_POSTED: "collected by the channel, not posted here",
    BreakKind.NOT_COLLECTED: "posted here, not collected by the channel",
    BreakKind.AMOUNT_DIFFERS: "amounts differ",
    BreakKind.LOAN_DIFFERS: "loans differ",
    BreakKind.DUPLICATE_ORDER: "more than one repayment here under this order id",
}


@app.command("reconcile-repayments")
def reconcile_repayments_command(
    value_date: Annotated[
        str, typer.Option("--date", help="The value date reconciled, YYYY-MM-DD.")
    ],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="The channel's file of that day (CSV: order_id, loan_id, amount, "
            "value_date[, channel_ref]).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reconcile a closed day's repayments with the collecting channel's file (还款对账).

    Matches by order id (the key each repayment was posted with); exit 1 naming every break:
    collected but not posted, posted but not collected, amounts or loans that differ. The run
    is recorded with the file's digest (``puhui ledger reconciliations``).
    """
    day = parse_business_date(value_date)
    try:
        # Bytes first: the recorded digest is the file's own (no newline translation).
        text = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}", code="invalid_file") from None
    with platform() as p:
        found = reconcile_repayments(
            p.servicing_uow,
            actor=_operator(),
            value_date=day,
            channel_file=text,
            file_name=file.name,
        )
    _print_run(found, as_json=as_json)
    if not found.agrees:
        raise typer.Exit(EXIT_BREAKS)


def _print_run(found: ReconciliationRun, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_reconciliation_document(found), ensure_ascii=False, indent=2))
        return
    day = found.value_date
    typer.echo(
        f"repayments valued {day.isoformat()}: {found.matched:,} matched "
        f"({format_yuan(found.matched_fen)} yuan); here {found.ours_count:,} "
        f"({format_yuan(found.ours_fen)}), the channel {found.theirs_count:,} "
        f"({format_yuan(found.theirs_fen)})"
    )
    for b in found.breaks or ():
        ours = "-" if b.ours_fen is None else format_yuan(b.ours_fen)
        theirs = "-" if b.theirs_fen is None else format_yuan(b.theirs_fen)
        loans = (
            b.loan_id
            if b.ours_loan_id in (None, b.loan_id)
            else (f"{b.ours_loan_id} here, {b.loan_id} at the channel")
        )
        typer.echo(
            f"  {b.order_id}  {loans}: {BREAK_WORDS[b.kind]} (here {ours}, channel {theirs})"
        )
    if found.agrees:
        typer.echo("the books and the channel agree")
    typer.echo(
        f"recorded as {found.run_id} by {found.reconciled_by} at "
        f"{found.reconciled_at:%Y-%m-%d %H:%M:%S} UTC (file {found.file_name or '-'}, "
        f"sha256 {found.file_sha256[:16]}…)"
    )


@app.command("reconciliations")
def reconciliations_command(
    value_date: Annotated[
        str | None, typer.Option("--date", help="Only this value date, YYYY-MM-DD.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, the latest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recorded repayment reconciliations, the latest first.

    Who reconciled which day against which file, when, and how many breaks it had.
    """
    day = None if value_date is None else parse_business_date(value_date)
    with platform() as p:
        runs = reconciliation_runs(p.servicing_uow, actor=_operator(), value_date=day, limit=limit)
    if as_json:
        typer.echo(json.dumps([_run_summary(r) for r in runs], ensure_ascii=False, indent=2))
        return
    if not runs:
        typer.echo("no reconciliation recorded" + ("" if day is None else f" for {day}"))
    for r in runs:
        verdict = "agrees" if r.agrees else f"{r.breaks_count:,} breaks"
        typer.echo(
            f"{r.run_id}  {r.value_date}  {verdict:<14} matched {r.matched:,} "
            f"({format_yuan(r.matched_fen)})  by {r.reconciled_by} at "
            f"{r.reconciled_at:%Y-%m-%d %H:%M} UTC  {r.file_name or '-'}"
        )


@app.command("reconciliation")
def reconciliation_command(
    run_id: Annotated[str, typer.Argument(help="The reconciliation's id (rcn_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One recorded reconciliation with its breaks, as it was found."""
    with platform() as p:
        found = reconciliation_run(p.servicing_uow, actor=_operator(), run_id=run_id)
    _print_run(found, as_json=as_json)


_register_suspense(app)
