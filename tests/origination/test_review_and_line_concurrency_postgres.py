"""On PostgreSQL, racing reviews, draws and repayments keep every bound and lose nothing.

Fifty approvals race for one referral (one wins, none outside the product's bounds); fifty
draws race for the line it opens (never above the limit); then fifty draws and repayments
race on it together (every repayment counted exactly once, the ledger balanced).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flow_scenarios import apply_and_consent, staff
from origination_wiring import AUDIT_KEY, DATA_KEY, Wired, wire
from sqlalchemy import Engine, create_engine, text

from puhui.adapters.db import migrate
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.adapters.db.servicing.unit_of_work import servicing_units
from puhui.domain.clock import FixedClock
from puhui.domain.errors import Conflict
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.errors import InsufficientLimit
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.errors import OfferOutOfBounds
from puhui.services.origination import use_cases as uc
from puhui.services.origination.line_opening import ServicingLineOpener
from puhui.services.security.permissions import Role
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import DrawResult, draw
from puhui.services.servicing.receipts import RepaymentResult, repay

pytestmark = pytest.mark.postgres
WORKERS = 50


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url, pool_size=25, max_overflow=40)
    migrate.upgrade(engine, "heads")
    try:
        yield engine
    finally:
        engine.dispose()


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once; each result is the value returned or the error raised."""

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the test inspects every outcome, errors included
            return exc

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(run, calls))


def _unexpected(results: list[Any], *allowed: type[Exception]) -> list[Exception]:
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, allowed)]


def test_racing_reviews_draws_and_repayments_keep_every_bound(
    pg_engine: Engine, clock: FixedClock
) -> None:
    units = OriginationUnits(
        pg_engine, clock=clock, audit_key=AUDIT_KEY, cipher=FieldCipher(DATA_KEY)
    )
    w: Wired = wire(units.writer, clock, reader_factory=units.reader)
    servicing = servicing_units(pg_engine, clock=clock, audit_key=AUDIT_KEY)
    w.origination.line_opener = ServicingLineOpener(servicing)
    w.assessor.outcome = Outcome.REFER
    owner, app_id = apply_and_consent(w)
    assert (
        uc.assess_application(w.origination, actor=owner, application_id=app_id).application.status
        is ApplicationStatus.REFERRED
    )
    approvers = [staff(w, f"approver{n}", Role.APPROVER) for n in range(5)]

    # --- fifty approvals of one referral: one wins, none outside the bounds ----------------
    def review(n: int) -> Callable[[], Any]:
        out_of_bounds = n % 10 == 0
        return lambda: uc.review_application(
            w.origination,
            actor=approvers[n % len(approvers)],
            application_id=app_id,
            approve=True,
            note=f"approval {n}",
            limit_fen=20_000_000 + n * 1_000_000,
            annual_rate=Decimal("0.99") if out_of_bounds else Decimal("0.06"),
            term_months=12,
        )

    reviews = _race([review(n) for n in range(WORKERS)])
    # Losers see the referral decided (invalid transition) or changed under them (a conflict).
    assert _unexpected(reviews, Conflict, OfferOutOfBounds) == []
    winners = [(n, r) for n, r in enumerate(reviews) if not isinstance(r, Exception)]
    assert len(winners) == 1
    won, view = winners[0]
    assert won % 10 != 0
    limit = 20_000_000 + won * 1_000_000
    assert view.offer is not None
    assert view.offer.limit_fen == limit
    assert view.offer.annual_rate == Decimal("0.06")
    with pg_engine.connect() as connection:
        offers = connection.execute(text("SELECT COUNT(*) FROM origination_offers")).scalar_one()
    assert offers == 1

    opened = uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    assert opened.application.status is ApplicationStatus.LINE_OPENED
    line_id = CreditLineId(str(opened.application.credit_line_id))
    today = clock.today()
    maturity = today + timedelta(days=180)
    with servicing() as uow:
        line = uow.lines.get(line_id)
    assert line is not None
    assert line.limit_fen == limit

    # --- fifty draws on the line: never above the limit; a replayed key draws once --------
    piece = limit // 40
    draw_keys = [f"draw-{n}" for n in range(45)] + ["draw-0"] * 5

    def draw_with(key: str) -> Callable[[], Any]:
        return lambda: draw(
            servicing,
            line_id,
            amount_fen=piece,
            on=today,
            maturity_date=maturity,
            idempotency_key=key,
            actor="owner",
        )

    draws = _race([draw_with(key) for key in draw_keys])
    assert _unexpected(draws, InsufficientLimit) == []
    receipts_by_key: dict[str, set[str]] = {}
    for key, result in zip(draw_keys, draws, strict=True):
        if isinstance(result, DrawResult):
            receipts_by_key.setdefault(key, set()).add(result.receipt_id)
    assert all(len(ids) == 1 for ids in receipts_by_key.values())
    receipts = sorted(next(iter(ids)) for ids in receipts_by_key.values())
    assert len(receipts) == 40
    with servicing() as uow:
        line = uow.lines.get(line_id)
    assert line is not None
    assert line.drawn_fen == 40 * piece <= limit

    # --- fifty draws and repayments together: every repayment counted exactly once --------
    part = piece // 5
    pay_keys = [f"pay-{n}" for n in range(20)] + ["pay-0", "pay-1", "pay-2", "pay-3", "pay-4"]

    def pay_with(key: str) -> Callable[[], Any]:
        receipt = ReceiptId(receipts[int(key.removeprefix("pay-")) % 10])
        return lambda: repay(
            servicing, receipt, amount_fen=part, on=today, idempotency_key=key, actor="owner"
        )

    calls = [pay_with(key) for key in pay_keys] + [
        draw_with(f"later-{n}") for n in range(WORKERS - len(pay_keys))
    ]
    mixed = _race(calls)
    assert _unexpected(mixed, InsufficientLimit) == []
    payments = mixed[: len(pay_keys)]
    assert all(isinstance(r, RepaymentResult) for r in payments)
    fresh = [r for r in payments if not r.replayed]
    assert len(fresh) == 20
    assert all(r.principal_fen == part and r.interest_fen == 0 for r in fresh)
    per_receipt = Counter(r.receipt_id for r in fresh)
    later_draws = [r for r in mixed[len(pay_keys) :] if isinstance(r, DrawResult)]

    with servicing() as uow:
        line = uow.lines.get(line_id)
        loans = [uow.loans.get(ReceiptId(r.receipt_id)) for r in later_draws]
        earlier = {rid: uow.loans.get(ReceiptId(rid)) for rid in receipts}
    assert line is not None
    expected_drawn = (40 + len(later_draws)) * piece - 20 * part
    assert line.drawn_fen == expected_drawn <= limit
    for rid, loan in earlier.items():
        assert loan is not None
        assert loan.outstanding_principal_fen == piece - per_receipt.get(rid, 0) * part
    outstanding = sum(
        loan.outstanding_principal_fen for loan in [*earlier.values(), *loans] if loan is not None
    )
    assert outstanding == line.drawn_fen
    with pg_engine.connect() as connection:
        posted = connection.execute(
            text("SELECT COUNT(*) FROM journal_entries WHERE idempotency_key LIKE 'repay:%'")
        ).scalar_one()
    assert posted == 20
    balance = trial_balance(servicing, as_of=today)
    assert balance.balanced
    assert balance.balances_fen[Account.PRINCIPAL_RECEIVABLE] == line.drawn_fen
