"""``puhui guarantee``: guarantee agencies (银担合作) — agencies, batch agreements, covered
loans, claims at the trigger and the exposure report (docs/guarantees.md).

Money is in yuan; shares and rates are decimals (0.8 = 80 %). The CLI acts as the platform
(``--actor`` names the person for the audit trail).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import typer

from puhui.bootstrap.guarantees import guarantee_service
from puhui.cli.context import fail, platform
from puhui.domain.guarantees.agreements import Agreement, FeeMode
from puhui.domain.money import format_yuan, parse_yuan
from puhui.services.guarantees.ports import Claim, ExposureRow
from puhui.services.guarantees.use_cases import AgreementTerms

app = typer.Typer(
    help="Guarantee agencies (银担合作): agreements, covers, claims, exposure.",
    no_args_is_help=True,
)
agency_app = typer.Typer(help="Guarantee agencies.", no_args_is_help=True)
agreement_app = typer.Typer(help="Batch guarantee agreements.", no_args_is_help=True)
claims_app = typer.Typer(help="Claims on covered loans.", no_args_is_help=True)
fees_app = typer.Typer(help="Fees of periodic agreements.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")
app.add_typer(agreement_app, name="agreement")
app.add_typer(claims_app, name="claims")
app.add_typer(fees_app, name="fees")

ACTOR = typer.Option("cli", "--actor", help="Who acts, for the audit trail.")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


@app.callback()
def main() -> None:
    """Guarantee agencies (银担合作): agreements, covers, claims, exposure."""


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: not a date (YYYY-MM-DD): {text!r}", code="invalid_date") from None


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail(f"{option}: not a decimal: {text!r}", code="invalid_input") from None
    if not value.is_finite():
        raise fail(f"{option}: not a decimal: {text!r}", code="invalid_input")
    return value


def _agreement_dict(a: Agreement) -> dict[str, Any]:
    return {
        "agreement_id": a.agreement_id,
        "agency_id": a.agency_id,
        "product_id": a.product_id,
        "channel": a.channel,
        "coverage_share": format(a.coverage_share, "f"),
        "fee_rate": format(a.fee_rate, "f"),
        "fee_mode": a.fee_mode.value,
        "borrower_cap": format_yuan(a.borrower_cap_fen),
        "portfolio_cap": format_yuan(a.portfolio_cap_fen),
        "claim_trigger_days": a.claim_trigger_days,
        "valid_from": a.valid_from.isoformat(),
        "valid_to": a.valid_to.isoformat(),
        "counter_guarantee_waived": a.counter_guarantee_waived,
    }


def _claim_dict(c: Claim) -> dict[str, Any]:
    return {
        "claim_id": c.claim_id,
        "loan_id": c.loan_id,
        "agreement_id": c.agreement_id,
        "status": c.status,
        "raised_on": c.raised_on.isoformat(),
        "days_past_due": c.days_past_due,
        "principal": format_yuan(c.principal_fen),
        "interest": format_yuan(c.interest_fen),
        "claim": format_yuan(c.claim_fen),
        "paid_on": c.paid_on.isoformat() if c.paid_on else None,
        "released_on": c.released_on.isoformat() if c.released_on else None,
        "returned_on": c.returned_on.isoformat() if c.returned_on else None,
    }


def _exposure_dict(row: ExposureRow) -> dict[str, Any]:
    values: dict[str, Any] = asdict(row)
    return {
        (key[: -len("_fen")] if key.endswith("_fen") else key): (
            format_yuan(value) if key.endswith("_fen") else value
        )
        for key, value in values.items()
    }


@agency_app.command("create")
def agency_create(
    name: str = typer.Option(..., "--name", help="The agency's name."),
    uscc: str = typer.Option(..., "--uscc", help="Its unified social credit code (18)."),
    actor: str = ACTOR,
) -> None:
    """Record a guarantee agency (the same USCC returns the one recorded)."""
    with platform() as p:
        agency = guarantee_service(p).create_agency(name=name, uscc=uscc, actor=actor)
    typer.echo(f"{agency.agency_id}\t{agency.uscc}\t{agency.name}")


@agency_app.command("list")
def agency_list() -> None:
    with platform() as p:
        for agency in guarantee_service(p).agencies():
            typer.echo(f"{agency.agency_id}\t{agency.uscc}\t{agency.name}")


@agreement_app.command("create")
def agreement_create(  # noqa: PLR0917 - one option per term, as Typer declares them
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    coverage: str = typer.Option(..., "--coverage", help="Covered share of a loss, e.g. 0.8."),
    fee_rate: str = typer.Option(..., "--fee-rate", help="Annual fee rate, e.g. 0.01."),
    fee_mode: str = typer.Option("at_draw", "--fee-mode", help="at_draw or periodic."),
    borrower_cap: str = typer.Option(..., "--borrower-cap", help="Cap per borrower, yuan."),
    portfolio_cap: str = typer.Option(..., "--portfolio-cap", help="Portfolio cap, yuan."),
    valid_from: str = typer.Option(..., "--from", help="First day in force, YYYY-MM-DD."),
    valid_to: str = typer.Option(..., "--to", help="Last day in force, YYYY-MM-DD."),
    trigger_days: int = typer.Option(90, "--trigger-days", help="Claim at this many DPD."),
    waived: bool = typer.Option(
        False, "--counter-guarantee-waived", help="The agency waives counter-guarantees."
    ),
    product: str | None = typer.Option(None, "--product", help="Only loans of this product."),
    channel: str | None = typer.Option(
        None, "--channel", help="Applications through this channel are decided with the cover."
    ),
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Record a batch guarantee agreement."""
    try:
        mode = FeeMode(fee_mode)
    except ValueError:
        raise fail("--fee-mode: at_draw or periodic", code="invalid_input") from None
    terms = AgreementTerms(
        agency_id=agency,
        coverage_share=_decimal(coverage, "--coverage"),
        fee_rate=_decimal(fee_rate, "--fee-rate"),
        fee_mode=mode,
        borrower_cap_fen=parse_yuan(borrower_cap),
        portfolio_cap_fen=parse_yuan(portfolio_cap),
        valid_from=_date(valid_from, "--from"),
        valid_to=_date(valid_to, "--to"),
        claim_trigger_days=trigger_days,
        counter_guarantee_waived=waived,
        product_id=product,
        channel=channel,
    )
    with platform() as p:
        made = guarantee_service(p).create_agreement(terms, actor=actor)
    if as_json:
        typer.echo(json.dumps(_agreement_dict(made), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"agreement {made.agreement_id} created")


@agreement_app.command("list")
def agreement_list(
    agency: str | None = typer.Option(None, "--agency", help="Only this agency's."),
    as_json: bool = JSON,
) -> None:
    with platform() as p:
        found = guarantee_service(p).agreements(agency)
    if as_json:
        typer.echo(json.dumps([_agreement_dict(a) for a in found], ensure_ascii=False, indent=2))
        return
    for a in found:
        typer.echo(
            f"{a.agreement_id}\t{a.agency_id}\tshare {a.coverage_share}\tfee {a.fee_rate} "
            f"{a.fee_mode.value}\tcap {format_yuan(a.portfolio_cap_fen)}\t"
            f"{a.valid_from}..{a.valid_to}"
        )


@app.command("cover")
def cover(
    loan: str = typer.Option(..., "--loan", help="The loan (receipt) id."),
    agreement: str = typer.Option(..., "--agreement", help="The agreement id."),
    on: str = typer.Option(..., "--on", help="Business date, YYYY-MM-DD."),
    actor: str = ACTOR,
) -> None:
    """Cover a drawn loan under an agreement (an at-draw fee is collected)."""
    day = _date(on, "--on")
    with platform() as p:
        done = guarantee_service(p).cover_loan(
            loan_id=loan, agreement_id=agreement, on=day, actor=actor
        )
    fee = format_yuan(done.fee.amount_fen) if done.fee else "-"
    typer.echo(f"{loan}\tcovered {format_yuan(done.cover.covered_fen)}\tfee {fee}")


@claims_app.command("run")
def claims_run(
    as_of: str = typer.Option(..., "--as-of", help="Business date, YYYY-MM-DD."),
    as_json: bool = JSON,
) -> None:
    """The daily job: withdraw, raise and release claims.

    Claims of cured loans are withdrawn, claims are raised at the trigger, and the
    compensation is released at write-off.
    """
    day = _date(as_of, "--as-of")
    with platform() as p:
        run = guarantee_service(p).run_claims(day)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "as_of": day.isoformat(),
                    "raised": [_claim_dict(c) for c in run.raised],
                    "released": [_claim_dict(c) for c in run.released],
                    "withdrawn": [_claim_dict(c) for c in run.withdrawn],
                    "returned": [_claim_dict(c) for c in run.returned],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    typer.echo(
        f"claims on {day}: {len(run.raised)} raised, {len(run.released)} released, "
        f"{len(run.withdrawn)} withdrawn, {len(run.returned)} returned"
    )
    for c in run.raised:
        typer.echo(f"  raised {c.loan_id}\t{c.days_past_due} DPD\t{format_yuan(c.claim_fen)}")


@fees_app.command("run")
def fees_run(
    as_of: str = typer.Option(..., "--as-of", help="Business date, YYYY-MM-DD."),
    as_json: bool = JSON,
) -> None:
    """Collect every monthly fee period of periodic agreements started by the date."""
    day = _date(as_of, "--as-of")
    with platform() as p:
        fees = guarantee_service(p).collect_due_fees(day)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "loan_id": f.loan_id,
                        "period_from": f.period_from.isoformat(),
                        "period_to": f.period_to.isoformat(),
                        "principal": format_yuan(f.principal_fen),
                        "amount": format_yuan(f.amount_fen),
                    }
                    for f in fees
                ],
                indent=2,
            )
        )
        return
    typer.echo(
        f"fees on {day}: {len(fees)} periods, {format_yuan(sum(f.amount_fen for f in fees))}"
    )


