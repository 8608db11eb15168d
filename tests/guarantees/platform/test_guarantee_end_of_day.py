"""End to end with servicing's real end of day: a covered receipt falls 90 days past due, the
claim is refused the day before and raised on the day, from the balances end of day left."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from tests.guarantees.platform.conftest import AGENCY_USCC, DRAWN_ON, Factory, open_line, terms

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.domain.guarantees.errors import ClaimNotTriggered
from puhui.domain.guarantees.terms import share_of
from puhui.domain.ledger import Account
from puhui.pipelines.eod import run_end_of_day
from puhui.services.guarantees.use_cases import GuaranteeService
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import draw


@pytest.mark.slow
def test_the_claim_follows_the_days_past_due_that_end_of_day_computes(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    p = guarantee_platform
    store = SqlEndOfDayStore(p.database.engine, clock=p.clock)
    loan_id = draw(
        servicing,
        open_line(servicing, "91350100M000100Y43"),
        amount_fen=100_000_00,
        on=DRAWN_ON,
        maturity_date=date(2026, 2, 10),
        idempotency_key="d1",
        actor="customer",
    ).receipt_id
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    service.cover_loan(
        loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="ops"
    )
    day = DRAWN_ON
    # Principal due 10 Feb is overdue from 11 Feb: 89 days past due on 10 May.
    while day <= date(2026, 5, 10):
        run_end_of_day(store, day)
        day += timedelta(days=1)
    with pytest.raises(ClaimNotTriggered):
        service.raise_claim(loan_id=loan_id, on=date(2026, 5, 10), actor="ops")
    run_end_of_day(store, date(2026, 5, 11))

    [claim] = service.run_claims(date(2026, 5, 11)).raised

    assert claim.days_past_due == 90
    assert claim.principal_fen == 100_000_00
    assert claim.interest_fen > 0  # the interest billed and accrued, not the penalty
    assert claim.claim_fen == share_of(claim.principal_fen + claim.interest_fen, Decimal("0.8"))
    expected = (Account.GUARANTEE_CLAIM_RECEIVABLE, claim.claim_fen)
    balance = trial_balance(servicing, as_of=date(2026, 5, 11))
    assert (expected[0], balance.balances_fen[expected[0]]) == expected
    assert balance.balanced
