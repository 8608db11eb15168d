"""Property: after any mix of draws, covers, fee collections, claims, payments, write-offs
and recoveries, the ledger balances and the guarantee accounts agree with the claims."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.guarantees.platform.conftest import (
    AGENCY_USCC,
    DRAWN_ON,
    Factory,
    draw_loan,
    open_line,
    set_past_due,
    terms,
)

from puhui.bootstrap import Platform
from puhui.domain.guarantees.errors import BorrowerCapExceeded, PortfolioCapExceeded
from puhui.domain.ledger import Account
from puhui.services.guarantees.use_cases import GuaranteeService
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.receipts import recover, write_off

LATER = date(2026, 6, 1)
_numbers = itertools.count(1)

loan_paths = st.lists(
    st.tuples(
        st.integers(min_value=100_00, max_value=500_000_00),  # principal
        st.integers(min_value=0, max_value=4),  # how far the loan goes: 0 covered … 4 recovered
        st.integers(min_value=1, max_value=100_000_00),  # recovery
        st.integers(min_value=0, max_value=5_000_00),  # interest billed
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    share=st.decimals(min_value=Decimal("0.1"), max_value=Decimal(1), places=2),
    borrower_cap_fen=st.integers(min_value=100_00, max_value=600_000_00),
    paths=loan_paths,
)
def test_the_books_balance_and_guarantee_accounts_match_the_claims(
    guarantee_platform: Platform,
    servicing: Factory,
    service: GuaranteeService,
    share: Decimal,
    borrower_cap_fen: int,
    paths: list[tuple[int, int, int, int]],
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(
        terms(
            agency.agency_id,
            coverage_share=share,
            borrower_cap_fen=borrower_cap_fen,
            portfolio_cap_fen=max(borrower_cap_fen, 800_000_00),
        ),
        actor="ops",
    )
    for principal, depth, recovery, interest in paths:
        n = next(_numbers)
        enterprise = f"91350100M{n:08d}X"
        loan_id = draw_loan(servicing, open_line(servicing, enterprise), principal, f"d{n}")
        try:
            service.cover_loan(
                loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o"
            )
        except (BorrowerCapExceeded, PortfolioCapExceeded):
            continue
        if depth >= 1:
            set_past_due(guarantee_platform, loan_id, 90, interest_billed_fen=interest)
            service.raise_claim(loan_id=loan_id, on=LATER, actor="ops")
        if depth >= 2:
            service.pay_claim(loan_id=loan_id, on=LATER, actor="ops")
        if depth >= 3:
            write_off(
                servicing, loan_id, on=DRAWN_ON, idempotency_key=f"wo{n}", actor="o", reason="x"
            )
        if depth >= 4:
            amount = min(recovery, principal)
            recover(
                servicing,
                loan_id,
                amount_fen=amount,
                on=DRAWN_ON,
                idempotency_key=f"r{n}",
                actor="c",
            )
            service.share_recovery(
                loan_id=loan_id, amount_fen=amount, on=LATER, idempotency_key=f"r{n}", actor="o"
            )
    service.run_claims(LATER)

    balances = trial_balance(servicing, as_of=LATER).balances_fen
    assert sum(balances.values()) == 0
    claims = service.claims()
    raised = sum(c.claim_fen for c in claims if c.status == "raised")
    # Held from the claim's raising until the loan's write-off, paid or not.
    held = sum(c.claim_fen for c in claims if c.released_on is None)
    released = sum(c.claim_fen for c in claims if c.released_on is not None)
    shared = sum(c.agency_recovered_fen for c in claims)
    assert balances.get(Account.GUARANTEE_CLAIM_RECEIVABLE, 0) == raised
    assert balances.get(Account.GUARANTEE_COMPENSATION_HELD, 0) == -held
    assert balances.get(Account.GUARANTEE_COMPENSATION_INCOME, 0) == -released
    assert balances.get(Account.GUARANTEE_RECOVERY_PAYABLE, 0) == -shared
    assert balances.get(Account.GUARANTEE_FEE_RECEIVABLE, 0) == 0
    for c in claims:
        assert c.agency_recovered_fen <= c.claim_fen
    [row] = [r for r in service.exposure() if r.agreement_id == agreement.agreement_id]
    assert row.claims_fen <= agreement.portfolio_cap_fen
    assert row.covered_fen <= agreement.portfolio_cap_fen
