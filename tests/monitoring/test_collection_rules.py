"""Collections: DPD buckets and queues, promises to pay, contact log, write-off four eyes."""

from __future__ import annotations

import datetime as dt

import pytest

from puhui.domain.monitoring import (
    ContactAttempt,
    ContactChannel,
    ContactResult,
    DelinquentReceipt,
    DpdBucket,
    InvalidMonitoringValue,
    PromiseRefused,
    PromiseStatus,
    PromiseToPay,
    Repayment,
    WriteOffFourEyes,
    WriteOffProposal,
    WriteOffRefused,
    WriteOffStatus,
    collection_queues,
    dpd_bucket,
)

MADE = dt.date(2026, 4, 1)
DUE = dt.date(2026, 4, 10)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, None),
        (1, DpdBucket.REMINDER),
        (30, DpdBucket.REMINDER),
        (31, DpdBucket.COLLECTION),
        (90, DpdBucket.COLLECTION),
        (91, DpdBucket.LEGAL),
        (400, DpdBucket.LEGAL),
    ],
)
def test_dpd_buckets(dpd: int, bucket: DpdBucket | None) -> None:
    assert dpd_bucket(dpd) is bucket


def test_negative_dpd_is_refused() -> None:
    with pytest.raises(InvalidMonitoringValue):
        dpd_bucket(-1)


def test_queues_hold_delinquent_receipts_oldest_then_largest_first() -> None:
    receipts = [
        DelinquentReceipt("r1", "c1", 5, 100_00),
        DelinquentReceipt("r2", "c2", 12, 50_00),
        DelinquentReceipt("r3", "c3", 12, 900_00),
        DelinquentReceipt("r4", "c4", 45, 10_00),
        DelinquentReceipt("r5", "c5", 0, 10_00),
        DelinquentReceipt("r6", "c6", 120, 10_00),
    ]
    queues = collection_queues(receipts)
    assert [r.receipt_id for r in queues[DpdBucket.REMINDER]] == ["r3", "r2", "r1"]
    assert [r.receipt_id for r in queues[DpdBucket.COLLECTION]] == ["r4"]
    assert [r.receipt_id for r in queues[DpdBucket.LEGAL]] == ["r6"]


def promise(grace_days: int = 0) -> PromiseToPay:
    return PromiseToPay("p1", "r1", 5_000_00, MADE, DUE, grace_days)


def test_a_promise_paid_in_full_by_the_day_is_kept() -> None:
    paid = [Repayment(dt.date(2026, 4, 3), 2_000_00), Repayment(DUE, 3_000_00)]
    result = promise().evaluate(paid, DUE)
    assert (result.status, result.paid_fen) == (PromiseStatus.KEPT, 5_000_00)


def test_a_promise_is_pending_until_its_day_has_passed() -> None:
    result = promise().evaluate([Repayment(dt.date(2026, 4, 3), 1_000_00)], DUE)
    assert (result.status, result.paid_fen) == (PromiseStatus.PENDING, 1_000_00)


def test_a_part_payment_or_a_late_one_breaks_the_promise() -> None:
    after = DUE + dt.timedelta(days=1)
    part = promise().evaluate([Repayment(DUE, 4_999_99)], after)
    assert (part.status, part.paid_fen) == (PromiseStatus.BROKEN, 4_999_99)
    late = promise().evaluate([Repayment(after, 5_000_00)], after)
    assert (late.status, late.paid_fen) == (PromiseStatus.BROKEN, 0)
    before = promise().evaluate([Repayment(MADE - dt.timedelta(days=1), 5_000_00)], after)
    assert before.status is PromiseStatus.BROKEN


def test_grace_days_count_a_payment_that_arrives_a_day_late() -> None:
    after = DUE + dt.timedelta(days=1)
    assert promise(grace_days=1).evaluate([Repayment(after, 5_000_00)], after).status is (
        PromiseStatus.KEPT
    )


def test_impossible_promises_are_refused() -> None:
    with pytest.raises(PromiseRefused) as caught:
        PromiseToPay("p", "r", 0, MADE, DUE)
    assert caught.value.code == "promise_refused"
    with pytest.raises(PromiseRefused):
        PromiseToPay("p", "r", 1, DUE, MADE)


def test_a_contact_attempt_is_timestamped_in_utc_and_names_its_author() -> None:
    at = dt.datetime(2026, 4, 2, 2, 30, tzinfo=dt.UTC)
    attempt = ContactAttempt("r1", at, ContactChannel.PHONE, ContactResult.PROMISED, "col_1")
    assert attempt.result is ContactResult.PROMISED
    with pytest.raises(InvalidMonitoringValue):
        ContactAttempt(
            "r1", at.replace(tzinfo=None), ContactChannel.SMS, ContactResult.REACHED, "x"
        )
    with pytest.raises(InvalidMonitoringValue):
        ContactAttempt("r1", at, ContactChannel.SMS, ContactResult.REACHED, "")


def proposal(dpd: int = 200) -> WriteOffProposal:
    return WriteOffProposal(
        "wo1",
        "r1",
        80_000_00,
        3_210_55,
        "borrower deregistered; recovery exhausted",
        "col_1",
        DUE,
        dpd,
    )


def test_a_write_off_needs_a_second_person() -> None:
    with pytest.raises(WriteOffFourEyes) as caught:
        proposal().approve("col_1", DUE)
    assert caught.value.code == "write_off_four_eyes"
    approved = proposal().approve("risk_2", DUE)
    assert (approved.status, approved.decided_by, approved.total_fen) == (
        WriteOffStatus.APPROVED,
        "risk_2",
        83_210_55,
    )
    with pytest.raises(WriteOffRefused):
        approved.reject("risk_3", DUE)
    assert proposal().reject("risk_2", DUE).status is WriteOffStatus.REJECTED


def test_an_approval_under_way_is_no_longer_open_to_rejection() -> None:
    approving = proposal().start_approval("risk_2", DUE)
    assert (approving.status, approving.decided_by) == (WriteOffStatus.APPROVING, "risk_2")
    with pytest.raises(WriteOffRefused):
        approving.reject("risk_3", DUE)
    with pytest.raises(WriteOffRefused):
        approving.start_approval("risk_3", DUE)
    with pytest.raises(WriteOffFourEyes):
        approving.complete_approval("col_1")
    assert approving.complete_approval("risk_3").status is WriteOffStatus.APPROVED
    with pytest.raises(WriteOffRefused):
        proposal().complete_approval("risk_2")


def test_only_legal_bucket_receipts_with_a_reason_may_be_proposed() -> None:
    with pytest.raises(WriteOffRefused):
        proposal(dpd=90)
    with pytest.raises(WriteOffRefused):
        WriteOffProposal("wo", "r", 1, 0, " ", "col_1", DUE, 200)
    with pytest.raises(WriteOffRefused):
        WriteOffProposal("wo", "r", 0, 0, "x", "col_1", DUE, 200)
    with pytest.raises(InvalidMonitoringValue):
        proposal().approve("risk_2", DUE - dt.timedelta(days=1))
