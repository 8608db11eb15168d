"""Repayments against the collecting channel's file (还款对账): what differs, and how.

Owners repay through a payment channel (the bank's own collection, 代扣 through a clearing
house, a third-party payment institution). The channel sends a file each day of what it
collected, valued that day. Each row carries the merchant order number it was given, which is
the idempotency key the repayment was posted with. Reconciling the day compares the file with
the repayments that stand in the books on that value date, reversed ones excluded. Each
difference is a break (差错) of one kind:

- ``not_posted``: the channel collected, the books have no such repayment. Money is held
  that no loan was credited with: post it.
- ``not_collected``: the books credited a loan, the channel has no money for it. Investigate
  it and reverse it with a correcting event.
- ``amount_differs``: both have the order, for different amounts.
- ``loan_differs``: both have the order, for different loans.
- ``duplicate_order``: the books hold more than one repayment under the order id (two callers
  posted the same key, each under their own scope): which one the channel paid is for a
  person to find out.

The file is CSV in UTF-8 (a BOM is allowed), with a header naming at least ``order_id``,
``loan_id``, ``amount`` (yuan, at most two decimals), ``value_date`` (YYYY-MM-DD) and
optionally ``channel_ref`` (the channel's own transaction id, carried into the breaks).
A malformed file is refused whole, naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from puhui.domain.errors import InvalidDate, InvalidInput
from puhui.domain.money import parse_yuan

REQUIRED_COLUMNS = ("order_id", "loan_id", "amount", "value_date")
MAX_ROWS = 1_000_000
MAX_ORDER_ID = 128
"""As long as an idempotency key may be."""
MAX_LOAN_ID = 64


@dataclass(frozen=True, slots=True)
class ChannelPayment:
    """One row of the channel's file."""

    order_id: str
    loan_id: str
    amount_fen: int
    channel_ref: str = ""


CALLER_SCOPE = re.compile(r"^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}:(.+)$", re.DOTALL)
"""A key taken over the API is stored under its caller (``usr_<ULID>:<key>``), so that one
caller's key never replays another's; the channel knows the key as the caller sent it."""


def order_of(stored_key: str) -> str:
    """The order id the channel knows a repayment by: its key as the caller sent it."""
    scoped = CALLER_SCOPE.match(stored_key)
    return scoped.group(1) if scoped else stored_key


@dataclass(frozen=True, slots=True)
class PostedRepayment:
    """A repayment that stands in the books on the value date: its stored idempotency key,
    loan and amount."""

    key: str
    loan_id: str
    amount_fen: int

    @property
    def order_id(self) -> str:
        return order_of(self.key)


class BreakKind(StrEnum):
    NOT_POSTED = "not_posted"
    NOT_COLLECTED = "not_collected"
    AMOUNT_DIFFERS = "amount_differs"
    LOAN_DIFFERS = "loan_differs"
    DUPLICATE_ORDER = "duplicate_order"


@dataclass(frozen=True, slots=True)
class Break:
    kind: BreakKind
    order_id: str
    loan_id: str
    """The channel's loan, or ours when the channel has no row."""
    ours_fen: int | None
    theirs_fen: int | None
    ours_loan_id: str | None = None
    channel_ref: str = ""

    @property
    def uncredited_fen(self) -> int | None:
        """Money the channel collected under this order that no loan was credited with: all
        of it when the books have no such order, the excess when they hold less for it on the
        same loan; None otherwise (nothing of the channel's to hold in suspense)."""
        if self.kind is BreakKind.NOT_POSTED:
            return self.theirs_fen
        if (
            self.kind is BreakKind.AMOUNT_DIFFERS
            and self.ours_fen is not None
            and self.theirs_fen is not None
            and self.theirs_fen > self.ours_fen
        ):
            return self.theirs_fen - self.ours_fen
        return None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    value_date: date
    matched: int
    matched_fen: int
    ours_count: int
    ours_fen: int
    theirs_count: int
    theirs_fen: int
    breaks: tuple[Break, ...]

    @property
    def agrees(self) -> bool:
        return not self.breaks


@dataclass(frozen=True, slots=True)
class ReconciliationRun:
    """A reconciliation as recorded: who compared which file with the books, when, and what
    they found. The fields of ``Reconciliation``, and ``breaks_count`` so that a list of runs
    need not load their breaks (``breaks`` is ``None`` there)."""

    run_id: str
    value_date: date
    file_sha256: str
    file_name: str | None
    reconciled_by: str
    reconciled_at: datetime
    matched: int
    matched_fen: int
    ours_count: int
    ours_fen: int
    theirs_count: int
    theirs_fen: int
    breaks_count: int
    breaks: tuple[Break, ...] | None = None

    @property
    def agrees(self) -> bool:
        return self.breaks_count == 0

    @classmethod
    def of(
        cls,
        found: Reconciliation,
        *,
        run_id: str,
        file_sha256: str,
        file_name: str | None,
        reconciled_by: str,
        reconciled_at: datetime,
    ) -> ReconciliationRun:
        return cls(
            run_id=run_id,
            value_date=found.value_date,
            file_sha256=file_sha256,
            file_name=file_name,
            reconciled_by=reconciled_by,
            reconciled_at=reconciled_at,
            matched=found.matched,
            matched_fen=found.matched_fen,
            ours_count=found.ours_count,
            ours_fen=found.ours_fen,
            theirs_count=found.theirs_count,
            theirs_fen=found.theirs_fen,
            breaks_count=len(found.breaks),
            breaks=found.breaks,
        )

    def break_counts(self) -> dict[str, int]:
        """Breaks by kind (of a run read with its breaks)."""
        counts: dict[str, int] = {}
        for b in self.breaks or ():
            counts[b.kind.value] = counts.get(b.kind.value, 0) + 1
        return counts


