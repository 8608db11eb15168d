"""``puhui ledger``'s commands of the repayments held in suspense (挂账): hold a reconciliation's
unposted order, apply it to the channel's loan, apply it to another loan or refund it with four
eyes (one operator requests, a second approves or either rejects), read the items, and tie the
suspense account out against them.

The operator is the operating-system user running the command (``cli:<user>``): a second
person approves a refund or a transfer from their own account.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer

from puhui.cli.context import fail, platform
from puhui.cli.security_context import operator_name
from puhui.domain.lending.suspense import MAX_DAYS_LIMIT, SuspenseItem, SuspenseStatus
from puhui.domain.money import format_yuan
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.receipts import RepaymentResult
from puhui.services.servicing.suspense import (
    Applied,
    apply,
    approve_refund,
    approve_transfer,
    hold,
    reject_refund,
    reject_transfer,
    request_refund,
    request_transfer,
    suspense_item,
    suspense_items,
    tie_out,
)

EXIT_DIFFERS = 1
_COMMANDS: list[tuple[str, Callable[..., None]]] = []


def _command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a function as the ``puhui ledger`` command ``name`` (added by ``register``)."""

    def remember(function: Callable[..., None]) -> Callable[..., None]:
        _COMMANDS.append((name, function))
        return function

    return remember


def counted(count: int, noun: str) -> str:
    """``count`` of ``noun``, in the plural unless there is one (``1 item``, ``2 items``)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def operator() -> Principal:
    """The operations user at the console: the operating-system user, audited by name."""
    return Principal(user_id=f"cli:{operator_name()}", role=Role.OPERATIONS)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _item_document(item: SuspenseItem) -> dict[str, object]:
    return {
        "item_id": item.item_id,
        "order_id": item.order_id,
        "loan_id": item.loan_id,
        "amount": format_yuan(item.amount_fen),
        "posted": None if item.posted_fen is None else format_yuan(item.posted_fen),
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
        "transfer_loan_id": item.transfer_loan_id,
        "transfer_requested_by": item.transfer_requested_by,
        "transfer_requested_at": _iso(item.transfer_requested_at),
        "rejected_request": item.rejected_request,
        "rejected_reason": item.rejected_reason,
        "rejected_by": item.rejected_by,
        "rejected_at": _iso(item.rejected_at),
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
    if item.status is SuspenseStatus.TRANSFER_REQUESTED:
        return (
            f"transfer to {item.transfer_loan_id} requested by {item.transfer_requested_by}, "
            "waiting for a second person's approval"
        )
    return item.status.value


def _print_item(item: SuspenseItem) -> None:
    ref = f" (channel ref {item.channel_ref})" if item.channel_ref else ""
    typer.echo(f"suspense item {item.item_id}: {_resolution(item)}")
    typer.echo(f"  order     {item.order_id}{ref}, a break of reconciliation {item.run_id}")
    typer.echo(f"  loan      {item.loan_id} (as the channel named it)")
    typer.echo(f"  amount    {format_yuan(item.amount_fen)} yuan, valued {item.value_date}")
    if item.posted_fen is not None:
        typer.echo(
            f"  excess    over the {format_yuan(item.posted_fen)} yuan the books credited "
            "under the order"
        )
    typer.echo(
        f"  held      on {item.held_on} by {item.held_by} at {item.held_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if item.rejected_at is not None:  # the latest request turned down, whatever came next
        typer.echo(
            f"  rejected  a {item.rejected_request} request, by {item.rejected_by} at "
            f"{item.rejected_at:%Y-%m-%d %H:%M:%S} UTC: {item.rejected_reason}"
        )
    if item.refund_requested_at is not None:  # pending, or approved since
        typer.echo(
            f"  refund    requested by {item.refund_requested_by} at "
            f"{item.refund_requested_at:%Y-%m-%d %H:%M:%S} UTC: {item.reason}"
        )
    if item.transfer_requested_at is not None:  # pending, or approved since
        typer.echo(
            f"  transfer  to {item.transfer_loan_id} requested by {item.transfer_requested_by} "
            f"at {item.transfer_requested_at:%Y-%m-%d %H:%M:%S} UTC: {item.reason}"
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


@_command("suspense")
def suspense_command(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only items of this status: held, refund_requested, transfer_requested, "
            "applied or refunded."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, the latest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Repayments held in suspense (挂账), the latest held first.

    Each is an order the channel collected and no loan was credited with: held (perhaps with a
    refund or a transfer to another loan waiting for its approval), applied to a loan or
    refunded, and how.
    """
    wanted = _parse_status(status)
    with platform() as p:
        items = suspense_items(p.servicing_reader, actor=operator(), status=wanted, limit=limit)
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


@_command("suspense-item")
def suspense_item_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One repayment held in suspense (挂账) in full: whence it came, who held and resolved it."""
    with platform() as p:
        item = suspense_item(p.servicing_reader, actor=operator(), item_id=item_id)
    if as_json:
        _echo_json(_item_document(item))
    else:
        _print_item(item)


@_command("hold")
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
        held = hold(p.servicing_uow, actor=operator(), run_id=run_id, order_id=order_id)
    if as_json:
        _echo_json({"created": held.created, "item": _item_document(held.item)})
        return
    item = held.item
    if held.created:
        typer.echo(f"order {item.order_id} held in suspense on {item.held_on}")
    else:
        typer.echo(f"order {item.order_id} was held already: nothing posted again")
    _print_item(item)


def _print_applied(applied: Applied, *, as_json: bool) -> None:
    """The item applied and the repayment it was posted as."""
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


@_command("apply-suspense")
def apply_suspense_command(
    item_id: Annotated[str, typer.Argument(help="The held item's id (sus_…).")],
    loan_id: Annotated[
        str | None,
        typer.Option(
            "--loan",
            help="Only the loan the channel named is accepted (the default; kept for scripts). "
            "Another loan takes two people: transfer-suspense.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Apply a held item (挂账入账) as a repayment of its whole amount, funded from suspense.

    Repays the loan the channel named, on the open business day. Another loan is refused: the
    payer's money credited to someone else's debt is requested (transfer-suspense) and
    approved by a second person.
    """
    with platform() as p:
        applied = apply(p.servicing_uow, actor=operator(), item_id=item_id, loan_id=loan_id)
    _print_applied(applied, as_json=as_json)


