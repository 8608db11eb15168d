"""The demo's collecting channel: its daily file reads back as the channel's rows, in the
format reconciliation takes, with a reference per collection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from puhui.domain.lending.reconciliation import ChannelPayment, parse_channel_file
from puhui.pipelines.collecting_channel import CollectingChannel

DAY = date(2026, 2, 10)


def test_the_days_file_reads_back_as_what_was_collected(tmp_path: Path) -> None:
    channel = CollectingChannel()
    channel.collected(DAY, "repay-rct_1-2026-02-10", "rct_1", 1_000_50)
    channel.collected(DAY, "demo-term-pay:loan_2:2026-02-10", "loan_2", 7)
    channel.collected(date(2026, 2, 12), "repay-rct_1-2026-02-12", "rct_1", 300_00)
    assert channel.days() == [DAY, date(2026, 2, 12)]
    assert [p.order_id for p in channel.payments(DAY)] == [
        "repay-rct_1-2026-02-10",
        "demo-term-pay:loan_2:2026-02-10",
    ]
    assert channel.payments(date(2026, 2, 11)) == ()
    assert parse_channel_file(channel.file(DAY), value_date=DAY) == [
        ChannelPayment("repay-rct_1-2026-02-10", "rct_1", 1_000_50, "SIM20260210000001"),
        ChannelPayment("demo-term-pay:loan_2:2026-02-10", "loan_2", 7, "SIM20260210000002"),
    ]
    assert channel.file(date(2026, 2, 11)).splitlines() == [
        "order_id,loan_id,amount,value_date,channel_ref"
    ]
    (written,) = channel.write(tmp_path / "channel", [DAY])
    assert written.name == "repayments-2026-02-10.csv"
    assert written.read_bytes().decode("utf-8") == channel.file(DAY)
    assert b"\r" not in written.read_bytes()


def test_a_collection_is_positive() -> None:
    with pytest.raises(ValueError, match="a collection is positive"):
        CollectingChannel().collected(DAY, "o", "l", 0)
