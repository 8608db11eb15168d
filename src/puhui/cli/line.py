"""``puhui line``: revolving credit lines — a simulation without a database, and statements."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from puhui.cli.context import fail, platform
from puhui.cli.loan import parse_date
from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import InvalidAmount, InvalidInput, PuhuiError
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.revolving import (
    DEFAULT_SETTLEMENT_DAY,
    LineEvent,
    LineEventKind,
    LineSimulation,
    simulate_line,
)
from puhui.domain.money import format_yuan, parse_rate, parse_yuan, round_fen
from puhui.services.servicing.statements import (
    Balances,
    Statement,
    line_statement,
    parse_period,
)

app = typer.Typer(help="Revolving credit lines (随借随还).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Revolving credit lines (随借随还)."""


_KINDS = {kind.value: kind for kind in LineEventKind}


class InputFileError(InvalidInput):
    code = "invalid_file"


class InvalidJson(InvalidInput):
    code = "invalid_json"


def _amount(value: Any, what: str) -> int:
    if isinstance(value, (dict, list)) or value is None:
        raise InvalidAmount(f"{what} must be a decimal amount in yuan, got {value!r}")
    return parse_yuan(value)


def parse_events_file(text: str) -> tuple[int, Decimal, list[LineEvent]]:
    """Read ``{"limit","annual_rate","events":[{"date","type","amount"}]}``; numbers exact."""
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"file is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise InputFileError('file must hold an object {"limit","annual_rate","events"}')
    missing = [key for key in ("limit", "annual_rate", "events") if key not in document]
    if missing:
        raise InputFileError(f"file is missing {', '.join(missing)}")
    limit_fen = _amount(document["limit"], "limit")
    if limit_fen <= 0:
        raise InvalidAmount(f"limit must be positive, got {document['limit']}")
    rate_value = document["annual_rate"]
    if not isinstance(rate_value, (str, int, Decimal)) or isinstance(rate_value, bool):
        raise InvalidInput(f"annual_rate must be a decimal number, got {rate_value!r}")
    annual_rate = parse_rate(rate_value)
    raw_events = document["events"]
    if not isinstance(raw_events, list):
        raise InputFileError("events must be a list")
    events = [_event(i, raw) for i, raw in enumerate(raw_events, start=1)]
    return limit_fen, annual_rate, events


def _event(index: int, raw: Any) -> LineEvent:
    try:
        if not isinstance(raw, dict):
            raise InputFileError('an event must be an object {"date","type","amount"}')
        kind_text = raw.get("type")
        if not isinstance(kind_text, str) or kind_text.strip().lower() not in _KINDS:
            raise InvalidInput(f"unknown event type {kind_text!r}; choose draw, repay or payoff")
        kind = _KINDS[kind_text.strip().lower()]
        day_text = raw.get("date")
        if not isinstance(day_text, str):
            raise InvalidInput(f"date must be a YYYY-MM-DD string, got {day_text!r}")
        on = parse_date(day_text)
        amount = raw.get("amount")
        amount_fen = None if amount is None else _amount(amount, "amount")
        return LineEvent(on, kind, amount_fen)
    except PuhuiError as exc:
        exc.message = f"event {index}: {exc.message}"
        raise


def simulation_json(
    result: LineSimulation, basis: DayCountBasis, settlement_day: int
) -> dict[str, Any]:
    return {
        "limit": format_yuan(result.limit_fen),
        "annual_rate": str(result.annual_rate),
        "basis": basis.value,
        "settlement_day": settlement_day,
        "settlements": [
            {
                "date": s.on.isoformat(),
                "kind": s.kind.value,
                "interest": format_yuan(s.interest_fen),
                "principal": format_yuan(s.principal_fen),
                "balance": format_yuan(s.balance_fen),
            }
            for s in result.settlements
        ],
        "totals": {
            "interest": format_yuan(result.interest_fen),
            "principal": format_yuan(result.principal_repaid_fen),
            "drawn": format_yuan(result.drawn_fen),
            "balance": format_yuan(result.balance_fen),
            "available": format_yuan(result.available_fen),
            "accrued_unsettled": format_yuan(round_fen(result.accrued_unsettled_fen)),
        },
    }


def _table(doc: dict[str, Any]) -> str:
    lines = [
        f"limit {doc['limit']}  annual rate {doc['annual_rate']}  basis {doc['basis']}  "
        f"settlement day {doc['settlement_day']}",
        f"{'date':<10}  {'kind':<14}  {'interest':>12}  {'principal':>14}  {'balance':>14}",
    ]
    for s in doc["settlements"]:
        lines.append(
            f"{s['date']:<10}  {s['kind']:<14}  {s['interest']:>12}  {s['principal']:>14}  "
            f"{s['balance']:>14}"
        )
    t = doc["totals"]
    lines.append(
        f"{'total':<10}  {'':<14}  {t['interest']:>12}  {t['principal']:>14}  {t['balance']:>14}"
    )
    lines.append(
        f"drawn {t['drawn']}  available {t['available']}  "
        f"accrued, not yet settled {t['accrued_unsettled']}"
    )
    return "\n".join(lines)


