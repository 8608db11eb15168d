"""``puhui loan``: term-loan calculations that need no database (schedules)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidDate, InvalidInput, PuhuiError
from puhui.domain.lending.product import RepaymentMethod
from puhui.domain.lending.schedule import Instalment, build_schedule
from puhui.domain.money import Rounding, format_yuan, parse_rate, parse_yuan
from puhui.domain.partners.shares import parse_partner_share, split

app = typer.Typer(help="Term loans: repayment schedules.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Term loans: repayment schedules."""


_SCHEDULE_METHODS = [m.value for m in RepaymentMethod if m.has_schedule]


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate(f"{what} is not an ISO date (YYYY-MM-DD): {text!r}") from None


def _parse_method(text: str) -> RepaymentMethod:
    method = RepaymentMethod.parse(text)
    if not method.has_schedule:
        raise InvalidInput(
            f"{method.value} has no schedule; choose one of {', '.join(_SCHEDULE_METHODS)}"
        )
    return method


def _parse_rounding(text: str) -> Rounding:
    for rounding in Rounding:
        if rounding.value == text.strip().lower():
            return rounding
    raise InvalidInput(f"unknown rounding {text!r}; choose half-up or half-even")


def instalment_json(row: Instalment) -> dict[str, object]:
    return {
        "period": row.period,
        "due_date": row.due_date.isoformat(),
        "principal": format_yuan(row.principal_fen),
        "interest": format_yuan(row.interest_fen),
        "payment": format_yuan(row.payment_fen),
        "balance": format_yuan(row.balance_fen),
    }


def shared_instalment_json(row: Instalment, partner_share: Decimal) -> dict[str, object]:
    """One period with the partner's and the bank's parts of principal and interest.

    The partner's part is the component × share rounded half-up to the fen; the bank's is the
    remainder, so the two add up to the period's figure exactly.
    """
    principal = split(row.principal_fen, partner_share)
    interest = split(row.interest_fen, partner_share)
    return {
        **instalment_json(row),
        "partner_principal": format_yuan(principal.partner_fen),
        "partner_interest": format_yuan(interest.partner_fen),
        "bank_principal": format_yuan(principal.bank_fen),
        "bank_interest": format_yuan(interest.bank_fen),
    }


def _table(rows: list[Instalment], partner_share: Decimal | None = None) -> str:
    shared = partner_share is not None
    header = f"{'period':>6}  {'due date':<10}  {'principal':>14}  {'interest':>12}  "
    header += f"{'payment':>14}  {'balance':>14}"
    if shared:
        header += f"  {'partner princ.':>14}  {'partner int.':>12}"
        header += f"  {'bank princ.':>14}  {'bank int.':>12}"
    lines = [header, "-" * len(header)]
    for r in rows:
        line = (
            f"{r.period:>6}  {r.due_date.isoformat():<10}  {format_yuan(r.principal_fen):>14}  "
            f"{format_yuan(r.interest_fen):>12}  {format_yuan(r.payment_fen):>14}  "
            f"{format_yuan(r.balance_fen):>14}"
        )
        if partner_share is not None:
            p, i = split(r.principal_fen, partner_share), split(r.interest_fen, partner_share)
            line += (
                f"  {format_yuan(p.partner_fen):>14}  {format_yuan(i.partner_fen):>12}"
                f"  {format_yuan(p.bank_fen):>14}  {format_yuan(i.bank_fen):>12}"
            )
        lines.append(line)
    lines.append("-" * len(header))
    principal = sum(r.principal_fen for r in rows)
    interest = sum(r.interest_fen for r in rows)
    lines.append(
        f"{'total':>6}  {'':<10}  {format_yuan(principal):>14}  {format_yuan(interest):>12}  "
        f"{format_yuan(principal + interest):>14}"
    )
    return "\n".join(lines)


@app.command()
def schedule(
    *,
    principal: Annotated[str, typer.Option(help="Loan amount in yuan, e.g. 100000 or 2500.50.")],
    annual_rate: Annotated[str, typer.Option(help="Annual rate as a fraction, e.g. 0.0435.")],
    months: Annotated[int, typer.Option(help="Term in months.")],
    method: Annotated[
        str, typer.Option(help=f"Repayment method: {' | '.join(_SCHEDULE_METHODS)}.")
    ],
    start: Annotated[str, typer.Option(help="Disbursement date, YYYY-MM-DD.")],
    basis: Annotated[
        str, typer.Option(help="Day count for a broken first period: act/360 | act/365 | 30/360.")
    ] = "act/360",
    first_due: Annotated[
        str | None,
        typer.Option(
            help="First due date (default: one month after start); later ones follow "
            "monthly on its day. A first period that is not one month accrues by actual days."
        ),
    ] = None,
    rounding: Annotated[str, typer.Option(help="half-up (四舍五入) | half-even.")] = "half-up",
    partner_share: Annotated[
        str | None,
        typer.Option(
            help="Joint lending: the partner's funding share, a decimal from 0 to 0.7 (the bank "
            "keeps at least 30%). Adds partner_principal, partner_interest, bank_principal and "
            "bank_interest to each period: partner = component × share half-up to the fen, "
            "bank = the remainder."
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print a JSON array of {"period","due_date","principal","interest","payment",'
            '"balance"}, amounts as yuan strings with two places; balance is after the period.',
        ),
    ] = False,
) -> None:
    """Print the repayment schedule of a term loan.

    Regular monthly periods charge annual/12 on the rounded carried balance; each amount is
    rounded once to the fen and the last instalment absorbs the remainder.
    """
    try:
        share = parse_partner_share(partner_share) if partner_share is not None else None
        rows = build_schedule(
            parse_yuan(principal),
            parse_rate(annual_rate),
            months,
            _parse_method(method),
            parse_date(start, "start"),
            basis=DayCountBasis.parse(basis),
            rounding=_parse_rounding(rounding),
            first_due_date=parse_date(first_due, "first due date") if first_due else None,
        )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if as_json:
        periods = [
            instalment_json(r) if share is None else shared_instalment_json(r, share) for r in rows
        ]
        typer.echo(json.dumps(periods, indent=2))
    else:
        typer.echo(_table(rows, share))
