"""What of a break is money to hold in suspense, and how the books' side of a day counts the
money held (``domain.lending.reconciliation`` and ``domain.lending.suspense``, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from puhui.domain.lending.reconciliation import (
    Break,
    BreakKind,
    ChannelPayment,
    PostedRepayment,
    reconcile,
)
from puhui.domain.lending.suspense import SuspenseItem, acknowledged

DAY = date(2026, 2, 10)


def _item(order: str, loan: str, fen: int, posted_fen: int | None = None) -> SuspenseItem:
    return SuspenseItem(
        item_id="sus_" + "0" * 26,
        order_id=order,
        loan_id=loan,
        amount_fen=fen,
        value_date=DAY,
        channel_ref="",
        run_id="rcn_" + "0" * 26,
        held_on=date(2026, 2, 11),
        held_by="usr_ops",
        held_at=datetime(2026, 2, 11, 9, tzinfo=UTC),
        posted_fen=posted_fen,
    )


@pytest.mark.parametrize(
    ("kind", "ours", "theirs", "uncredited"),
    [
        (BreakKind.NOT_POSTED, None, 500, 500),
        (BreakKind.AMOUNT_DIFFERS, 400, 500, 100),
        (BreakKind.AMOUNT_DIFFERS, 500, 400, None),  # the books credited more: a correction
        (BreakKind.NOT_COLLECTED, 500, None, None),
        (BreakKind.LOAN_DIFFERS, 500, 500, None),
        (BreakKind.DUPLICATE_ORDER, 1000, 500, None),
    ],
)
def test_only_what_the_channel_collected_beyond_the_books_is_uncredited(
    kind: BreakKind, ours: int | None, theirs: int | None, uncredited: int | None
) -> None:
    found = Break(kind, "ord-1", "rcpt_1", ours, theirs, "rcpt_1")
    assert found.uncredited_fen == uncredited


def test_an_excess_held_is_added_to_its_repayment_and_an_order_held_whole_stands_alone() -> None:
    posted = [PostedRepayment("ord-1", "rcpt_1", 400), PostedRepayment("ord-2", "rcpt_2", 300)]
    items = [_item("ord-1", "rcpt_1", 100, posted_fen=400), _item("ord-3", "rcpt_3", 250)]
    books = acknowledged(posted, items)
    assert sorted((p.order_id, p.loan_id, p.amount_fen) for p in books) == [
        ("ord-1", "rcpt_1", 500),
        ("ord-2", "rcpt_2", 300),
        ("ord-3", "rcpt_3", 250),
    ]
    channel = [
        ChannelPayment("ord-1", "rcpt_1", 500, "T1"),
        ChannelPayment("ord-2", "rcpt_2", 300, "T2"),
        ChannelPayment("ord-3", "rcpt_3", 250, "T3"),
    ]
    assert reconcile(DAY, books, channel).agrees
    # The posted repayments are not changed in place.
    assert posted[0].amount_fen == 400


def test_an_item_on_another_loan_than_its_order_is_its_own_repayment() -> None:
    # The books credited ord-1 to another loan: the held money does not hide that break.
    posted = [PostedRepayment("ord-1", "rcpt_9", 400)]
    books = acknowledged(posted, [_item("ord-1", "rcpt_1", 100)])
    assert len(books) == 2
    found = reconcile(DAY, books, [ChannelPayment("ord-1", "rcpt_1", 500, "T1")])
    assert [b.kind for b in found.breaks] == [BreakKind.DUPLICATE_ORDER]