@_command("refund-suspense")
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
        item = request_refund(p.servicing_uow, actor=operator(), item_id=item_id, reason=reason)
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo(
        f"refund of {format_yuan(item.amount_fen)} yuan requested: it waits for a second "
        "person's approval (approve-suspense-refund), nothing is posted yet"
    )
    _print_item(item)


@_command("approve-suspense-refund")
def approve_suspense_refund_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a requested refund (挂账退回复核): the money goes back to the payer.

    Posted on the open business day. Who requested the refund cannot approve it.
    """
    with platform() as p:
        item = approve_refund(p.servicing_uow, actor=operator(), item_id=item_id)
    if as_json:
        _echo_json(_item_document(item))
    else:
        _print_item(item)


@_command("reject-suspense-refund")
def reject_suspense_refund_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the refund is not made.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a requested refund, saying why: the item is held again, nothing is posted.

    Who requested the refund may withdraw it so.
    """
    with platform() as p:
        item = reject_refund(p.servicing_uow, actor=operator(), item_id=item_id, reason=reason)
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo("refund rejected: the item is held again, to be applied or refunded")
    _print_item(item)


@_command("transfer-suspense")
def transfer_suspense_command(
    item_id: Annotated[str, typer.Argument(help="The held item's id (sus_…).")],
    loan_id: Annotated[
        str, typer.Option("--loan", help="The loan to repay instead of the channel's.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the money goes to that loan.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Request that a held item be applied to another loan than the channel's (转入他笔贷款).

    Nothing is posted: crediting the payer's money to someone else's debt takes two people,
    and a second operator approves the transfer (approve-suspense-transfer) or either rejects
    it (reject-suspense-transfer). The loan must be active; what it owes is checked on
    approval.
    """
    with platform() as p:
        item = request_transfer(
            p.servicing_uow, actor=operator(), item_id=item_id, loan_id=loan_id, reason=reason
        )
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo(
        f"transfer of {format_yuan(item.amount_fen)} yuan to {item.transfer_loan_id} requested: "
        "it waits for a second person's approval (approve-suspense-transfer), nothing is "
        "posted yet"
    )
    _print_item(item)


@_command("approve-suspense-transfer")
def approve_suspense_transfer_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a requested transfer (转入他笔贷款复核): the item repays the loan asked for.

    Posted on the open business day, as apply-suspense posts it. Who requested the transfer
    cannot approve it; a loan that owes less than the amount is refused, and the request waits
    (reject it).
    """
    with platform() as p:
        applied = approve_transfer(p.servicing_uow, actor=operator(), item_id=item_id)
    _print_applied(applied, as_json=as_json)


@_command("reject-suspense-transfer")
def reject_suspense_transfer_command(
    item_id: Annotated[str, typer.Argument(help="The item's id (sus_…).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the transfer is not made.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a requested transfer, saying why: the item is held again, nothing is posted.

    Who requested the transfer may withdraw it so.
    """
    with platform() as p:
        item = reject_transfer(p.servicing_uow, actor=operator(), item_id=item_id, reason=reason)
    if as_json:
        _echo_json(_item_document(item))
        return
    typer.echo("transfer rejected: the item is held again, to be applied or refunded")
    _print_item(item)


@_command("suspense-tie-out")
def suspense_tie_out_command(
    max_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_DAYS_LIMIT,
            help="Days an item may stay in suspense (default: the setting suspense_max_days).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Tie the suspense account (2245) out against the items in suspense.

    The items are those held, or with a refund or a transfer waiting; those held longer than
    the days allowed are counted as overdue. Exits 1 when the account and the items differ: an
    entry on the account that no item explains.
    """
    with platform() as p:
        days = p.settings.suspense_max_days if max_days is None else max_days
        found = tie_out(p.servicing_reader, actor=operator(), max_days=days)
    if as_json:
        _echo_json(
            {
                "account": format_yuan(found.account_fen),
                "items": found.items,
                "items_amount": format_yuan(found.items_fen),
                "difference": format_yuan(found.difference_fen),
                "agrees": found.agrees,
                "max_days": found.max_days,
                "overdue": found.overdue,
                "overdue_amount": format_yuan(found.overdue_fen),
            }
        )
    else:
        account = format_yuan(found.account_fen)
        items = counted(found.items, "item")
        typer.echo(
            f"suspense account 2245 holds {account} yuan: the {items} in suspense, exactly"
            if found.agrees
            else f"suspense account 2245 holds {account} yuan, but the {items} in suspense "
            f"come to {format_yuan(found.items_fen)} yuan: "
            f"{format_yuan(found.difference_fen)} yuan that no item explains; find the entries "
            "on the account"
        )
        if found.overdue:
            typer.echo(
                f"{found.overdue:,} of them ({format_yuan(found.overdue_fen)} yuan) held longer "
                f"than {counted(found.max_days, 'day')}: apply or refund them"
            )
    if not found.agrees:
        raise typer.Exit(EXIT_DIFFERS)


def register(app: typer.Typer) -> None:
    """Add these commands to ``puhui ledger``."""
    for name, command in _COMMANDS:
        app.command(name)(command)