def parse_channel_file(text: str, *, value_date: date) -> list[ChannelPayment]:
    """The rows of a channel's file for ``value_date``; the whole file refused on any error."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        return _rows(reader, value_date)
    except csv.Error as exc:
        raise InvalidInput(
            f"line {reader.line_num}: the channel file is not readable CSV ({exc})"
        ) from None


def _rows(reader: csv.DictReader[str], value_date: date) -> list[ChannelPayment]:
    columns = {name.strip() for name in reader.fieldnames or ()}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInput(
            f"the channel file lacks the columns {', '.join(missing)} "
            f"(it needs {', '.join(REQUIRED_COLUMNS)}, and may have channel_ref)",
            details={"missing": missing},
        )
    payments: list[ChannelPayment] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue  # a blank line
        if len(payments) >= MAX_ROWS:
            raise InvalidInput(f"the channel file has more than {MAX_ROWS:,} rows")
        payments.append(_payment(row, line_no, value_date, seen))
    return payments


def _payment(
    row: dict[str, str], line_no: int, value_date: date, seen: dict[str, int]
) -> ChannelPayment:
    order_id = row["order_id"]
    if not order_id or len(order_id) > MAX_ORDER_ID or not order_id.isprintable():
        raise InvalidInput(
            f"line {line_no}: order_id must be 1 to {MAX_ORDER_ID} printable characters"
        )
    if order_id in seen:
        raise InvalidInput(
            f"line {line_no}: order {order_id} appears twice (first on line {seen[order_id]})"
        )
    seen[order_id] = line_no
    loan_id, channel_ref = row["loan_id"], row.get("channel_ref", "")
    if not loan_id or len(loan_id) > MAX_LOAN_ID or not loan_id.isprintable():
        raise InvalidInput(
            f"line {line_no}: loan_id must be 1 to {MAX_LOAN_ID} printable characters"
        )
    if len(channel_ref) > MAX_ORDER_ID or not channel_ref.isprintable():
        raise InvalidInput(
            f"line {line_no}: channel_ref must be at most {MAX_ORDER_ID} printable characters"
        )
    try:
        amount = parse_yuan(row["amount"])
    except InvalidInput as exc:
        raise InvalidInput(f"line {line_no}: {exc.message}") from None
    if amount <= 0:
        raise InvalidInput(f"line {line_no}: the amount must be positive")
    try:
        valued = date.fromisoformat(row["value_date"])
    except ValueError:
        raise InvalidDate(
            f"line {line_no}: value_date {row['value_date']!r} is not a date (YYYY-MM-DD)"
        ) from None
    if valued != value_date:
        raise InvalidDate(
            f"line {line_no}: value_date {valued} is not the day reconciled ({value_date})"
        )
    return ChannelPayment(order_id, loan_id, amount, channel_ref)


def reconcile(
    value_date: date, ours: Iterable[PostedRepayment], theirs: Iterable[ChannelPayment]
) -> Reconciliation:
    """Every break between the books and the channel for one value date, by order id."""
    grouped: dict[str, list[PostedRepayment]] = {}
    for posted_repayment in ours:
        grouped.setdefault(posted_repayment.order_id, []).append(posted_repayment)
    channel = {p.order_id: p for p in theirs}
    breaks = [
        Break(
            BreakKind.DUPLICATE_ORDER,
            o,
            channel[o].loan_id if o in channel else many[0].loan_id,
            sum(p.amount_fen for p in many),
            channel[o].amount_fen if o in channel else None,
            ", ".join(sorted({p.loan_id for p in many})),
            channel[o].channel_ref if o in channel else "",
        )
        for o, many in grouped.items()
        if len(many) > 1
    ]
    mine = {o: many[0] for o, many in grouped.items() if len(many) == 1}
    breaks += [
        Break(BreakKind.NOT_COLLECTED, o, p.loan_id, p.amount_fen, None, p.loan_id)
        for o, p in mine.items()
        if o not in channel
    ]
    breaks += [
        Break(BreakKind.NOT_POSTED, o, p.loan_id, None, p.amount_fen, None, p.channel_ref)
        for o, p in channel.items()
        if o not in grouped
    ]
    matched = matched_fen = 0
    for order_id, paid in channel.items():
        posted = mine.get(order_id)
        if posted is None:
            continue
        if posted.loan_id == paid.loan_id and posted.amount_fen == paid.amount_fen:
            matched += 1
            matched_fen += paid.amount_fen
            continue
        kind = (
            BreakKind.LOAN_DIFFERS if posted.loan_id != paid.loan_id else BreakKind.AMOUNT_DIFFERS
        )
        breaks.append(
            Break(
                kind,
                order_id,
                paid.loan_id,
                posted.amount_fen,
                paid.amount_fen,
                posted.loan_id,
                paid.channel_ref,
            )
        )
    breaks.sort(key=lambda b: b.order_id)
    return Reconciliation(
        value_date=value_date,
        matched=matched,
        matched_fen=matched_fen,
        ours_count=sum(len(many) for many in grouped.values()),
        ours_fen=sum(p.amount_fen for many in grouped.values() for p in many),
        theirs_count=len(channel),
        theirs_fen=sum(p.amount_fen for p in channel.values()),
        breaks=tuple(breaks),
    )
