"""The demo's reconciliation section (还款对账): the collecting channel's files of the last
month written out, and each day reconciled against the books, recorded like any other run.

The channel's record is kept as the borrowers repay (``pipelines.collecting_channel``), apart
from the books; the reconciliation is the operations service's, under the demo's operations
user, so the console's reconciliation page lists it and the files can be uploaded there.

One collection in the month never reached the books: the channel took the money and the call
that would have posted it timed out. Its day's reconciliation names it (collected, not
posted); operations holds it in suspense (挂账), reconciles the day again, which then agrees,
and applies the money to the loan, as a bank works such a break.

Early in the month the channel credits a collection to the wrong loan (the payer repaid
another loan of the book): operations holds it, requests its transfer to the loan it was for,
and a second operator approves it (转入他笔贷款, two people).

Later in the month the channel debits a payer twice (重复扣款): the second debit is also
collected and not posted. Operations holds it the same way and requests its refund, which
waits for a second operator to approve it: on the console's 挂账还款 page, or with
``puhui ledger approve-suspense-refund``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from puhui.bootstrap import Platform
from puhui.cli.demo_report import Section
from puhui.cli.ledger_suspense import counted
from puhui.domain.lending.account import LoanStatus
from puhui.domain.lending.reconciliation import ChannelPayment, ReconciliationRun
from puhui.domain.money import format_yuan
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing import suspense
from puhui.services.servicing.operations import reconcile_repayments

TITLE = "Repayment reconciliation (还款对账)"
DEMO_OPERATIONS = Principal(user_id="usr_demo_operations", role=Role.OPERATIONS)
DEMO_CHECKER = Principal(user_id="usr_demo_operations_checker", role=Role.OPERATIONS)
"""The second operator who approves the demo's transfer (four eyes)."""
DAYS = 31
"""The channel's files written out and reconciled: the simulation's last month, whose monthly
repayment day falls in any 31 days."""
TIMED_OUT_FEN = 100_00
"""The collection whose posting timed out: 100 yuan, on a loan that owes more."""
DUPLICATE_REASON = "the payer was debited twice (重复扣款)"
WRONG_LOAN_FEN = 200_00
"""The collection the channel named the wrong loan for: 200 yuan."""
WRONG_LOAN_REASON = "the payer repaid another loan; the channel named the wrong one"


def _active_loans(
    platform_: Platform, channel: CollectingChannel, days: list[date]
) -> dict[str, tuple[str, int]]:
    """The loans the channel collected for in ``days`` that are still active, each with its
    enterprise and what it owes (fen), in the order the channel first collected for them."""
    loans = dict.fromkeys(p.loan_id for d in days for p in channel.payments(d))
    found: dict[str, tuple[str, int]] = {}
    with platform_.servicing_uow() as uow:
        for loan_id in loans:
            loan = uow.loans.get(loan_id)
            if loan is not None and loan.status is LoanStatus.ACTIVE:
                found[loan_id] = (loan.enterprise_id, loan.total_owed_fen)
    return found


