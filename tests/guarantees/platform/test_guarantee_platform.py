"""Guarantees on the platform (SQLite and PostgreSQL): covers within caps, fees and claims
through the ledger, claims only at the trigger, recoveries shared, every refusal changes
nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from tests.guarantees.platform.conftest import (
    AGENCY_USCC,
    DRAWN_ON,
    Factory,
    draw_loan,
    open_line,
    set_past_due,
    terms,
)

from puhui.adapters.db.guarantees.unit_of_work import GuaranteeUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.guarantees.agreements import FeeMode
from puhui.domain.guarantees.errors import (
    AlreadyCovered,
    BorrowerCapExceeded,
    ClaimNotPaid,
    ClaimNotPayable,
    ClaimNotTriggered,
    PortfolioCapExceeded,
)
from puhui.domain.ledger import Account
from puhui.services.guarantees.use_cases import GuaranteeService
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.receipts import recover, write_off

BORROWER = "91350100M000100Y43"
OTHER = "91350100M000200Y44"
LATER = date(2026, 6, 1)


def _rows(platform: Platform, table: str) -> int:
    with platform.database.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def _guarantee_state(platform: Platform) -> dict[str, int]:
    return {
        table: _rows(platform, table)
        for table in (
            "guarantee_covers",
            "guarantee_fees",
            "guarantee_claims",
            "journal_entries",
            "audit_events",
        )
    }


def test_covering_a_loan_collects_the_fee_at_draw_through_the_ledger(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="国家融资担保基金", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 200_000_00, "d1")

    result = service.cover_loan(
        loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="ops"
    )

    assert result.cover.covered_fen == 160_000_00
    # 200,000.00 × 1 % × 181 days / 360 = 1,005.555… → 1,005.56 yuan
    assert result.fee is not None
    assert result.fee.amount_fen == 1_005_56
    balance = trial_balance(servicing, as_of=DRAWN_ON)
    assert balance.balanced
    assert balance.balances_fen[Account.GUARANTEE_FEE_PAYABLE] == -1_005_56
    assert balance.balances_fen.get(Account.GUARANTEE_FEE_RECEIVABLE, 0) == 0
    again = service.cover_loan(
        loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="ops"
    )
    assert again.replayed
    assert trial_balance(servicing, as_of=DRAWN_ON).balances_fen == balance.balances_fen


def test_a_cover_above_a_cap_is_refused_and_changes_nothing(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="省担保集团", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(
        terms(agency.agency_id, borrower_cap_fen=200_000_00, portfolio_cap_fen=300_000_00),
        actor="ops",
    )
    first_line = open_line(servicing, BORROWER)
    first = draw_loan(servicing, first_line, 200_000_00, "d1")
    second = draw_loan(servicing, first_line, 100_000_00, "d2")
    other = draw_loan(servicing, open_line(servicing, OTHER), 250_000_00, "d3")
    service.cover_loan(loan_id=first, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o")
    before = _guarantee_state(guarantee_platform)

    # 160,000 covered + 80,000 > the borrower's 200,000 cap
    with pytest.raises(BorrowerCapExceeded):
        service.cover_loan(
            loan_id=second, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o"
        )
    # 160,000 + 200,000 > the portfolio's 300,000 cap
    with pytest.raises(PortfolioCapExceeded):
        service.cover_loan(
            loan_id=other, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o"
        )
    assert _guarantee_state(guarantee_platform) == before
    second_agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    with pytest.raises(AlreadyCovered):
        service.cover_loan(
            loan_id=first, agreement_id=second_agreement.agreement_id, on=DRAWN_ON, actor="o"
        )


def test_a_claim_before_the_trigger_is_refused_and_the_daily_job_raises_it_at_90_days(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 200_000_00, "d1")
    service.cover_loan(loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o")
    set_past_due(guarantee_platform, loan_id, 89, interest_billed_fen=1_234_56)
    before = _guarantee_state(guarantee_platform)
    with pytest.raises(ClaimNotTriggered) as refused:
        service.raise_claim(loan_id=loan_id, on=LATER, actor="ops")
    assert refused.value.code == "claim_not_triggered"
    assert service.run_claims(LATER).raised == ()
    assert _guarantee_state(guarantee_platform) == before

    set_past_due(guarantee_platform, loan_id, 90, interest_billed_fen=1_234_56)
    run = service.run_claims(LATER)

    assert [c.loan_id for c in run.raised] == [loan_id]
    # 0.8 × (200,000.00 + 1,234.56) = 160,987.648 → 160,987.65
    assert run.raised[0].claim_fen == 160_987_65
    assert service.run_claims(LATER).raised == ()
    balance = trial_balance(servicing, as_of=LATER)
    assert balance.balances_fen[Account.GUARANTEE_CLAIM_RECEIVABLE] == 160_987_65
    assert balance.balanced


def test_claim_paid_write_off_and_shared_recoveries_keep_the_ledger_balanced(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(
        terms(agency.agency_id, fee_mode=FeeMode.PERIODIC, coverage_share=Decimal("0.7")),
        actor="ops",
    )
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 100_000_00, "d1")
    service.cover_loan(loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o")
    fee = service.collect_periodic_fee(
        loan_id=loan_id, period_from=DRAWN_ON, period_to=date(2026, 3, 2), actor="ops"
    )
    assert fee.amount_fen == 77_78  # 100,000 × 1 % × 28 / 360 = 77.777… → 77.78
    set_past_due(guarantee_platform, loan_id, 95)
    claim = service.raise_claim(loan_id=loan_id, on=LATER, actor="ops")
    assert claim.claim_fen == 70_000_00
    with pytest.raises(ClaimNotPaid):
        service.share_recovery(
            loan_id=loan_id, amount_fen=1_000_00, on=LATER, idempotency_key="r0", actor="ops"
        )
    service.pay_claim(loan_id=loan_id, on=LATER, actor="ops")
    # Servicing's business day is still the draw's (no end of day ran in this test).
    write_off(servicing, loan_id, on=DRAWN_ON, idempotency_key="wo", actor="ops", reason="loss")
    released = service.run_claims(LATER).released
    assert [c.loan_id for c in released] == [loan_id]
    recover(servicing, loan_id, amount_fen=10_000_01, on=DRAWN_ON, idempotency_key="r1", actor="c")
    shared = service.share_recovery(
        loan_id=loan_id, amount_fen=10_000_01, on=LATER, idempotency_key="r1", actor="ops"
    )
    assert (shared.agency_fen, shared.bank_fen) == (7_000_01, 3_000_00)
    replay = service.share_recovery(
        loan_id=loan_id, amount_fen=10_000_01, on=LATER, idempotency_key="r1", actor="ops"
    )
    assert replay == shared

    balance = trial_balance(servicing, as_of=LATER).balances_fen
    assert sum(balance.values()) == 0
    assert balance[Account.GUARANTEE_COMPENSATION_INCOME] == -70_000_00
    assert balance.get(Account.GUARANTEE_COMPENSATION_HELD, 0) == 0
    assert balance[Account.GUARANTEE_RECOVERY_PAYABLE] == -7_000_01
    # The bank's net loss on the guaranteed loan: write-off less claim, less its recovery.
    net_loss = (
        balance[Account.WRITE_OFF_EXPENSE]
        + balance[Account.GUARANTEE_COMPENSATION_INCOME]
        + balance[Account.RECOVERY_INCOME]
        + balance[Account.GUARANTEE_RECOVERY_SHARE]
    )
    assert net_loss == 100_000_00 - 70_000_00 - 3_000_00

    remitted = service.remit(
        agency_id=agency.agency_id, on=LATER, idempotency_key="m1", actor="ops"
    )
    assert (remitted.fees_fen, remitted.recoveries_fen) == (77_78, 7_000_01)
    again = service.remit(agency_id=agency.agency_id, on=LATER, idempotency_key="m1", actor="o")
    assert again == remitted
    after = trial_balance(servicing, as_of=LATER).balances_fen
    assert after.get(Account.GUARANTEE_FEE_PAYABLE, 0) == 0
    assert after.get(Account.GUARANTEE_RECOVERY_PAYABLE, 0) == 0
    assert after[Account.SETTLEMENT] == balance[Account.SETTLEMENT] - 77_78 - 7_000_01

    [row] = service.exposure()
    assert row.loans_covered == 1
    assert row.claims_paid_fen == 70_000_00
    assert row.agency_recovered_fen == 7_000_01
    assert row.fees_fen == 77_78
    with guarantee_platform.database.engine.connect() as connection:
        actions = (
            connection.execute(
                text("SELECT action FROM audit_events WHERE action LIKE 'guarantee.%'")
            )
            .scalars()
            .all()
        )
    assert set(actions) >= {
        "guarantee.agreement_created",
        "guarantee.loan_covered",
        "guarantee.fee_collected",
        "guarantee.claim_raised",
        "guarantee.claim_paid",
        "guarantee.compensation_released",
        "guarantee.recovery_shared",
    }


def test_a_cover_written_meanwhile_by_another_request_is_the_named_409(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    """Two requests covering one loan under two agreements lock different agreements: the
    second insert meets the first's row and answers ``already_covered``, not a database error."""
    agency = service.create_agency(name="担保公司", uscc=AGENCY_USCC, actor="ops")
    first = service.create_agreement(terms(agency.agency_id), actor="ops")
    second = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 100_000_00, "race")
    done = service.cover_loan(
        loan_id=loan_id, agreement_id=first.agreement_id, on=DRAWN_ON, actor="o"
    )
    p = guarantee_platform
    with (
        GuaranteeUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key) as uow,
        pytest.raises(AlreadyCovered) as refused,
    ):
        # What the second request writes after reading "no cover yet" before the first commit.
        uow.guarantees.add_cover(
            replace(done.cover, agreement_id=second.agreement_id), actor="other"
        )
    assert refused.value.code == "already_covered"
    assert _rows(guarantee_platform, "guarantee_covers") == 1


