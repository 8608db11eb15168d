"""``puhui loan extend|restructure|approve-change|reject-change|renew|changes|classify``.

Extension (展期) and restructuring (重组) are requested by one person and applied when another
approves them (``--actor`` names who acts; the same name cannot approve its own request).
Renewal without principal repayment (无还本续贷) is decided by the active strategy's renewal
mode. Every command prints one line of text, or JSON with ``--json``; a refusal exits 1 with
its code on stderr (``error [extension_beyond_policy]: ...``) and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import typer

from puhui.bootstrap.loan_changes import loan_changes
from puhui.cli.context import fail, platform
from puhui.cli.security_context import operator_name
from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan, parse_rate
from puhui.services.loan_changes import changes, classification, renewals
from puhui.services.loan_changes.ports import LoanChangeRecord

EXIT_REFUSED = 1

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Actor = Annotated[
    str | None, typer.Option("--actor", help="Who acts, for four eyes and the audit trail.")
]
On = Annotated[str | None, typer.Option("--on", help="Business date YYYY-MM-DD (default today).")]
Key = Annotated[
    str | None,
    typer.Option("--key", help="Idempotency key: the same key replays the first result."),
]


def _day(text: str | None, today: date) -> date:
    if text is None:
        return today
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise fail(f"not an ISO date (YYYY-MM-DD): {text!r}", code="invalid_date") from None


def _actor(actor: str | None) -> str:
    return actor or f"cli:{operator_name()}"


def _key(key: str | None, *parts: object) -> str:
    return key or ":".join(str(p) for p in parts)


def _print(doc: dict[str, Any], as_json: bool, line: str) -> None:
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str) if as_json else line)


def _refused(exc: PuhuiError) -> typer.Exit:
    return fail(exc.message, code=exc.code, exit_code=EXIT_REFUSED)


def extend(
    loan_id: Annotated[str, typer.Argument(help="Loan id.")],
    *,
    months: Annotated[int, typer.Option("--months", help="Months to extend by.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the change).")],
    in_difficulty: Annotated[
        bool,
        typer.Option("--in-difficulty", help="The debtor is in financial difficulty (重组)."),
    ] = False,
    on: On = None,
    actor: Actor = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Request an extension (展期) within policy; another user approves it."""
    with platform() as p:
        access = loan_changes(p)
        day = _day(on, p.clock.today())
        try:
            result = changes.request_extension(
                access.units,
                loan_id=loan_id,
                extension_months=months,
                on=day,
                reason=reason,
                in_difficulty=in_difficulty,
                idempotency_key=_key(key, "cli-extend", loan_id, months, day),
                actor=_actor(actor),
                clock=p.clock,
                policy=access.policy,
            )
        except PuhuiError as exc:
            raise _refused(exc) from None
    _print(asdict(result), as_json, f"requested {result.change_id} ({result.kind} of {loan_id})")