def _timed_out(
    channel: CollectingChannel, days: list[date], loans: dict[str, tuple[str, int]]
) -> ChannelPayment | None:
    """Record at the channel, on the month's middle day, a collection the books never got:
    for the first of ``loans`` that owes more than the amount (None when none does)."""
    day = days[len(days) // 2]
    owing = [loan_id for loan_id, (_, owed) in loans.items() if owed > TIMED_OUT_FEN]
    if not owing:
        return None
    order = f"SIM-TIMEOUT-{day:%Y%m%d}"
    channel.collected(day, order, owing[0], TIMED_OUT_FEN)
    return channel.payments(day)[-1]


def _wrong_loan(
    channel: CollectingChannel,
    days: list[date],
    loans: dict[str, tuple[str, int]],
    timed_out: ChannelPayment | None,
) -> tuple[ChannelPayment, str, bool] | None:
    """Record at the channel, a week into the month, a collection it names the wrong loan for:
    the payment, the loan it was for and whether both are one enterprise's. Both are among
    ``loans``, owe more than it and neither is the timed-out collection's; where one
    enterprise has two such loans, they are its two (the channel named the wrong receipt of
    the right borrower, the usual mistake). None when there are fewer than two such loans."""
    skipped = None if timed_out is None else timed_out.loan_id
    candidates = [
        loan_id
        for loan_id, (_, owed) in loans.items()
        if owed > WRONG_LOAN_FEN and loan_id != skipped
    ]
    if len(candidates) < 2:
        return None
    by_enterprise: dict[str, list[str]] = {}
    for loan_id in candidates:
        by_enterprise.setdefault(loans[loan_id][0], []).append(loan_id)
    pair = next((ids[:2] for ids in by_enterprise.values() if len(ids) >= 2), candidates[-2:])
    meant, named = pair
    day = days[len(days) // 4]
    channel.collected(day, f"SIM-WRONGLOAN-{day:%Y%m%d}", named, WRONG_LOAN_FEN)
    return channel.payments(day)[-1], meant, loans[meant][0] == loans[named][0]


def _debited_twice(channel: CollectingChannel, days: list[date]) -> ChannelPayment | None:
    """Record at the channel, on the last day of the month's second half that has
    collections, the first of them collected a second time (None when there is no such day)."""
    for day in reversed(days[len(days) // 2 + 1 :]):
        collected = channel.payments(day)
        if collected:
            first = collected[0]
            order = f"SIM-DUPLICATE-{day:%Y%m%d}"
            channel.collected(day, order, first.loan_id, first.amount_fen)
            return channel.payments(day)[-1]
    return None


def reconciliation_section(
    platform_: Platform, channel: CollectingChannel, last_day: date, folder: Path
) -> Section:
    """Write the channel's files of the 31 days ending ``last_day`` (a channel sends one each
    day, empty or not) and reconcile each closed day against the books, recorded like any
    run; the collection never posted is held in suspense, its day reconciled again, and the
    money applied to its loan; the one the channel named the wrong loan for is held and
    transferred to the right one by two operators; the payer debited twice is held too and its
    refund requested, for a second operator to approve."""
    days = [last_day - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    loans = _active_loans(platform_, channel, days)
    lost = _timed_out(channel, days, loans)
    misnamed = _wrong_loan(channel, days, loans, lost)
    twice = _debited_twice(channel, days)
    paths = channel.write(folder, days)
    runs = [
        _reconcile(platform_, path_day, path) for path_day, path in zip(days, paths, strict=True)
    ]
    rows: list[tuple[str, str]] = []
    if lost is not None:
        at, item_id = _held(platform_, runs, lost)
        runs[at] = _reconcile(platform_, days[at], paths[at])  # the day's standing now
        applied = suspense.apply(platform_.servicing_uow, actor=DEMO_OPERATIONS, item_id=item_id)
        rows.append(
            (
                "suspense (挂账):",
                f"order {lost.order_id} ({format_yuan(lost.amount_fen)} yuan, {days[at]}): "
                "collected, never posted (the call timed out); held, the day reconciled "
                f"again, then applied to {applied.item.applied_loan_id} on "
                f"{applied.item.resolved_on}",
            )
        )
    if misnamed is not None:
        payment, meant, same = misnamed
        at, item_id = _held(platform_, runs, payment)
        runs[at] = _reconcile(platform_, days[at], paths[at])
        suspense.request_transfer(
            platform_.servicing_uow,
            actor=DEMO_OPERATIONS,
            item_id=item_id,
            loan_id=meant,
            reason=WRONG_LOAN_REASON,
        )
        moved = suspense.approve_transfer(
            platform_.servicing_uow, actor=DEMO_CHECKER, item_id=item_id
        )
        rows.append(
            (
                "transfer (转入):",
                f"order {payment.order_id} ({format_yuan(payment.amount_fen)} yuan, "
                f"{days[at]}): the channel named {payment.loan_id}, the payer repaid "
                f"{meant} ({'the same' if same else 'another'} enterprise's); held, the day "
                "reconciled again, the transfer requested by "
                f"{DEMO_OPERATIONS.user_id} and approved by {DEMO_CHECKER.user_id} on "
                f"{moved.item.resolved_on}",
            )
        )
    if twice is not None:
        at, item_id = _held(platform_, runs, twice)
        runs[at] = _reconcile(platform_, days[at], paths[at])
        suspense.request_refund(
            platform_.servicing_uow,
            actor=DEMO_OPERATIONS,
            item_id=item_id,
            reason=DUPLICATE_REASON,
        )
        rows.append(
            (
                "refund (退回):",
                f"order {twice.order_id} ({format_yuan(twice.amount_fen)} yuan, {days[at]}): "
                "the payer debited twice; held, the day reconciled again, its refund "
                f"requested and waiting for a second operator: approve {item_id} on the "
                "console's 挂账还款 page or with `puhui ledger approve-suspense-refund`",
            )
        )
    tie = suspense.tie_out(platform_.servicing_uow, actor=DEMO_OPERATIONS)
    rows.append(
        (
            "suspense account:",
            f"2245 holds {format_yuan(tie.account_fen)} yuan, "
            f"{counted(tie.items, 'item')} in suspense: "
            + ("ties out" if tie.agrees else f"DIFFERS by {format_yuan(tie.difference_fen)}"),
        )
    )
    broken = [r for r in runs if not r.agrees]
    verdict = (
        "the books and the channel agree on every day"
        if not broken
        else f"{sum(r.breaks_count for r in broken):,} breaks on "
        f"{', '.join(r.value_date.isoformat() for r in broken)} (see the console)"
    )
    return Section(
        TITLE,
        ("", ""),
        rows=[
            ("value dates:", f"{days[0]} .. {days[-1]}, {len(runs)} days reconciled"),
            (
                "matched:",
                f"{sum(r.matched for r in runs):,} repayments, "
                f"{format_yuan(sum(r.matched_fen for r in runs))} yuan",
            ),
            ("result:", verdict),
            *rows,
            ("last recorded:", runs[-1].run_id),
        ],
        notes=[
            f"the channel's files are in {folder}; each day's run is on the console's "
            "end-of-day and reconciliation pages, and `puhui ledger reconciliations` lists them"
        ],
    )


def _held(
    platform_: Platform, runs: list[ReconciliationRun], payment: ChannelPayment
) -> tuple[int, str]:
    """Hold ``payment`` from the run whose break names it: that run's index and the item."""
    at = next(
        n for n, r in enumerate(runs) if any(b.order_id == payment.order_id for b in r.breaks or ())
    )
    held = suspense.hold(
        platform_.servicing_uow,
        actor=DEMO_OPERATIONS,
        run_id=runs[at].run_id,
        order_id=payment.order_id,
    )
    return at, held.item.item_id


def _reconcile(platform_: Platform, day: date, path: Path) -> ReconciliationRun:
    return reconcile_repayments(
        platform_.servicing_uow,
        actor=DEMO_OPERATIONS,
        value_date=day,
        channel_file=path.read_bytes().decode("utf-8"),
        file_name=path.name,
    )