@app.command()
def simulate(
    *,
    file: Annotated[
        Path,
        typer.Option(
            help='JSON file {"limit","annual_rate","events":[{"date","type","amount"}]}: '
            "limit and amounts in yuan (strings or numbers), type draw | repay | payoff "
            "(payoff has no amount), events in date order.",
        ),
    ],
    basis: Annotated[str, typer.Option(help="act/360 | act/365 (year days).")] = "act/360",
    settlement_day: Annotated[
        int, typer.Option(help="结息日: day of month interest is settled (1-28).")
    ] = DEFAULT_SETTLEMENT_DAY,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (shape below).")] = False,
) -> None:
    """Simulate a revolving line: 积数 interest, settled on the 20th and at each repayment.

    Each day accrues on the balance at its end: the draw day accrues, the repayment day
    only on what is left. The exact balance-days sum is rounded half-up once per settlement.

    A repay amount is principal; interest to the day before is settled with it. A payoff
    repays all principal.

    --json prints {"limit", "annual_rate", "basis", "settlement_day", "settlements": [{"date",
    "kind", "interest", "principal", "balance"}], "totals": {"interest", "principal", "drawn",
    "balance", "available", "accrued_unsettled"}}.

    kind is settlement-day, repayment or payoff; amounts are yuan strings with two places;
    balance is after the settlement; accrued_unsettled is interest accrued through the last
    event's day and not yet settled (rounded for display only).
    """
    try:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputFileError(f"no such file: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"cannot read {file}: {exc}") from None
        limit_fen, annual_rate, events = parse_events_file(text)
        day_basis = DayCountBasis.parse(basis)
        result = simulate_line(
            limit_fen, annual_rate, events, basis=day_basis, settlement_day=settlement_day
        )
    except PuhuiError as exc:
        raise fail(" ".join(exc.message.split()), code=exc.code) from None
    doc = simulation_json(result, day_basis, settlement_day)
    typer.echo(json.dumps(doc, indent=2) if as_json else _table(doc))


def _balances_json(b: Balances) -> dict[str, str]:
    return {
        "principal": format_yuan(b.principal_fen),
        "interest": format_yuan(b.interest_fen),
        "penalty": format_yuan(b.penalty_fen),
        "total": format_yuan(b.total_fen),
    }


def statement_json(s: Statement) -> dict[str, Any]:
    """A statement as JSON: amounts in yuan strings with two places, dates ISO."""
    return {
        "line_id": s.line_id,
        "period": f"{s.period.year:04d}-{s.period.month:02d}",
        "from": s.period.start.isoformat(),
        "to": s.period.end.isoformat(),
        "final": s.final,
        "opening": _balances_json(s.opening),
        "movements": [
            {
                "date": m.on.isoformat(),
                "from": m.from_date.isoformat() if m.from_date else None,
                "kind": m.kind.value,
                "label_zh": m.kind.label_zh,
                "label_en": m.kind.label_en,
                "receipt_id": m.receipt_id,
                "amount": format_yuan(m.amount_fen),
                "change": _balances_json(m.change),
            }
            for m in s.movements
        ],
        "closing": _balances_json(s.closing),
        "due": {
            "principal": format_yuan(s.due.principal_fen),
            "interest": format_yuan(s.due.interest_fen),
            "penalty": format_yuan(s.due.penalty_fen),
            "date": s.due.due_date.isoformat() if s.due.due_date else None,
        },
    }


def _statement_table(doc: dict[str, Any]) -> str:
    mark = "" if doc["final"] else "  (provisional 未结清: end of day has not closed the period)"
    lines = [
        f"对账单 statement {doc['line_id']}  {doc['period']}: {doc['from']} .. {doc['to']}{mark}",
        f"{'opening 期初':<24}{doc['opening']['total']:>18}",
    ]
    for m in doc["movements"]:
        label = f"{m['label_zh']} {m['label_en']}"
        lines.append(f"  {m['date']}  {label:<40}{m['amount']:>16}  {m['receipt_id']}")
    due = doc["due"]
    lines += [
        f"{'closing 期末':<24}{doc['closing']['total']:>18}",
        f"due 应还 {due['date'] or '-'}: principal {due['principal']}, interest "
        f"{due['interest']}, penalty {due['penalty']}",
    ]
    return "\n".join(lines)


@app.command()
def statement(
    *,
    line: Annotated[str, typer.Option(help="Credit line id.")],
    period: Annotated[
        str, typer.Option(help="Interest cycle YYYY-MM (21st of the month before to the 20th).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The statement (对账单) of a credit line for one interest cycle, from the database.

    Opening and closing balances, every movement (draws, repayments, accruals, write-offs,
    recoveries) and what is due on the day after settlement; read from stored records only.
    """
    with platform() as p:
        year, month = parse_period(period)
        found = line_statement(
            p.servicing_reader,
            CreditLineId(line),
            year=year,
            month=month,
            today=p.clock.today(),
        )
    doc = statement_json(found)
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False) if as_json else _statement_table(doc))
