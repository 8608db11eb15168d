"""Servicing use cases on SQLite and PostgreSQL: lines, draws, repayments, write-off, recovery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, text

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.errors import IdempotencyConflict, InvalidAmount, InvalidDate, NotFound
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.errors import (
    EventOutOfOrder,
    InsufficientLimit,
    LineExpired,
    LineFrozen,
    Overpayment,
)
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.errors import (
    CorrectionNotPossible,
    EndOfDayPending,
    NotWrittenOff,
    ReceiptNotActive,
)
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import (
    draw,
    freeze_credit_line,
    reduce_credit_limit,
    unfreeze_credit_line,
)
from puhui.services.servicing.receipts import (
    quote_payoff,
    recover,
    repay,
    reverse_repayment,
    write_off,
)

Factory = Callable[[], ServicingUnitOfWork]
DRAWN_ON = date(2026, 2, 2)


def _draw(uow_factory: Factory, line_id: CreditLineId, amount_fen: int = 200_000_00) -> ReceiptId:
    result = draw(
        uow_factory,
        line_id,
        amount_fen=amount_fen,
        on=DRAWN_ON,
        maturity_date=date(2026, 8, 2),
        idempotency_key=f"draw-{amount_fen}",
        actor="customer",
    )
    return ReceiptId(result.receipt_id)


def _available(uow_factory: Factory, line_id: CreditLineId) -> int:
    with uow_factory() as uow:
        line = uow.lines.get(line_id)
        assert line is not None
        return line.available_fen


def test_a_draw_books_principal_and_lowers_the_available_limit(
    uow_factory: Factory, line_id: CreditLineId
) -> None:
    _draw(uow_factory, line_id)
    assert _available(uow_factory, line_id) == 800_000_00
    balance = trial_balance(uow_factory, as_of=DRAWN_ON)
    assert balance.balances_fen[Account.PRINCIPAL_RECEIVABLE] == 200_000_00
    assert balance.balances_fen[Account.SETTLEMENT] == -200_000_00
    assert balance.balanced


def test_a_draw_above_the_available_limit_is_refused_and_changes_nothing(
    uow_factory: Factory,
    line_id: CreditLineId,
    engine: Engine,
    snapshot: Callable[[], object],
) -> None:
    _draw(uow_factory, line_id, 900_000_00)
    before = snapshot()
    with pytest.raises(InsufficientLimit):
        _draw(uow_factory, line_id, 100_000_01)
    assert snapshot() == before


def test_a_frozen_line_refuses_draws_until_unfrozen(
    uow_factory: Factory, line_id: CreditLineId
) -> None:
    freeze_credit_line(uow_factory, line_id, actor="risk", reason="early warning")
    with pytest.raises(LineFrozen):
        _draw(uow_factory, line_id)
    unfreeze_credit_line(uow_factory, line_id, actor="risk", reason="cleared")
    _draw(uow_factory, line_id)


def test_reducing_below_the_drawn_amount_leaves_nothing_available(
    uow_factory: Factory, line_id: CreditLineId
) -> None:
    _draw(uow_factory, line_id, 300_000_00)
    reduced = reduce_credit_limit(
        uow_factory, line_id, new_limit_fen=200_000_00, actor="risk", reason="review"
    )
    assert reduced.limit_fen == 200_000_00
    assert reduced.available_fen == 0
    with pytest.raises(InvalidAmount):
        reduce_credit_limit(
            uow_factory, line_id, new_limit_fen=500_000_00, actor="risk", reason="not a reduction"
        )


def test_a_draw_after_expiry_is_refused(uow_factory: Factory, line_id: CreditLineId) -> None:
    with pytest.raises(LineExpired):
        draw(
            uow_factory,
            line_id,
            amount_fen=100_00,
            on=date(2027, 1, 5),
            maturity_date=date(2027, 2, 1),
            idempotency_key="late",
            actor="c",
        )


def test_full_repayment_closes_the_receipt_and_restores_the_limit(
    uow_factory: Factory, line_id: CreditLineId
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    owed = quote_payoff(uow_factory, receipt_id, on=DRAWN_ON)
    assert owed == 200_000_00  # same-day payoff: no day has accrued yet
    result = repay(
        uow_factory, receipt_id, amount_fen=owed, on=DRAWN_ON, idempotency_key="pay", actor="c"
    )
    assert result.closed
    assert _available(uow_factory, line_id) == 1_000_000_00
    balance = trial_balance(uow_factory, as_of=DRAWN_ON)
    assert balance.balances_fen.get(Account.PRINCIPAL_RECEIVABLE, 0) == 0
    assert balance.balanced
    with pytest.raises(ReceiptNotActive):
        repay(uow_factory, receipt_id, amount_fen=1, on=DRAWN_ON, idempotency_key="x", actor="c")


def test_replaying_a_repayment_returns_the_original_result_and_posts_nothing(
    uow_factory: Factory,
    line_id: CreditLineId,
    engine: Engine,
    snapshot: Callable[[], object],
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    first = repay(
        uow_factory, receipt_id, amount_fen=5_000_00, on=DRAWN_ON, idempotency_key="k", actor="c"
    )
    before = snapshot()
    again = repay(
        uow_factory, receipt_id, amount_fen=5_000_00, on=DRAWN_ON, idempotency_key="k", actor="c"
    )
    assert again.replayed
    assert not first.replayed
    assert again.principal_fen == first.principal_fen == 5_000_00
    assert again.outstanding_principal_fen == first.outstanding_principal_fen
    assert snapshot() == before


def test_reusing_a_key_for_a_different_request_is_a_conflict(
    uow_factory: Factory,
    line_id: CreditLineId,
    engine: Engine,
    snapshot: Callable[[], object],
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    repay(uow_factory, receipt_id, amount_fen=100, on=DRAWN_ON, idempotency_key="k", actor="c")
    before = snapshot()
    with pytest.raises(IdempotencyConflict):
        repay(uow_factory, receipt_id, amount_fen=200, on=DRAWN_ON, idempotency_key="k", actor="c")
    assert snapshot() == before


BAD_REPAYMENTS = [
    ("negative", -100, DRAWN_ON, "real", InvalidAmount),
    ("zero", 0, DRAWN_ON, "real", InvalidAmount),
    ("before-disbursement", 100, date(2026, 2, 1), "real", InvalidDate),
    ("unknown-receipt", 100, DRAWN_ON, "rcpt_unknown", NotFound),
    ("overpayment", 200_000_01, DRAWN_ON, "real", Overpayment),
    ("end-of-day-gap", 100, date(2026, 2, 4), "real", EndOfDayPending),
]


def test_bad_repayments_get_a_named_error_and_change_nothing(
    uow_factory: Factory,
    line_id: CreditLineId,
    snapshot: Callable[[], object],
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    before = snapshot()
    for case, amount_fen, on, receipt, error in BAD_REPAYMENTS:
        target = receipt_id if receipt == "real" else ReceiptId(receipt)
        with pytest.raises(error):
            repay(
                uow_factory, target, amount_fen=amount_fen, on=on, idempotency_key=case, actor="c"
            )
        assert snapshot() == before, case


def test_write_off_moves_receivables_to_expense_and_recoveries_are_income(
    uow_factory: Factory, line_id: CreditLineId
) -> None:
    receipt_id = _draw(uow_factory, line_id, 50_000_00)
    with pytest.raises(NotWrittenOff):
        recover(uow_factory, receipt_id, amount_fen=1, on=DRAWN_ON, idempotency_key="r0", actor="c")
    done = write_off(
        uow_factory, receipt_id, on=DRAWN_ON, idempotency_key="wo", actor="ops", reason="fraud"
    )
    assert done.written_off_fen == 50_000_00
    recovered = recover(
        uow_factory, receipt_id, amount_fen=10_000_00, on=DRAWN_ON, idempotency_key="r1", actor="c"
    )
    assert recovered.recovered_total_fen == 10_000_00
    with pytest.raises(InvalidAmount):
        recover(
            uow_factory,
            receipt_id,
            amount_fen=40_000_01,
            on=DRAWN_ON,
            idempotency_key="r2",
            actor="c",
        )
    balance = trial_balance(uow_factory, as_of=DRAWN_ON)
    assert balance.balances_fen[Account.WRITE_OFF_EXPENSE] == 50_000_00
    assert balance.balances_fen[Account.RECOVERY_INCOME] == -10_000_00
    assert balance.balances_fen.get(Account.PRINCIPAL_RECEIVABLE, 0) == 0
    assert balance.balanced
    with pytest.raises(LineFrozen):
        _draw(uow_factory, line_id, 100_00)


def test_every_state_change_is_audited(
    uow_factory: Factory, line_id: CreditLineId, engine: Engine
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    repay(uow_factory, receipt_id, amount_fen=100, on=DRAWN_ON, idempotency_key="a", actor="c")
    with engine.connect() as connection:
        actions = [
            row[0]
            for row in connection.execute(text("SELECT action FROM audit_events ORDER BY seq"))
        ]
    assert actions == ["product.created", "credit_line.opened", "receipt.drawn", "receipt.repaid"]


def test_the_journal_refuses_updates_and_deletes(
    uow_factory: Factory, line_id: CreditLineId, engine: Engine
) -> None:
    _draw(uow_factory, line_id)
    for statement in ("UPDATE journal_lines SET amount_fen = 1", "DELETE FROM journal_entries"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_a_same_day_repayment_is_corrected_by_a_reversal_that_restores_the_receipt(
    uow_factory: Factory, line_id: CreditLineId, engine: Engine
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    with uow_factory() as uow:
        before = uow.loans.get(receipt_id)
    repay(
        uow_factory,
        receipt_id,
        amount_fen=50_000_00,
        on=DRAWN_ON,
        idempotency_key="oops",
        actor="c",
    )
    reversal = reverse_repayment(
        uow_factory, "oops", idempotency_key="fix", actor="ops", reason="wrong account"
    )
    with uow_factory() as uow:
        after = uow.loans.get(receipt_id)
    assert before is not None
    assert after is not None
    assert replace(after, version=before.version) == before
    assert after.version == before.version + 2
    assert _available(uow_factory, line_id) == 800_000_00
    with engine.connect() as connection:
        reverses = connection.execute(
            text("SELECT reverses_key FROM journal_entries WHERE idempotency_key = :k"),
            {"k": reversal.entry_key},
        ).scalar_one()
    assert reverses == "repay:oops"  # the original entry stays; the reversal names it
    balance = trial_balance(uow_factory, as_of=DRAWN_ON)
    assert balance.balances_fen[Account.PRINCIPAL_RECEIVABLE] == 200_000_00
    assert balance.balanced
    again = reverse_repayment(
        uow_factory, "oops", idempotency_key="fix", actor="ops", reason="wrong account"
    )
    assert again.replayed
    with pytest.raises(CorrectionNotPossible):
        reverse_repayment(uow_factory, "oops", idempotency_key="fix-2", actor="ops", reason="twice")


def test_only_the_latest_repayment_of_an_open_day_can_be_reversed(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    receipt_id = _draw(uow_factory, line_id)
    for key in ("first", "second"):
        repay(
            uow_factory,
            receipt_id,
            amount_fen=1_000_00,
            on=DRAWN_ON,
            idempotency_key=key,
            actor="c",
        )
    with pytest.raises(CorrectionNotPossible):
        reverse_repayment(uow_factory, "first", idempotency_key="r1", actor="ops", reason="x")
    run_end_of_day(eod_store, DRAWN_ON)
    with pytest.raises(EventOutOfOrder):
        reverse_repayment(uow_factory, "second", idempotency_key="r2", actor="ops", reason="x")
    with pytest.raises(NotFound):
        reverse_repayment(uow_factory, "never", idempotency_key="r3", actor="ops", reason="x")
