"""Scenarios of voucher events run on a :class:`VoucherBook` (``puhui voucher simulate``).

A scenario is the JSON document of issue #17, already loaded (this module reads no file)::

    {"events": [
        {"type": "issue", "id": "V1", "core": "C", "holder": "S1", "face": "1000.00",
         "date": "2026-01-05", "maturity": "2026-07-05"},
        {"type": "split", "voucher": "V1", "date": "2026-02-01",
         "parts": [{"id": "V1-1", "amount": "400.00"}, {"id": "V1-2", "amount": "600.00"}]},
        {"type": "transfer", "voucher": "V1-1", "date": "2026-02-02", "to": "S2"},
        {"type": "finance", "voucher": "V1-2", "date": "2026-03-01",
         "annual_rate": "0.0435", "fee_rate": "0.001"},
        {"type": "settle", "date": "2026-07-05"}],
     "facilities": {"C": "5000000.00"},          (optional: per-core facility, yuan)
     "enterprises": ["C", "S1", "S2"]}           (optional: then unknown names are refused)

Amounts are yuan strings ("1000.00"), rates decimal fractions as strings ("0.0435"), dates
``YYYY-MM-DD``. An issue is issued and accepted at once. Split, transfer and finance are
done by the voucher's holder unless the event names another actor in ``"by"``; an issue
may name its invoice in ``"invoice"``. Events must come in date order. The first event
that is malformed or refused stops the run with :class:`EventFailed` (its 1-based index
and the named error); a malformed document raises the named error itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, PuhuiError
from puhui.domain.money import format_yuan, parse_rate, parse_yuan
from puhui.domain.supply_chain.book import VoucherBook

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REQUIRED: dict[str, frozenset[str]] = {
    "issue": frozenset({"id", "core", "holder", "face", "date", "maturity"}),
    "split": frozenset({"voucher", "date", "parts"}),
    "transfer": frozenset({"voucher", "date", "to"}),
    "finance": frozenset({"voucher", "date", "annual_rate"}),
    "settle": frozenset({"date"}),
}
_OPTIONAL: dict[str, frozenset[str]] = {
    "issue": frozenset({"invoice"}),
    "split": frozenset({"by"}),
    "transfer": frozenset({"by"}),
    "finance": frozenset({"by", "fee_rate"}),
    "settle": frozenset(),
}
_TOP_LEVEL = frozenset({"events", "facilities", "enterprises"})


class UnknownEventType(InvalidInput):
    code = "unknown_event_type"


class EventOutOfOrder(InvalidDate):
    """An event is dated before the event that comes before it."""

    code = "event_out_of_order"


class EventFailed(Exception):
    """Event ``index`` (1-based) of the scenario is malformed or refused by a rule."""

    def __init__(self, index: int, error: PuhuiError) -> None:
        super().__init__(f"event {index}: {error.message}")
        self.index = index
        self.error = error

    @property
    def code(self) -> str:
        return self.error.code


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event[key]
    if not isinstance(value, str):
        raise InvalidInput(f"{key!r} must be a string, got {value!r}")
    return value


def _date(event: Mapping[str, Any], key: str) -> date:
    value = event[key]
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidDate(f"{key!r} must be a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidDate(f"{key!r} is not a calendar date: {value!r}") from None


def _yuan(value: object, what: str) -> int:
    if not isinstance(value, str):
        raise InvalidAmount(f'{what} must be a yuan string such as "1000.00", got {value!r}')
    return parse_yuan(value)


def _rate(value: object, what: str) -> Decimal:
    if not isinstance(value, str):
        raise InvalidInput(f'{what} must be a decimal string such as "0.0435", got {value!r}')
    return parse_rate(value, what=what)


def _shape(event: object) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(event, dict):
        raise InvalidInput(f"an event must be an object, got {type(event).__name__}")
    kind = event.get("type")
    if kind not in _REQUIRED:
        raise UnknownEventType(
            f"unknown event type {kind!r}; expected one of {', '.join(sorted(_REQUIRED))}"
        )
    keys = set(event) - {"type"}
    missing = _REQUIRED[kind] - keys
    if missing:
        raise InvalidInput(f"a {kind} event needs {', '.join(sorted(missing))}")
    extra = keys - _REQUIRED[kind] - _OPTIONAL[kind]
    if extra:
        raise InvalidInput(f"a {kind} event has unknown fields: {', '.join(sorted(extra))}")
    return kind, event


def _parts(value: object) -> list[tuple[str, int]]:
    if not isinstance(value, list):
        raise InvalidInput('\'parts\' must be a list of {"id", "amount"}')
    parts: list[tuple[str, int]] = []
    for part in value:
        if not isinstance(part, dict) or set(part) != {"id", "amount"}:
            raise InvalidInput(f'a part must be {{"id", "amount"}}, got {part!r}')
        parts.append((_text(part, "id"), _yuan(part["amount"], "a part's amount")))
    return parts


def _apply(book: VoucherBook, kind: str, event: Mapping[str, Any], on: date) -> None:
    if kind == "issue":
        voucher_id, holder = _text(event, "id"), _text(event, "holder")
        book.issue(
            voucher_id,
            core_id=_text(event, "core"),
            holder_id=holder,
            amount_fen=_yuan(event["face"], "'face'"),
            issued_on=on,
            maturity=_date(event, "maturity"),
            invoice_key=_text(event, "invoice") if "invoice" in event else None,
        )
        book.accept(voucher_id, by=holder, on=on)
        return
    if kind == "settle":
        book.settle_due(on)
        return
    voucher_id = _text(event, "voucher")
    by = _text(event, "by") if "by" in event else book.get(voucher_id).holder_id
    if kind == "split":
        book.split(voucher_id, _parts(event["parts"]), by=by, on=on)
    elif kind == "transfer":
        book.transfer(voucher_id, by=by, to=_text(event, "to"), on=on)
    else:
        book.finance(
            voucher_id,
            by=by,
            on=on,
            annual_rate=_rate(event["annual_rate"], "annual_rate"),
            fee_rate=_rate(event.get("fee_rate", "0"), "fee_rate"),
        )


def _book(document: Mapping[str, Any]) -> VoucherBook:
    facilities = document.get("facilities")
    enterprises = document.get("enterprises")
    if facilities is not None and not isinstance(facilities, dict):
        raise InvalidInput("'facilities' must be an object of core: yuan amount")
    if enterprises is not None and (
        not isinstance(enterprises, list) or not all(isinstance(e, str) for e in enterprises)
    ):
        raise InvalidInput("'enterprises' must be a list of names")
    return VoucherBook(
        facilities_fen=None
        if facilities is None
        else {str(core): _yuan(v, f"the facility of {core}") for core, v in facilities.items()},
        enterprises=enterprises,
    )


def simulate(document: object) -> VoucherBook:
    """Run a scenario (the loaded JSON document) and return the book it leaves."""
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise InvalidInput('the file must be an object {"events": [...]}')
    unknown = set(document) - _TOP_LEVEL
    if unknown:
        raise InvalidInput(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    book = _book(document)
    last: date | None = None
    for index, raw in enumerate(document["events"], start=1):
        try:
            kind, event = _shape(raw)
            on = _date(event, "date")
            if last is not None and on < last:
                raise EventOutOfOrder(f"dated {on}, before the event before it ({last})")
            _apply(book, kind, event, on)
        except PuhuiError as exc:
            raise EventFailed(index, exc) from exc
        last = on
    return book


def result_document(book: VoucherBook) -> dict[str, list[dict[str, Any]]]:
    """The output of issue #17: vouchers, financings and settlements, amounts in yuan."""
    return {
        "vouchers": [
            {
                "id": v.voucher_id,
                "parent": v.parent_id,
                "holder": v.holder_id,
                "amount": format_yuan(v.amount_fen),
                "status": v.status.value,
            }
            for v in book.vouchers()
        ],
        "financings": [
            {
                "voucher": f.voucher_id,
                "face": format_yuan(f.discount.face_fen),
                "days": f.discount.days,
                "interest": format_yuan(f.discount.interest_fen),
                "fee": format_yuan(f.discount.fee_fen),
                "proceeds": format_yuan(f.discount.proceeds_fen),
            }
            for f in book.financings
        ],
        "settlements": [
            {"voucher": s.voucher_id, "payee": s.payee, "amount": format_yuan(s.amount_fen)}
            for s in book.settlements
        ],
    }
