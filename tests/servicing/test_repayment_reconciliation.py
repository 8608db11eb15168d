"""A closed day's repayments reconciled with the channel's file, on the database: matched,
every kind of break, a reversed repayment left out, an open day refused; the file's errors
named by line; the CLI's exit codes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.cli.main import app
from puhui.domain.audit import payload_digest
from puhui.domain.errors import InvalidDate, InvalidIdentifier, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.reconciliation import (
    Break,
    BreakKind,
    ChannelPayment,
    PostedRepayment,
    ReconciliationRun,
    order_of,
    parse_channel_file,
    reconcile,
)
from puhui.domain.origination.errors import Forbidden
from puhui.pipelines.eod import run_end_of_day
from puhui.services.ports import AuditQuery
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.lines import draw
from puhui.services.servicing.operations import (
    DayNotClosed,
    latest_reconciliations,
    reconcile_repayments,
    reconciliation_run,
    reconciliation_runs,
)
from puhui.services.servicing.receipts import repay, reverse_repayment

Factory = Callable[[], ServicingUnitOfWork]
DRAWN_ON = date(2026, 2, 2)
PAID_ON = date(2026, 2, 10)
OPS = Principal(user_id="usr_ops", role=Role.OPERATIONS)
HEADER = "order_id,loan_id,amount,value_date,channel_ref\n"
runner = CliRunner()


def _receipts(uow_factory: Factory, line_id: CreditLineId, count: int) -> list[ReceiptId]:
    return [
        ReceiptId(
            draw(
                uow_factory,
                line_id,
                amount_fen=20_000_00,
                on=DRAWN_ON,
                maturity_date=DRAWN_ON + timedelta(days=180),
                idempotency_key=f"draw-{n}",
                actor="owner",
            ).receipt_id
        )
        for n in range(count)
    ]


def _pay(uow_factory: Factory, receipt: ReceiptId, key: str, fen: int, on: date = PAID_ON) -> None:
    repay(uow_factory, receipt, amount_fen=fen, on=on, idempotency_key=key, actor="owner")


def _close_through(store: SqlEndOfDayStore, last: date) -> None:
    day = DRAWN_ON
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def _world(uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore) -> list[str]:
    """Four repayments on PAID_ON (one reversed the same day), one the day after; closed."""
    receipts = _receipts(uow_factory, line_id, 3)
    _close_through(eod_store, PAID_ON - timedelta(days=1))
    _pay(uow_factory, receipts[0], "ord-001", 1_000_00)
    _pay(uow_factory, receipts[1], "ord-002", 2_500_50)
    _pay(uow_factory, receipts[2], "ord-003", 300_00)
    _pay(uow_factory, receipts[0], "ord-004", 700_00)
    reverse_repayment(uow_factory, "ord-004", idempotency_key="fix-4", actor="ops", reason="dup")
    _close_through(eod_store, PAID_ON)
    _pay(uow_factory, receipts[1], "ord-005", 100_00, on=PAID_ON + timedelta(days=1))
    return [str(r) for r in receipts]


def _agreeing(r: list[str]) -> str:
    """The channel's file of PAID_ON that agrees with ``_world``'s books."""
    return (
        HEADER
        + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n"
        + f"ord-002,{r[1]},2500.50,2026-02-10,T2\n"
        + f"ord-003,{r[2]},300.00,2026-02-10,T3\n"
    )


def test_a_file_that_agrees_matches_every_standing_repayment(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    file = (
        HEADER
        + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n"
        + f"ord-002,{r[1]},2500.50,2026-02-10,T2\n"
        + f"ord-003,{r[2]},300,2026-02-10,T3\n"
    )
    found = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=file)
    assert found.agrees
    assert (found.matched, found.matched_fen) == (3, 3_800_50)
    assert (found.ours_count, found.ours_fen, found.theirs_count) == (3, 3_800_50, 3)


def test_every_kind_of_break_is_named(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    file = (
        HEADER
        + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n"  # agrees
        + f"ord-002,{r[1]},2500.05,2026-02-10,T2\n"  # amount differs
        + f"ord-003,{r[0]},300.00,2026-02-10,T3\n"  # another loan
        + f"ord-004,{r[0]},700.00,2026-02-10,T4\n"  # reversed here: not posted
        + f"ord-009,{r[2]},50.00,2026-02-10,T9\n"  # never posted
    )
    found = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=file)
    assert found.matched == 1
    got = {(b.order_id, b.kind, b.ours_fen, b.theirs_fen, b.channel_ref) for b in found.breaks}
    assert got == {
        ("ord-002", BreakKind.AMOUNT_DIFFERS, 2_500_50, 2_500_05, "T2"),
        ("ord-003", BreakKind.LOAN_DIFFERS, 300_00, 300_00, "T3"),
        ("ord-004", BreakKind.NOT_POSTED, None, 700_00, "T4"),
        ("ord-009", BreakKind.NOT_POSTED, None, 50_00, "T9"),
    }
    (loan,) = [b for b in found.breaks if b.kind is BreakKind.LOAN_DIFFERS]
    assert (loan.loan_id, loan.ours_loan_id) == (r[0], r[2])
    # The channel missing what the books credited.
    short = HEADER + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n"
    missing = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=short)
    assert [(b.order_id, b.kind) for b in missing.breaks] == [
        ("ord-002", BreakKind.NOT_COLLECTED),
        ("ord-003", BreakKind.NOT_COLLECTED),
    ]


def test_an_open_day_a_bad_file_and_a_role_without_the_ledger_are_refused(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    next_day = PAID_ON + timedelta(days=1)
    with pytest.raises(DayNotClosed, match=f"business day {next_day} is still open"):
        reconcile_repayments(
            uow_factory,
            actor=OPS,
            value_date=next_day,
            channel_file=HEADER + f"ord-005,{r[1]},100.00,{next_day},T5\n",
        )
    with pytest.raises(InvalidDate, match="line 2: value_date 2026-02-11 is not the day"):
        reconcile_repayments(
            uow_factory,
            actor=OPS,
            value_date=PAID_ON,
            channel_file=HEADER + f"ord-005,{r[1]},100.00,{next_day},T5\n",
        )
    with pytest.raises(Forbidden):
        reconcile_repayments(
            uow_factory,
            actor=Principal(user_id="usr_am", role=Role.ACCOUNT_MANAGER),
            value_date=PAID_ON,
            channel_file=HEADER,
        )


def _recorded(uow_factory: Factory) -> tuple[int, int]:
    """Reconciliations recorded and their audit events."""
    with uow_factory() as uow:
        runs = len(uow.reconciliations.page(value_date=None, limit=100, offset=0))
        events = len(uow.audit.search(AuditQuery(action_prefix="repayments.reconciled")))
    return runs, events


def test_every_reconciliation_is_recorded_with_its_file_and_breaks_and_audited(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    agreeing = _agreeing(r)
    first = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=agreeing, file_name="a.csv"
    )
    breaking = HEADER + f"ord-009,{r[2]},50.00,2026-02-10,T9\r\n"
    second = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=breaking, file_name=" b.csv "
    )
    assert second.run_id != first.run_id
    assert second.file_sha256 == hashlib.sha256(breaking.encode()).hexdigest()

    stored = reconciliation_run(uow_factory, actor=OPS, run_id=second.run_id)
    assert stored == second  # every field and every break, in the order found
    assert stored.file_name == "b.csv"
    assert stored.reconciled_by == OPS.user_id
    assert stored.breaks is not None
    assert [(b.order_id, b.kind) for b in stored.breaks] == [
        ("ord-001", BreakKind.NOT_COLLECTED),
        ("ord-002", BreakKind.NOT_COLLECTED),
        ("ord-003", BreakKind.NOT_COLLECTED),
        ("ord-009", BreakKind.NOT_POSTED),
    ]
    assert reconciliation_run(uow_factory, actor=OPS, run_id=first.run_id).agrees

    # Listed the latest first, without their breaks; one value date at a time.
    listed = reconciliation_runs(uow_factory, actor=OPS)
    assert [(x.run_id, x.breaks_count, x.breaks) for x in listed] == [
        (second.run_id, 4, None),
        (first.run_id, 0, None),
    ]
    auditor = Principal(user_id="usr_audit", role=Role.AUDITOR)
    assert [x.run_id for x in reconciliation_runs(uow_factory, actor=auditor, limit=1)] == [
        second.run_id
    ]
    assert [x.run_id for x in reconciliation_runs(uow_factory, actor=OPS, offset=1)] == [
        first.run_id
    ]
    assert reconciliation_runs(uow_factory, actor=OPS, value_date=PAID_ON + timedelta(1)) == []
    # A day's standing is its latest run; a day never reconciled has none.
    standing = latest_reconciliations(
        uow_factory, actor=auditor, days=[PAID_ON, PAID_ON - timedelta(days=1)]
    )
    assert {day: run.run_id for day, run in standing.items()} == {PAID_ON: second.run_id}
    with pytest.raises(InvalidInput, match="at most 100 days"):
        latest_reconciliations(
            uow_factory, actor=OPS, days=[PAID_ON - timedelta(days=n) for n in range(101)]
        )

    with uow_factory() as uow:
        events = uow.audit.search(AuditQuery(action_prefix="repayments.reconciled"))
    assert [(e.actor, e.entity_id) for e in events] == [
        (OPS.user_id, second.run_id),
        (OPS.user_id, first.run_id),
    ]
    # The payload is kept as its digest: what the run found, never the file's rows.
    assert events[0].payload_digest == payload_digest(
        {
            "value_date": "2026-02-10",
            "file_sha256": second.file_sha256,
            "file_name": "b.csv",
            "matched": 0,
            "ours_count": 3,
            "theirs_count": 1,
            "breaks": {"not_collected": 3, "not_posted": 1},
        }
    )


def test_a_refused_reconciliation_records_nothing(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    attempts: list[dict[str, object]] = [
        {"value_date": PAID_ON + timedelta(days=1), "channel_file": HEADER},  # an open day
        {"value_date": PAID_ON, "channel_file": HEADER + f"x,{r[0]},ten,2026-02-10,\n"},
        {"value_date": PAID_ON, "channel_file": HEADER, "file_name": "bad\x00name"},
    ]
    for attempt in attempts:
        with pytest.raises((DayNotClosed, InvalidInput)):
            reconcile_repayments(uow_factory, actor=OPS, **attempt)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        reconcile_repayments(
            uow_factory,
            actor=Principal(user_id="usr_am", role=Role.ACCOUNT_MANAGER),
            value_date=PAID_ON,
            channel_file=HEADER,
        )
    assert _recorded(uow_factory) == (0, 0)


def test_recorded_reconciliations_are_read_by_ledger_roles_and_valid_ids_only(
    uow_factory: Factory,
) -> None:
    with pytest.raises(InvalidIdentifier, match="not a reconciliation id"):
        reconciliation_run(uow_factory, actor=OPS, run_id="rcn_1; drop table")
    with pytest.raises(NotFound):
        reconciliation_run(uow_factory, actor=OPS, run_id="rcn_01M97GEBT7CCJTMT31HSJDFZQ4")
    manager = Principal(user_id="usr_am", role=Role.ACCOUNT_MANAGER)
    with pytest.raises(Forbidden):
        reconciliation_run(uow_factory, actor=manager, run_id="rcn_01M97GEBT7CCJTMT31HSJDFZQ4")
    with pytest.raises(Forbidden):
        reconciliation_runs(uow_factory, actor=manager)
    with pytest.raises(Forbidden):
        latest_reconciliations(uow_factory, actor=manager, days=[PAID_ON])
    with pytest.raises(InvalidInput, match="a page holds 1 to 100"):
        reconciliation_runs(uow_factory, actor=OPS, limit=101)


def test_a_duplicate_order_naming_many_loans_is_stored_whole(uow_factory: Factory) -> None:
    loans = ", ".join(f"rct_{n:026d}" for n in range(12))  # longer than any id column
    run = ReconciliationRun(
        run_id="rcn_01M97GEBT7CCJTMT31HSJDFZQ4",
        value_date=PAID_ON,
        file_sha256="0" * 64,
        file_name=None,
        reconciled_by="cli:ops",
        reconciled_at=datetime(2026, 2, 11, 9, 30, tzinfo=UTC),
        matched=0,
        matched_fen=0,
        ours_count=12,
        ours_fen=1_200,
        theirs_count=1,
        theirs_fen=100,
        breaks_count=1,
        breaks=(Break(BreakKind.DUPLICATE_ORDER, "X", "rct_1", 1_200, 100, loans, "T"),),
    )
    with uow_factory() as uow:
        uow.reconciliations.add(run)
        uow.commit()
    assert reconciliation_run(uow_factory, actor=OPS, run_id=run.run_id) == run


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("order_id,amount\nx,1\n", "lacks the columns loan_id, value_date"),
        (
            HEADER + "a,L1,1.00,2026-02-10,\na,L2,2.00,2026-02-10,\n",
            "line 3: order a appears twice",
        ),
        (HEADER + "a,L1,1.001,2026-02-10,\n", "line 2:"),
        (HEADER + "a,L1,-5,2026-02-10,\n", "line 2: the amount must be positive"),
        (HEADER + "a,L1,abc,2026-02-10,\n", "line 2:"),
        (HEADER + "a,,1.00,2026-02-10,\n", "line 2: loan_id must be"),
        (HEADER + ",L1,1.00,2026-02-10,\n", "line 2: order_id must be"),
        (HEADER + "a,L1,1.00,10/02/2026,\n", "line 2: value_date '10/02/2026' is not a date"),
        (HEADER + "a,L1,1.00,2026-02-10,\x00\n", "line 2: channel_ref must be"),
        (HEADER + "a,L1,1.00,2026-02-10," + "x" * 200_000 + "\n", "not readable CSV"),
    ],
)
def test_a_malformed_channel_file_is_refused_naming_the_line(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_channel_file(text, value_date=PAID_ON)


def test_a_bom_blank_lines_and_no_channel_ref_are_accepted() -> None:
    text = "\ufefforder_id,loan_id,amount,value_date\nA,L1,12.3,2026-02-10\n\n,,,\n"
    (row,) = parse_channel_file(text, value_date=PAID_ON)
    assert (row.order_id, row.loan_id, row.amount_fen, row.channel_ref) == ("A", "L1", 12_30, "")


def test_the_command_exits_1_on_breaks_and_0_when_the_books_agree(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    agreeing = tmp_path / "agrees.csv"
    agreeing.write_text(_agreeing(r), encoding="utf-8")
    ok = runner.invoke(
        app, ["ledger", "reconcile-repayments", "--date", "2026-02-10", "--file", str(agreeing)]
    )
    assert ok.exit_code == 0, ok.output
    assert "3 matched (3800.50 yuan)" in ok.output
    assert "the books and the channel agree" in ok.output

    breaking = tmp_path / "breaks.csv"
    breaking.write_text(HEADER + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n", encoding="utf-8")
    args = ["ledger", "reconcile-repayments", "--date", "2026-02-10", "--file", str(breaking)]
    broken = runner.invoke(app, args)
    assert broken.exit_code == 1, broken.output
    assert f"ord-002  {r[1]}: posted here, not collected by the channel" in broken.output
    document = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert document["agrees"] is False
    assert [(b["order_id"], b["kind"], b["ours"]) for b in document["breaks"]] == [
        ("ord-002", "not_collected", "2500.50"),
        ("ord-003", "not_collected", "300.00"),
    ]

    open_day = runner.invoke(
        app, ["ledger", "reconcile-repayments", "--date", "2026-02-11", "--file", str(breaking)]
    )
    assert open_day.exit_code == 2
    assert "still open" in open_day.output
    unreadable = runner.invoke(
        app,
        ["ledger", "reconcile-repayments", "--date", "2026-02-10", "--file", str(tmp_path / "no")],
    )
    assert unreadable.exit_code == 2
    assert "cannot read" in unreadable.output

    # Each reconciliation was recorded, under the operator who ran it.
    assert "recorded as rcn_" in ok.output
    assert f"sha256 {hashlib.sha256(agreeing.read_bytes()).hexdigest()[:16]}" in ok.output
    assert document["file_name"] == "breaks.csv"
    assert document["file_sha256"] == hashlib.sha256(breaking.read_bytes()).hexdigest()
    assert document["reconciled_by"].startswith("cli:")
    listed = runner.invoke(app, ["ledger", "reconciliations", "--json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.output)
    assert (runs[0]["run_id"], runs[0]["breaks_count"]) == (document["run_id"], 2)
    assert [x["agrees"] for x in runs] == [False, False, True]
    text = runner.invoke(app, ["ledger", "reconciliations", "--date", "2026-02-10"])
    assert text.output.count("2026-02-10") == 3
    assert "2 breaks" in text.output
    assert "agrees" in text.output
    none = runner.invoke(app, ["ledger", "reconciliations", "--date", "2026-02-09"])
    assert "no reconciliation recorded for 2026-02-09" in none.output
    shown = runner.invoke(app, ["ledger", "reconciliation", document["run_id"], "--json"])
    assert json.loads(shown.output) == document
    unknown = runner.invoke(app, ["ledger", "reconciliation", "rcn_bad"])
    assert unknown.exit_code == 2
    assert "not a reconciliation id" in unknown.output


def test_a_key_taken_over_the_api_is_known_to_the_channel_as_its_caller_sent_it() -> None:
    assert order_of("usr_01M975GM53ER8R406Y1SC8W12T:ORD-1") == "ORD-1"
    assert order_of("usr_01M975GM53ER8R406Y1SC8W12T:a:b") == "a:b"
    # Keys posted by the bank's own jobs are kept whole.
    assert order_of("demo-term-pay:loan_1:2026-02-10") == "demo-term-pay:loan_1:2026-02-10"
    assert order_of("repay-rcpt_1-2026-02-10") == "repay-rcpt_1-2026-02-10"
    assert order_of("usr_short:ORD-1") == "usr_short:ORD-1"


def test_two_callers_posting_the_same_order_id_is_a_break_of_its_own() -> None:
    ours = [
        PostedRepayment("usr_01AAAAAAAAAAAAAAAAAAAAAAAA:X", "L1", 100),
        PostedRepayment("usr_01BBBBBBBBBBBBBBBBBBBBBBBB:X", "L2", 100),
        PostedRepayment("usr_01BBBBBBBBBBBBBBBBBBBBBBBB:Y", "L2", 50),
    ]
    found = reconcile(
        PAID_ON, ours, [ChannelPayment("X", "L1", 100, "T"), ChannelPayment("Y", "L2", 50)]
    )
    (duplicate,) = found.breaks
    assert (duplicate.kind, duplicate.order_id, duplicate.ours_fen, duplicate.theirs_fen) == (
        BreakKind.DUPLICATE_ORDER,
        "X",
        200,
        100,
    )
    assert duplicate.ours_loan_id == "L1, L2"
    assert (found.matched, found.ours_count, found.ours_fen) == (1, 3, 250)