@claims_app.command("list")
def claims_list(
    status: str | None = typer.Option(
        None, "--status", help="raised, paid, withdrawn or returned."
    ),
    as_json: bool = JSON,
) -> None:
    with platform() as p:
        found = guarantee_service(p).claims(status)
    if as_json:
        typer.echo(json.dumps([_claim_dict(c) for c in found], ensure_ascii=False, indent=2))
        return
    for c in found:
        typer.echo(f"{c.loan_id}\t{c.status}\t{c.raised_on}\t{format_yuan(c.claim_fen)}")


@claims_app.command("pay")
def claims_pay(
    loan: str = typer.Option(..., "--loan", help="The loan (receipt) id."),
    on: str = typer.Option(..., "--on", help="Date the agency paid, YYYY-MM-DD."),
    actor: str = ACTOR,
) -> None:
    """Record the agency's payment of a claim."""
    day = _date(on, "--on")
    with platform() as p:
        claim = guarantee_service(p).pay_claim(loan_id=loan, on=day, actor=actor)
    typer.echo(f"{loan}\tpaid {format_yuan(claim.claim_fen)} on {day}")


@app.command("remit")
def remit(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    on: str = typer.Option(..., "--on", help="Business date, YYYY-MM-DD."),
    key: str = typer.Option(..., "--key", help="Idempotency key: a retry pays nothing twice."),
    actor: str = ACTOR,
) -> None:
    """Pay on to the agency the fees collected for it and its recovery shares."""
    day = _date(on, "--on")
    with platform() as p:
        done = guarantee_service(p).remit(
            agency_id=agency, on=day, idempotency_key=key, actor=actor
        )
    typer.echo(
        f"{agency}\tfees {format_yuan(done.fees_fen)}\t"
        f"recoveries {format_yuan(done.recoveries_fen)}\ton {day}"
    )


@app.command("exposure")
def exposure(as_json: bool = JSON) -> None:
    """Exposure and claims by agency and agreement (yuan)."""
    with platform() as p:
        rows = guarantee_service(p).exposure()
    if as_json:
        typer.echo(json.dumps([_exposure_dict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"{'agency':<24} {'agreement':<32} {'loans':>5} {'covered':>16} {'cap':>16} "
        f"{'fees':>12} {'claims':>5} {'paid':>16} {'recovered':>14}"
    )
    for r in rows:
        typer.echo(
            f"{r.agency_name[:24]:<24} {r.agreement_id:<32} {r.loans_covered:>5} "
            f"{format_yuan(r.covered_fen):>16} {format_yuan(r.portfolio_cap_fen):>16} "
            f"{format_yuan(r.fees_fen):>12} {r.claims_raised:>5} "
            f"{format_yuan(r.claims_paid_fen):>16} {format_yuan(r.agency_recovered_fen):>14}"
        )
