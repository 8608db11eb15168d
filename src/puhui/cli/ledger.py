"""``puhui ledger``: the general ledger of lending (trial balance), the reconciliation of
a day's repayments with the collecting channel, and the repayments held in suspense (挂账)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail, platform
from puhui.cli.security_context import operator_name
from puhui.domain.ledger import Account, TrialBalance
from puhui.domain.lending.reconciliation import BreakKind, ReconciliationRun
from puhui.domain.lending.suspense import SuspenseItem, SuspenseStatus
from puhui.domain.money import format_yuan
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.operations import (
    reconcile_repayments,
    reconciliation_run,
    reconciliation_runs,
)
from puhui.services.servicing.receipts import RepaymentResult
from puhui.services.servicing.suspense import (
    apply,
    approve_refund,
    hold,
    reject_refund,
    request_refund,
    suspense_item,
    suspense_items,
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


def _operator() -> Principal:
    return Principal(user_id=f"cli:{operator_name()}", role=Role.OPERATIONS)


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


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _item_document(item: SuspenseItem) -> dict[str, object]:
    return {
        "item_id": item.item_id,
        "order_id": item.order_id,
        "loan_id": item.loan_id,
        "amount": format_yuan(item.amount_fen),
        "value_date": item.value_date.isoformat(),
        "channel_ref": item.channel_ref or None,
        "run_id": item.run_id,
        "status": item.status.value,
        "held_on": item.held_on.isoformat(),
        "held_by": item.held_by,
        "held_at": item.held_at.isoformat(),
        "resolved_on": _iso(item.resolved_on),
        "resolved_by": item.resolved_by,
        "resolved_at": _iso(item.resolved_at),
        "applied_loan_id": item.applied_loan_id,
        "repayment_key": item.repayment_key,
        "reason": item.reason,
        "refund_requested_by": item.refund_requested_by,
        "refund_requested_at": _iso(item.refund_requested_at),
    }


def _repayment_document(paid: RepaymentResult) -> dict[str, object]:
    return {
        "loan_id": paid.receipt_id,
        "amount": format_yuan(paid.amount_fen),
        "paid_on": paid.paid_on,
        "principal": format_yuan(paid.principal_fen),
        "interest": format_yuan(paid.interest_fen),
        "penalty": format_yuan(paid.penalty_fen),
        "compound": format_yuan(paid.compound_fen),
        "outstanding_principal": format_yuan(paid.outstanding_principal_fen),
        "owed_after": format_yuan(paid.owed_after_fen),
        "closed": paid.closed,
        "entry_key": paid.entry_key,
    }


def _echo_json(document: object) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _resolution(item: SuspenseItem) -> str:
    """The status in words, with how a resolved item was resolved."""
    if item.status is SuspenseStatus.APPLIED:
        return f"applied to {item.applied_loan_id} on {item.resolved_on}"
    if item.status is SuspenseStatus.REFUNDED:
        return f"refunded on {item.resolved_on}"
    if item.status is SuspenseStatus.REFUND_REQUESTED:
        return (
            f"refund requested by {item.refund_requested_by}, "
            "waiting for a second person's approval"
        )
    return item.status.value


def _print_item(item: SuspenseItem) -> None:
    ref = f" (channel ref {item.channel_ref})" if item.channel_ref else ""
    typer.echo(f"suspense item {item.item_id}: {_resolution(item)}")
    typer.echo(f"  order     {item.order_id}{ref}, a break of reconciliation {item.run_id}")
    typer.echo(f"  loan      {item.loan_id} (as the channel named it)")
    typer.echo(f"  amount    {format_yuan(item.amount_fen)} yuan, valued {item.value_date}")
    typer.echo(
        f"  held      on {item.held_on} by {item.held_by} at {item.held_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if item.refund_requested_at is not None:  # pending, or approved since
        typer.echo(
            f"  refund    requested by {item.refund_requested_by} at "
            f"{item.refund_requested_at:%Y-%m-%d %H:%M:%S} UTC: {item.reason}"
        )
    if item.resolved_at is None:  # on hold: nothing resolved it yet
        return
    when = (
        f"on {item.resolved_on} by {item.resolved_by} at {item.resolved_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if item.status is SuspenseStatus.APPLIED:
        typer.echo(
            f"  applied   to {item.applied_loan_id} {when} as repayment {item.repayment_key}"
        )
    else:
        typer.echo(f"  refunded  {when}: {item.reason}")


def _parse_status(text: str | None) -> SuspenseStatus | None:
    if text is None:
        return None
    try:
        return SuspenseStatus(text)
    except ValueError:
        known = ", ".join(s.value for s in SuspenseStatus)
        raise fail(
            f"not a status of suspense items ({known}): {text[:60]!r}", code="invalid_status"
        ) from None


@app.command("suspense")
def suspense_command(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only items of this status: held, refund_requested, applied or refunded."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, the latest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Repayments held in suspense (挂账), the latest held first.

    Each is an order the channel collected and no loan was credited with: held (perhaps with a
    refund waiting for its approval), applied to a loan or refunded, and how.
    """
    wanted = _parse_status(status)
    with platform() as p:
        items = suspense_items(p.servicing_reader, actor=_operator(), status=wanted, limit=limit)
    if as_json:
        _echo_json([_item_document(i) for i in items])
        return
    if not items:
        typer.echo(
            "no item held in suspense" if wanted is None else f"no suspense item {wanted.value}"
        )
    for i in items:
        typer.echo(
            f"{i.item_id}  {i.order_id}  {i.loan_id}  {format_yuan(i.amount_fen):>12}  "
            f"valued {i.value_date}  {_resolution(i)}"
        )


