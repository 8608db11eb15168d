"""``puhui partner``: lending with partners — agreements, loans, daily settlement, files.

``agreement create|activate|list``, ``link`` (tie a loan to an agreement), ``route --date``
(tie partners' customers' loans to their agreements), ``settle --date``
(post the partners' shares of the day), ``file`` (the day's settlement CSV), ``reconcile
--file`` (name every difference with a partner's file), ``position`` (a partner's sub-ledger)
and ``fees --month`` (pay a month's facilitation fees). See docs/partners.md.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from puhui.bootstrap.partners import partner_service
from puhui.cli.context import fail, platform
from puhui.cli.ledger import parse_business_date
from puhui.cli.security_context import operator_name
from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan, parse_yuan
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)
from puhui.domain.partners.errors import InvalidAgreement
from puhui.domain.partners.settlement import Position
from puhui.domain.partners.shares import parse_partner_share
from puhui.services.partners.use_cases import agreement_payload

app = typer.Typer(
    help="Lending with partners: joint lending (联合贷款) and facilitation (助贷).",
    no_args_is_help=True,
)
agreement_app = typer.Typer(help="Partner agreements.", no_args_is_help=True)
app.add_typer(agreement_app, name="agreement")


@app.callback()
def main() -> None:
    """Lending with partners: joint lending (联合贷款) and facilitation (助贷)."""


def _actor() -> str:
    return f"cli:{operator_name()}"


def _fraction(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidAgreement(f"{what} is not a decimal fraction: {text!r}") from None
    if not value.is_finite():
        raise InvalidAgreement(f"{what} must be finite, got {text!r}")
    return value


def _agreement_json(agreement: Agreement) -> dict[str, object]:
    document = agreement_payload(agreement)
    document["max_outstanding"] = format_yuan(agreement.limits.max_outstanding_fen)
    document["fee_per_loan"] = format_yuan(agreement.fees.per_loan_fen)
    del document["max_outstanding_fen"], document["fee_per_loan_fen"]
    return document


def _position_json(agreement_id: str, pos: Position) -> dict[str, object]:
    return {
        "agreement_id": agreement_id,
        "principal_funded": format_yuan(pos.principal_funded_fen),
        "principal_repaid": format_yuan(pos.principal_repaid_fen),
        "principal_outstanding": format_yuan(pos.principal_outstanding_fen),
        "interest": format_yuan(pos.interest_fen),
        "losses": format_yuan(pos.losses_fen),
        "recoveries": format_yuan(pos.recoveries_fen),
        "fees": format_yuan(pos.fees_fen),
    }


@agreement_app.command("create")
def create_command(
    *,
    agreement_id: Annotated[str, typer.Option("--id", help="Agreement id, e.g. AG-2026-001.")],
    partner_id: Annotated[str, typer.Option("--partner", help="Partner institution id.")],
    partner_name: Annotated[str, typer.Option("--name", help="Partner institution name.")],
    kind: Annotated[str, typer.Option(help="joint-lending | facilitation.")],
    valid_from: Annotated[str, typer.Option(help="First valid day, YYYY-MM-DD.")],
    valid_to: Annotated[str, typer.Option(help="Last valid day, YYYY-MM-DD.")],
    funding_share: Annotated[
        str, typer.Option(help="Partner's share of each draw (joint lending), 0 to 0.7.")
    ] = "0",
    approver: Annotated[str, typer.Option(help="Who approves: bank | both.")] = "bank",
    max_outstanding: Annotated[
        str, typer.Option(help="Max principal outstanding under the agreement, yuan (0: none).")
    ] = "0",
    max_portfolio_share: Annotated[
        str, typer.Option(help="Max share of the bank's book, a fraction (0: none).")
    ] = "0",
    fee_per_loan: Annotated[str, typer.Option(help="Facilitation fee per loan, yuan.")] = "0",
    fee_interest_share: Annotated[
        str, typer.Option(help="Facilitation fee as a share of interest received.")
    ] = "0",
    as_json: Annotated[bool, typer.Option("--json", help="Print the agreement as JSON.")] = False,
) -> None:
    """Create a partner agreement as a draft (activate it to use it)."""
    try:
        agreement = Agreement(
            agreement_id=agreement_id.strip(),
            partner_id=partner_id.strip(),
            partner_name=partner_name,
            kind=AgreementKind.parse(kind),
            funding_share=parse_partner_share(funding_share),
            approver=Approver.parse(approver),
            limits=ConcentrationLimits(
                max_outstanding_fen=parse_yuan(max_outstanding),
                max_portfolio_share=_fraction(max_portfolio_share, "max portfolio share"),
            ),
            fees=FeeTerms(
                per_loan_fen=parse_yuan(fee_per_loan),
                interest_share=_fraction(fee_interest_share, "fee share of interest"),
            ),
            valid_from=parse_business_date(valid_from),
            valid_to=parse_business_date(valid_to),
        )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    with platform() as p:
        created = partner_service(p).create_agreement(agreement, actor=_actor())
    _print_agreement(created, as_json)


@agreement_app.command("activate")
def activate_command(
    agreement_id: Annotated[str, typer.Argument(help="Agreement id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Activate a draft agreement (audited)."""
    with platform() as p:
        active = partner_service(p).activate(agreement_id, actor=_actor())
    _print_agreement(active, as_json)