def restructure(
    loan_id: Annotated[str, typer.Argument(help="Loan id.")],
    *,
    months: Annotated[int, typer.Option("--months", help="New number of periods.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the change).")],
    rate: Annotated[
        str | None,
        typer.Option("--rate", help="New annual rate from the next period, e.g. 0.0385."),
    ] = None,
    on: On = None,
    actor: Actor = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Request a restructuring (重组) of a debtor in difficulty; another user approves it."""
    with platform() as p:
        access = loan_changes(p)
        day = _day(on, p.clock.today())
        try:
            result = changes.request_restructuring(
                access.units,
                loan_id=loan_id,
                new_term_months=months,
                on=day,
                reason=reason,
                idempotency_key=_key(
                    key, "cli-restructure", loan_id, months, day, *([] if rate is None else [rate])
                ),
                actor=_actor(actor),
                clock=p.clock,
                policy=access.policy,
                new_annual_rate=None if rate is None else parse_rate(rate, what="--rate"),
            )
        except PuhuiError as exc:
            raise _refused(exc) from None
    _print(asdict(result), as_json, f"requested {result.change_id} ({result.kind} of {loan_id})")


def approve_change(
    change_id: Annotated[str, typer.Argument(help="Change id (from extend or restructure).")],
    *,
    on: On = None,
    actor: Actor = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Approve and apply a requested change (never one's own): the schedule is replaced."""
    with platform() as p:
        access = loan_changes(p)
        day = _day(on, p.clock.today())
        try:
            result = changes.approve_change(
                access.units,
                change_id,
                on=day,
                idempotency_key=_key(key, "cli-approve", change_id),
                actor=_actor(actor),
                clock=p.clock,
                policy=access.policy,
            )
        except PuhuiError as exc:
            raise _refused(exc) from None
    line = f"approved {change_id}: maturity {result.maturity_before} -> {result.maturity_after}"
    arrears = result.arrears()
    if arrears is not None:
        line += (
            f"; arrears of {arrears.days_past_due} days brought into the new schedule:"
            f" principal {format_yuan(arrears.principal_fen)} re-amortised, interest"
            f" {format_yuan(arrears.interest_fen)} and penalties"
            f" {format_yuan(arrears.penalty_fen)} due with the first new instalment"
        )
    _print(asdict(result), as_json, line)


def reject_change(
    change_id: Annotated[str, typer.Argument(help="Change id.")],
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the change).")],
    actor: Actor = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Reject (or withdraw) a requested change: nothing is applied."""
    with platform() as p:
        try:
            result = changes.reject_change(
                loan_changes(p).units,
                change_id,
                reason=reason,
                idempotency_key=_key(key, "cli-reject", change_id),
                actor=_actor(actor),
                clock=p.clock,
            )
        except PuhuiError as exc:
            raise _refused(exc) from None
    _print(asdict(result), as_json, f"rejected {change_id}")


def renew(
    loan_id: Annotated[str, typer.Argument(help="Loan id of the maturing loan.")],
    *,
    months: Annotated[int, typer.Option("--months", help="Term of the new loan in months.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept on the renewal's change, if approved).")
    ],
    on: On = None,
    actor: Actor = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Renew a maturing loan without principal repayment (无还本续贷).

    The active strategy's renewal mode decides."""
    with platform() as p:
        access = loan_changes(p)
        day = _day(on, p.clock.today())
        try:
            result = renewals.renew_loan(
                access.units,
                loan_id=loan_id,
                on=day,
                term_months=months,
                reason=reason,
                idempotency_key=_key(key, "cli-renew", loan_id, day),
                actor=_actor(actor),
                clock=p.clock,
                rules=access.current_renewal_rules(),
            )
        except PuhuiError as exc:
            raise _refused(exc) from None
    line = (
        f"renewed {loan_id} as {result.new_loan_id} from {result.starts_on}"
        if result.decision == "approved"
        else f"declined: {result.reasons}"
    )
    _print(asdict(result), as_json, line)


def pending(
    loan: Annotated[
        str | None,
        typer.Option("--loan", help="One loan's changes, every status, instead of the queue."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Changes awaiting approval, oldest first; with ``--loan``, that loan's changes."""
    with platform() as p:
        units = loan_changes(p).units
        if loan is None:
            records = changes.pending_changes(units, limit=200)
        else:
            try:
                records = changes.changes_of_loan(units, loan)
            except PuhuiError as exc:
                raise _refused(exc) from None
    if loan is None:
        docs = [_queued(r) for r in records]
        text = "\n".join(
            f"{d['change_id']}  {d['kind']:<13} {d['loan_id']}  {d['requested_by']}" for d in docs
        )
    else:
        docs = [asdict(changes.change_result(r)) for r in records]
        text = "\n".join(_history_line(r) for r in records)
    typer.echo(json.dumps(docs, indent=2, ensure_ascii=False) if as_json else text or "none")


def _queued(record: LoanChangeRecord) -> dict[str, Any]:
    return {
        "change_id": record.change_id,
        "loan_id": record.loan_id,
        "kind": record.kind.value,
        "effective_on": record.effective_on.isoformat(),
        "requested_by": record.requested_by,
        "reason": record.reason,
    }


def _history_line(record: LoanChangeRecord) -> str:
    line = (
        f"{record.change_id}  {record.kind.value:<13} {record.status:<9} effective"
        f" {record.effective_on}  requested by {record.requested_by}: {record.reason}"
    )
    if record.approved_by is not None:
        line += f"; approved by {record.approved_by}"
    if record.rejected_by is not None and record.rejected_at is not None:
        line += (
            f"; rejected by {record.rejected_by} on {record.rejected_at.date()}:"
            f" {record.rejection_reason}"
        )
    return line


def classify(
    loan_id: Annotated[str, typer.Argument(help="Loan id.")],
    *,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (default today).")] = None,
    as_json: Json = False,
) -> None:
    """The loan's 2023 five-category classification, with its reasons."""
    with platform() as p:
        day = _day(as_of, p.clock.today())
        result = classification.classify_loan(loan_changes(p).units, loan_id, day)
    doc = asdict(result)
    _print(
        doc,
        as_json,
        f"{loan_id}: {result.category} ({result.label_zh}) reasons={','.join(result.reasons)}",
    )


def register(group: typer.Typer) -> None:
    """Add the contract-change commands to the ``puhui loan`` group."""
    group.command("extend")(extend)
    group.command("restructure")(restructure)
    group.command("approve-change")(approve_change)
    group.command("reject-change")(reject_change)
    group.command("renew")(renew)
    group.command("changes")(pending)
    group.command("classify")(classify)
