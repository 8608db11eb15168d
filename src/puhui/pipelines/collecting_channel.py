"""The demo's collecting channel (代扣渠道): the world's side of each repayment, and its daily
file for the bank's reconciliation (还款对账).

A bank collects repayments through a channel: it instructs a debit under a merchant order
number (the repayment's idempotency key), the channel takes the money and, each day, sends a
file of what it collected. The simulation keeps that record as it happens, apart from the
books, so that the demo reconciles its days the way a bank does: the channel's file against
the repayments in the books (``services.servicing.operations.reconcile_repayments``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from puhui.domain.lending.reconciliation import REQUIRED_COLUMNS, ChannelPayment
from puhui.domain.money import format_yuan

COLUMNS = (*REQUIRED_COLUMNS, "channel_ref")


class CollectingChannel:
    """What the channel collected, by value date, in the order it collected it."""

    def __init__(self, name: str = "SIM") -> None:
        self.name = name
        self._days: dict[date, list[ChannelPayment]] = {}

    def collected(self, on: date, order_id: str, loan_id: str, amount_fen: int) -> None:
        """Record a collection of ``amount_fen`` (positive) for ``loan_id`` under ``order_id``."""
        if amount_fen <= 0:
            raise ValueError(f"a collection is positive, not {amount_fen} fen")
        day = self._days.setdefault(on, [])
        ref = f"{self.name}{on:%Y%m%d}{len(day) + 1:06d}"
        day.append(ChannelPayment(order_id, loan_id, amount_fen, ref))

    def payments(self, on: date) -> tuple[ChannelPayment, ...]:
        """What the channel collected on ``on``, in order."""
        return tuple(self._days.get(on, ()))

    def days(self) -> list[date]:
        """The days the channel collected anything, in order."""
        return sorted(self._days)

    def file(self, on: date) -> str:
        """The channel's file of ``on``: CSV with a header, amounts in yuan."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for p in self._days.get(on, ()):
            writer.writerow(
                (p.order_id, p.loan_id, format_yuan(p.amount_fen), on.isoformat(), p.channel_ref)
            )
        return out.getvalue()

    def write(self, folder: Path, days: Iterable[date]) -> list[Path]:
        """The files of ``days`` in ``folder`` (``repayments-YYYY-MM-DD.csv``), UTF-8."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for day in days:
            path = folder / f"repayments-{day.isoformat()}.csv"
            path.write_text(self.file(day), encoding="utf-8", newline="")
            written.append(path)
        return written