@app.command("suspense-item")
def suspense_item_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One repayment held in suspense (挂账) in full: whence it came, who held and resolved it."""
    with platform() as p:
        item = suspense_item(p.servicing_reader, actor=_operator(), item_id=item_id)
    if as_json:
        _echo_json(_item_document(item))
    else:
        _print_item(item)


@app.command("hold")
def hold_command(
    run_id: Annotated[str, typer.Argument(help="The reconciliation that found it (rcn_…).")],
    order_id: Annotated[str, typer.Argument(help="Its not_posted order.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hold in suspense (挂账) an order a reconciliation found collected but not posted.

    Posted on the open business day; the channel's day then reconciles. An order held already
    is shown as it stands, nothing is posted again.
    """
    with platform() as p:
        held = hold(p.servicing_uow, actor=_operator(), run_id=run_id, order_id=order_id)
    if as_json:
        _echo_json({"created": held.created, "item": _item_document(held.item)})
        return
    item = held.item
    if held.created:
        typer.echo(f"order {item.order_id} held in suspense on {item.held_on}")
    else:
        typer.echo(f"order {item.order_id} was held already: nothing posted again")
    _print_item(item)


@app.command("apply-suspense")
def apply_suspense_command(
    item_id: Annotated[str, typer.Argument(help="The held item's id (sus_…).")],
    loan_id: Annotated[
        str | None, typer.Option("--loan", help="Repay this loan, not the channel's.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Apply a held item (挂账入账) as a repayment of its whole amount, funded from suspense.

    Repays the loan the channel named unless --loan names another, on the open business day.
    """
    with platform() as p:
        applied = apply(p.servicing_uow, actor=_operator(), item_id=item_id, loan_id=loan_id)
    paid = applied.repayment
    if as_json:
        _echo_json({"item": _item_document(applied.item), "repayment": _repayment_document(paid)})
        return
    _print_item(applied.item)
    closed = " (loan closed)" if paid.closed else ""
    typer.echo(
        f"repaid {format_yuan(paid.amount_fen)} yuan to {paid.receipt_id} on {paid.paid_on}: "
        f"principal {format_yuan(paid.principal_fen)}, interest {format_yuan(paid.interest_fen)}, "
        f"penalty {format_yuan(paid.penalty_fen)}, compound {format_yuan(paid.compound_fen)}; "
        f"still owed {format_yuan(paid.owed_after_fen)}{closed}"
    )


@app.command("refund-suspense")
def refund_suspense_command(
    item_id: Annotated[str, typer.Argument(help="The held item's id (sus_…).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it goes back to the payer.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Request the refund of a held item (挂账退回) to the payer, saying why.

    Nothing is posted: money leaving the bank takes two people, and a second operator approves
    the refund (approve-suspense-refund) or either rejects it (reject-suspense-refund).
    """
    with platform() as p:
        item = request_refund(p.servicing_uow, actor=_operator(), item_id=item_id, reason=reason)
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo(
        f"refund of {format_yuan(item.amount_fen)} yuan requested: it waits for a second "
        "person's approval (approve-suspense-refund), nothing is posted yet"
    )
    _print_item(item)


@app.command("approve-suspense-refund")
def approve_suspense_refund_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a requested refund (挂账退回复核): the money goes back to the payer.

    Posted on the open business day. Who requested the refund cannot approve it.
    """
    with platform() as p:
        item = approve_refund(p.servicing_uow, actor=_operator(), item_id=item_id)
    if as_json:
        _echo_json(_item_document(item))
    else:
        _print_item(item)


@app.command("reject-suspense-refund")
def reject_suspense_refund_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the refund is not made.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a requested refund, saying why: the item is held again, nothing is posted.

    Who requested the refund may withdraw it so.
    """
    with platform() as p:
        item = reject_refund(p.servicing_uow, actor=_operator(), item_id=item_id, reason=reason)
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo("refund rejected: the item is held again, to be applied or refunded")
    _print_item(item)