def test_a_claim_of_a_loan_that_cures_is_withdrawn_and_raised_again_if_it_defaults_again(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 200_000_00, "d1")
    service.cover_loan(loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o")
    set_past_due(guarantee_platform, loan_id, 95)
    (raised,) = service.run_claims(LATER).raised
    assert raised.claim_fen == 160_000_00

    # The borrower brings the loan current before the agency pays: the claim is withdrawn.
    set_past_due(guarantee_platform, loan_id, 0)
    cured = date(2026, 6, 10)
    run = service.run_claims(cured)
    assert [(c.loan_id, c.status) for c in run.withdrawn] == [(loan_id, "withdrawn")]
    assert run.raised == ()
    balance = trial_balance(servicing, as_of=cured)
    assert balance.balanced
    assert balance.balances_fen.get(Account.GUARANTEE_CLAIM_RECEIVABLE, 0) == 0
    assert balance.balances_fen.get(Account.GUARANTEE_COMPENSATION_HELD, 0) == 0
    assert service.run_claims(cured).withdrawn == ()  # once only
    with pytest.raises(ClaimNotPayable) as refused:
        service.pay_claim(loan_id=loan_id, on=cured, actor="agency")
    assert refused.value.code == "claim_not_payable"
    assert [c.status for c in service.claims("withdrawn")] == ["withdrawn"]

    # It falls 90 days behind again: the same claim row is raised again, under a new entry.
    set_past_due(guarantee_platform, loan_id, 90)
    again_on = date(2026, 9, 10)
    (again,) = service.run_claims(again_on).raised
    assert (again.claim_id, again.status, again.raised_on) == (raised.claim_id, "raised", again_on)
    balance = trial_balance(servicing, as_of=again_on)
    assert balance.balanced
    assert balance.balances_fen[Account.GUARANTEE_CLAIM_RECEIVABLE] == 160_000_00
    paid = service.pay_claim(loan_id=loan_id, on=again_on, actor="agency")
    assert paid.status == "paid"


def test_a_paid_claim_of_a_loan_that_cures_returns_the_compensation_to_the_agency(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 200_000_00, "d1")
    service.cover_loan(loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="o")
    set_past_due(guarantee_platform, loan_id, 95)
    (raised,) = service.run_claims(LATER).raised
    service.pay_claim(loan_id=loan_id, on=LATER, actor="agency")
    # Something comes back from the borrower while the loan is in collection: the agency gets
    # its 80 % share of it (set aside for it, payable).
    shared = service.share_recovery(
        loan_id=loan_id, amount_fen=10_000_00, on=LATER, idempotency_key="r1", actor="ops"
    )
    assert shared.agency_fen == 8_000_00
    before = trial_balance(servicing, as_of=LATER).balances_fen

    # The borrower then brings the loan current: the bank has its loan whole again and hands
    # back what the agency is still out of pocket.
    set_past_due(guarantee_platform, loan_id, 0)
    cured = date(2026, 6, 10)
    run = service.run_claims(cured)
    (returned,) = run.returned
    assert (returned.loan_id, returned.status, returned.returned_on) == (loan_id, "returned", cured)
    assert (run.withdrawn, run.raised, run.released) == ((), (), ())
    after = trial_balance(servicing, as_of=cured)
    assert after.balanced
    moved = {
        account: after.balances_fen.get(account, 0) - before.get(account, 0)
        for account in set(after.balances_fen) | set(before)
    }
    assert after.balances_fen.get(Account.GUARANTEE_COMPENSATION_HELD, 0) == 0
    # Cash out: the claim less the 8,000.00 the agency already got back as its share; the
    # share stops being an expense of the bank (it was part of returning the compensation).
    assert moved[Account.SETTLEMENT] == -(raised.claim_fen - 8_000_00)
    assert moved[Account.GUARANTEE_RECOVERY_SHARE] == -8_000_00
    assert after.balances_fen.get(Account.GUARANTEE_RECOVERY_SHARE, 0) == 0
    assert service.run_claims(cured).returned == ()  # once only
    with pytest.raises(ClaimNotPayable):
        service.pay_claim(loan_id=loan_id, on=cured, actor="agency")
    with pytest.raises(ClaimNotPaid):
        service.share_recovery(
            loan_id=loan_id, amount_fen=1_000_00, on=cured, idempotency_key="r2", actor="ops"
        )
    assert [c.status for c in service.claims("returned")] == ["returned"]
    (exposure,) = service.exposure()
    assert (exposure.claims_raised, exposure.claims_fen, exposure.claims_paid_fen) == (0, 0, 0)
    assert exposure.agency_recovered_fen == 0

    # It falls 90 days behind again: the same claim row is raised again, under a new entry.
    set_past_due(guarantee_platform, loan_id, 90)
    again_on = date(2026, 9, 10)
    (again,) = service.run_claims(again_on).raised
    assert (again.claim_id, again.status, again.returned_on) == (raised.claim_id, "raised", None)
    assert trial_balance(servicing, as_of=again_on).balances_fen[
        Account.GUARANTEE_CLAIM_RECEIVABLE
    ] == (again.claim_fen)


def test_the_fee_schedule_collects_each_monthly_period_once_up_to_maturity(
    guarantee_platform: Platform, servicing: Factory, service: GuaranteeService
) -> None:
    agency = service.create_agency(name="担保", uscc=AGENCY_USCC, actor="ops")
    periodic = service.create_agreement(
        terms(agency.agency_id, fee_mode=FeeMode.PERIODIC), actor="ops"
    )
    at_draw = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 100_000_00, "d1")
    other = draw_loan(servicing, open_line(servicing, OTHER), 100_000_00, "d2")
    service.cover_loan(loan_id=loan_id, agreement_id=periodic.agreement_id, on=DRAWN_ON, actor="o")
    service.cover_loan(loan_id=other, agreement_id=at_draw.agreement_id, on=DRAWN_ON, actor="o")

    first = service.collect_due_fees(date(2026, 4, 15))
    # 100,000.00 × 1 % × days / 360, half-up: 28 days 77.78, 31 days 86.11, 30 days 83.33.
    assert [(f.period_from, f.period_to, f.amount_fen) for f in first] == [
        (date(2026, 2, 2), date(2026, 3, 2), 77_78),
        (date(2026, 3, 2), date(2026, 4, 2), 86_11),
        (date(2026, 4, 2), date(2026, 5, 2), 83_33),
    ]
    assert {f.loan_id for f in first} == {loan_id}  # the at-draw agreement's loan pays no more
    assert service.collect_due_fees(date(2026, 4, 15)) == []  # once only
    balance = trial_balance(servicing, as_of=date(2026, 4, 15))
    assert balance.balanced

    # A late run catches up, and the last period ends at the loan's maturity (2026-08-02).
    later = service.collect_due_fees(date(2026, 12, 31))
    assert [(f.period_from, f.period_to) for f in later] == [
        (date(2026, 5, 2), date(2026, 6, 2)),
        (date(2026, 6, 2), date(2026, 7, 2)),
        (date(2026, 7, 2), date(2026, 8, 2)),
    ]
    assert service.collect_due_fees(date(2027, 3, 1)) == []
