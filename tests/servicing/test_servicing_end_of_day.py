"""End of day on SQLite and PostgreSQL: exact accrual, idempotent, in order, resumable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text

from puhui.adapters.db.servicing.end_of_day import CATEGORY_SQL, SqlEndOfDayStore
from puhui.adapters.db.servicing.tables import category_history
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.account import LoanAccount
from puhui.domain.lending.delinquency import FiveCategory, classify
from puhui.domain.lending.errors import EventOutOfOrder
from puhui.domain.lending.revolving import RevolvingAccrual
from puhui.pipelines.eod import EndOfDaySkipped, EndOfDayUnfinished, run_end_of_day
from puhui.services.servicing.end_of_day import STEPS, Step
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import draw
from puhui.services.servicing.receipts import quote_payoff, repay

Factory = Callable[[], ServicingUnitOfWork]
DRAWN_ON = date(2026, 2, 1)


def _draw(uow_factory: Factory, line_id: CreditLineId, *, maturity: date) -> ReceiptId:
    result = draw(
        uow_factory,
        line_id,
        amount_fen=50_000_00,
        on=DRAWN_ON,
        maturity_date=maturity,
        idempotency_key="d",
        actor="c",
    )
    return ReceiptId(result.receipt_id)


def _receipt(uow_factory: Factory, receipt_id: ReceiptId) -> LoanAccount:
    with uow_factory() as uow:
        receipt = uow.loans.get(receipt_id)
    assert receipt is not None
    return receipt


def _run_through(store: SqlEndOfDayStore, first: date, last: date) -> None:
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def test_balance_days_interest_settles_on_the_20th_to_the_fen(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, engine: Engine
) -> None:
    receipt_id = _draw(uow_factory, line_id, maturity=date(2026, 7, 1))
    _run_through(eod_store, DRAWN_ON, date(2026, 2, 19))
    before = _receipt(uow_factory, receipt_id)
    assert before.interest_accum_fen_days == 50_000_00 * 19
    run_end_of_day(eod_store, date(2026, 2, 20))
    after = _receipt(uow_factory, receipt_id)
    # 5,000,000 fen × 20 days × 4.35% / 360 = 12,083.33 fen, rounded once at settlement.
    assert after.interest_billed_fen == 12_083
    assert after.interest_accum_fen_days == 0
    assert after.billed_due_on == date(2026, 2, 21)
    with engine.connect() as connection:
        sub_ledger = connection.execute(
            text("SELECT SUM(interest_fen) FROM accrual_entries WHERE loan_id = :id"),
            {"id": receipt_id},
        ).scalar_one()
    assert sub_ledger == 12_083
    balance = trial_balance(uow_factory, as_of=date(2026, 2, 20))
    assert balance.balances_fen[Account.INTEREST_INCOME] == -12_083
    assert balance.balanced


def test_a_second_run_of_the_same_date_changes_nothing(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    engine: Engine,
    snapshot: Callable[[], object],
) -> None:
    _draw(uow_factory, line_id, maturity=date(2026, 7, 1))
    run_end_of_day(eod_store, DRAWN_ON)
    before = snapshot()
    report = run_end_of_day(eod_store, DRAWN_ON)
    assert report.already_completed
    assert snapshot() == before


def test_skipping_a_date_is_refused_and_names_the_missing_date(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    engine: Engine,
    snapshot: Callable[[], object],
) -> None:
    _draw(uow_factory, line_id, maturity=date(2026, 7, 1))
    run_end_of_day(eod_store, date(2026, 2, 10))  # the first run may start on any date
    before = snapshot()
    with pytest.raises(EndOfDaySkipped, match="2026-02-11") as raised:
        run_end_of_day(eod_store, date(2026, 2, 12))
    assert raised.value.details["missing_date"] == "2026-02-11"
    assert snapshot() == before


class _CrashingStore(SqlEndOfDayStore):
    """Fails inside one step, after its statements ran but before its transaction committed."""

    def __init__(self, inner: SqlEndOfDayStore, engine: Engine, crash_at: Step) -> None:
        super().__init__(engine, clock=inner._clock)
        self.crash_at = crash_at

    def _mark(self, connection, as_of, step, rows):  # type: ignore[no-untyped-def]
        if step is self.crash_at:
            raise RuntimeError("power cut")
        super()._mark(connection, as_of, step, rows)


@pytest.mark.parametrize("crash_at", list(Step), ids=[s.value for s in Step])
def test_a_crashed_run_resumes_at_its_unfinished_step_with_the_same_result(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    engine: Engine,
    crash_at: Step,
) -> None:
    receipt_id = _draw(uow_factory, line_id, maturity=date(2026, 7, 1))
    crashing = _CrashingStore(eod_store, engine, crash_at)
    with pytest.raises(RuntimeError, match="power cut"):
        run_end_of_day(crashing, DRAWN_ON)
    with pytest.raises(EndOfDayUnfinished):
        run_end_of_day(eod_store, DRAWN_ON + timedelta(days=1))
    report = run_end_of_day(eod_store, DRAWN_ON)
    assert report.resumed
    assert set(report.rows_by_step) == {s.value for s in STEPS[STEPS.index(crash_at) :]}
    receipt = _receipt(uow_factory, receipt_id)
    assert receipt.interest_accum_fen_days == 50_000_00  # accrued once, not twice
    balance = trial_balance(uow_factory, as_of=DRAWN_ON)
    # 5,000,000 × 4.35% / 360 = 604.17 → 604 fen: the rounded cumulative accrual.
    assert balance.balances_fen[Account.INTEREST_RECEIVABLE] == 604
    assert balance.balanced


def test_postings_on_a_closed_day_are_refused(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    receipt_id = _draw(uow_factory, line_id, maturity=date(2026, 7, 1))
    run_end_of_day(eod_store, DRAWN_ON)
    with pytest.raises(EventOutOfOrder):
        repay(uow_factory, receipt_id, amount_fen=100, on=DRAWN_ON, idempotency_key="x", actor="c")
    with pytest.raises(EventOutOfOrder):
        draw(
            uow_factory,
            line_id,
            amount_fen=100_00,
            on=DRAWN_ON,
            maturity_date=date(2026, 3, 1),
            idempotency_key="late-draw",
            actor="c",
        )
    repay(
        uow_factory,
        receipt_id,
        amount_fen=100,
        on=DRAWN_ON + timedelta(days=1),
        idempotency_key="y",
        actor="c",
    )


@pytest.mark.slow
def test_overdue_receipt_is_classified_goes_non_accrual_and_pays_off_to_a_zero_balance(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, engine: Engine
) -> None:
    receipt_id = _draw(uow_factory, line_id, maturity=date(2026, 2, 10))
    _run_through(eod_store, DRAWN_ON, date(2026, 5, 15))
    receipt = _receipt(uow_factory, receipt_id)
    # Principal due 10 Feb is overdue from 11 Feb: 94 days on 15 May.
    assert receipt.overdue_since == date(2026, 2, 11)
    assert receipt.days_past_due == 94
    assert receipt.category is FiveCategory.SUBSTANDARD
    assert receipt.non_accrual
    with engine.connect() as connection:
        history = connection.execute(
            select(
                category_history.c.changed_on,
                category_history.c.from_category,
                category_history.c.to_category,
            ).order_by(category_history.c.changed_on)
        ).all()
    assert [tuple(h) for h in history] == [
        (date(2026, 2, 11), "pass", "special-mention"),
        (date(2026, 5, 12), "special-mention", "substandard"),
    ]
    balance = trial_balance(uow_factory, as_of=date(2026, 5, 15))
    memo = balance.balances_fen[Account.NON_ACCRUAL_MEMO]
    assert memo == receipt.memo_interest_fen + receipt.memo_penalty_fen > 0
    assert balance.balances_fen.get(Account.INTEREST_RECEIVABLE, 0) == 0
    assert balance.balanced

    pay_on = date(2026, 5, 16)
    owed = quote_payoff(uow_factory, receipt_id, on=pay_on)
    result = repay(
        uow_factory, receipt_id, amount_fen=owed, on=pay_on, idempotency_key="all", actor="c"
    )
    assert result.closed
    final = trial_balance(uow_factory, as_of=pay_on)
    assert {a: v for a, v in final.balances_fen.items() if v}.keys() <= {
        Account.SETTLEMENT,
        Account.INTEREST_INCOME,
        Account.PENALTY_INCOME,
    }
    assert final.balances_fen[Account.SETTLEMENT] == owed - 50_000_00
    assert final.balanced


def test_the_sql_classification_is_the_domain_rule(engine: Engine) -> None:
    cases = [
        (dpd, grace) for grace in range(8) for dpd in (0, 1, 6, 7, 8, 90, 91, 270, 271, 360, 361)
    ]
    with engine.connect() as connection:
        for dpd, grace in cases:
            stored = connection.execute(
                text(
                    f"SELECT {CATEGORY_SQL} FROM (SELECT :dpd AS days_past_due, :g AS grace_days) t"
                ),
                {"dpd": dpd, "g": grace},
            ).scalar_one()
            assert stored == classify(dpd, grace_days=grace).value, (dpd, grace)


def test_end_of_day_interest_matches_the_revolving_accrual_of_the_domain(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    """Draw, repay principal on both sides of a 结息日, pay off: the SQL batch and the pure
    balance-days model (``RevolvingAccrual``) charge the same interest at every settlement."""
    drawn_on, rate, amount = date(2026, 3, 3), Decimal("0.0435"), 1_234_567
    receipt_id = ReceiptId(
        draw(
            uow_factory,
            line_id,
            amount_fen=amount,
            on=drawn_on,
            maturity_date=date(2026, 9, 1),
            idempotency_key="d",
            actor="c",
        ).receipt_id
    )
    model = RevolvingAccrual.open(rate, drawn_on).draw(drawn_on, amount)
    # principal to repay on a date; 0 = pay the interest billed on the 20th; None = payoff.
    plan: dict[date, int | None] = {
        date(2026, 3, 10): 300_000,
        date(2026, 3, 21): 0,
        date(2026, 3, 25): 200_000,
        date(2026, 4, 2): None,
    }
    expected: list[int] = []
    charged: list[int] = []
    day = drawn_on
    while day <= max(plan):
        if day in plan:
            receipt = _receipt(uow_factory, receipt_id)
            owed = quote_payoff(uow_factory, receipt_id, on=day)
            principal = plan[day]
            if principal is None:
                model, settlement = model.payoff(day)
                paying = owed
            elif principal == 0:
                paying = receipt.interest_billed_fen
            else:
                model, settlement = model.repay(day, principal)
                paying = owed - receipt.outstanding_principal_fen + principal
            paid = repay(
                uow_factory,
                receipt_id,
                amount_fen=paying,
                on=day,
                idempotency_key=f"p{day}",
                actor="c",
            )
            if principal != 0:
                expected.append(settlement.interest_fen)
                charged.append(paid.interest_fen)
                assert paid.principal_fen == (principal or amount - 500_000)
            if principal is None:
                assert paid.closed
                break
        run_end_of_day(eod_store, day)
        if day.day == 20:
            model, settlement = model.settle(day)
            expected.append(settlement.interest_fen)
            charged.append(_receipt(uow_factory, receipt_id).interest_billed_fen)
        day += timedelta(days=1)
    assert charged == expected
    assert len(charged) == 4
    balance = trial_balance(uow_factory, as_of=date(2026, 4, 2))
    assert balance.balances_fen[Account.INTEREST_INCOME] == -sum(expected)
    assert balance.balanced