@agreement_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the partner agreements."""
    with platform() as p:
        agreements = partner_service(p).agreements()
    if as_json:
        typer.echo(json.dumps([_agreement_json(a) for a in agreements], indent=2))
        return
    typer.echo(f"{'id':<16} {'partner':<16} {'kind':<14} {'share':>6} {'status':<9} valid")
    for a in agreements:
        typer.echo(
            f"{a.agreement_id:<16} {a.partner_id:<16} {a.kind.value:<14} "
            f"{a.funding_share!s:>6} {a.status.value:<9} {a.valid_from}..{a.valid_to}"
        )


def _print_agreement(agreement: Agreement, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_agreement_json(agreement), indent=2))
    else:
        typer.echo(
            f"agreement {agreement.agreement_id} ({agreement.kind.value}, partner "
            f"{agreement.partner_id}, share {agreement.funding_share}): {agreement.status.value}"
        )


@app.command("link")
def link_command(
    *,
    agreement_id: Annotated[str, typer.Option("--agreement", help="Agreement id.")],
    loan_id: Annotated[str, typer.Option("--loan", help="Loan or receipt id.")],
    on: Annotated[str, typer.Option(help="Date of the tie, YYYY-MM-DD.")],
    channel: Annotated[str, typer.Option(help="Channel the loan came through.")] = "partner",
) -> None:
    """Tie a loan (or draw) to an agreement; a concentration breach is refused."""
    day = parse_business_date(on)
    with platform() as p:
        link = partner_service(p).link_loan(
            agreement_id, loan_id, channel=channel, on=day, actor=_actor()
        )
    typer.echo(f"loan {link.loan_id} under {link.agreement_id} (channel {link.channel})")


@app.command("settle")
def settle_command(
    settle_date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    agreement_id: Annotated[
        str | None, typer.Option("--agreement", help="One agreement (default: all active).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Post the partners' shares of the day's repayments, write-offs and recoveries."""
    day = parse_business_date(settle_date)
    with platform() as p:
        reports = partner_service(p).settle(day, actor=_actor(), agreement_id=agreement_id)
    document = [
        {
            "agreement_id": r.agreement_id,
            "date": r.settled_on.isoformat(),
            "rows": len(r.rows),
            "entries_posted": r.entries_posted,
            "partner_total": format_yuan(sum(row.partner_fen for row in r.rows)),
            "replayed": r.replayed,
        }
        for r in reports
    ]
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    for d in document:
        typer.echo(
            f"{d['agreement_id']} {d['date']}: {d['rows']} rows, {d['entries_posted']} entries, "
            f"partner {d['partner_total']}{' (already settled)' if d['replayed'] else ''}"
        )


@app.command("route")
def route_command(
    route_date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Put partners' loans drawn through the date under their agreements.

    Run it before ``settle``. Joint lending waits for the partner's approval when the
    partner approves too."""
    day = parse_business_date(route_date)
    with platform() as p:
        reports = partner_service(p).route(day, actor=_actor())
    document = [
        {
            "agreement_id": r.agreement_id,
            "date": r.on.isoformat(),
            "linked": [link.loan_id for link in r.linked],
            "not_linked": dict(r.not_linked),
        }
        for r in reports
    ]
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    for r in reports:
        reasons = Counter(r.not_linked.values())
        typer.echo(
            f"{r.agreement_id} {r.on.isoformat()}: {len(r.linked)} linked"
            + "".join(f", {n} {reason}" for reason, n in sorted(reasons.items()))
        )


@app.command("file")
def file_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="Agreement id.")],
    settle_date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the CSV here (default: stdout).")
    ] = None,
) -> None:
    """The day's settlement file: CSV, one row per loan and component."""
    day = parse_business_date(settle_date)
    with platform() as p:
        text = partner_service(p).settlement_file(agreement_id, day)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("reconcile")
def reconcile_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="Agreement id.")],
    settle_date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    file: Annotated[Path, typer.Option("--file", help="The partner's settlement file (CSV).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compare a partner's file with ours; exit 1 and name every difference if any."""
    day = parse_business_date(settle_date)
    try:
        theirs = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}", code="invalid_file") from None
    with platform() as p:
        differences = partner_service(p).reconcile(agreement_id, day, theirs)
    document = [
        {
            "loan_id": d.loan_id,
            "component": d.component,
            "ours": None if d.ours_fen is None else format_yuan(d.ours_fen),
            "theirs": None if d.theirs_fen is None else format_yuan(d.theirs_fen),
        }
        for d in differences
    ]
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    elif not document:
        typer.echo("the files agree")
    else:
        for d in document:
            typer.echo(
                f"{d['loan_id']} {d['component']}: ours {d['ours'] or '-'}, "
                f"theirs {d['theirs'] or '-'}"
            )
    if document:
        raise typer.Exit(1)


@app.command("position")
def position_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="Agreement id.")],
    through: Annotated[str | None, typer.Option(help="Up to this date, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A partner's sub-ledger: principal, interest, losses, recoveries, fees."""
    day: date | None = parse_business_date(through) if through else None
    with platform() as p:
        pos = partner_service(p).position(agreement_id, through=day)
    document = _position_json(agreement_id, pos)
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    else:
        for key, value in document.items():
            typer.echo(f"{key:<22} {value}")


@app.command("fees")
def fees_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="Agreement id.")],
    month: Annotated[str, typer.Option(help="Month to settle, YYYY-MM.")],
) -> None:
    """Pay a month's facilitation fees through the ledger (Dr 2244 / Cr 1002)."""
    with platform() as p:
        paid = partner_service(p).settle_fees(agreement_id, month=month, actor=_actor())
    note = " (already paid)" if paid.replayed else ""
    typer.echo(f"{agreement_id} {month}: fees {format_yuan(paid.amount_fen)}{note}")
