"""The demo's partners stage on a small book, on SQLite and PostgreSQL: shares add up, the
ledger balances, renewals only for loans not in arrears, claims only at 90 days past due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from puhui.adapters.db.origination.tables import applications
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.bootstrap.demo_partners import (
    ALONE,
    FACILITATED,
    FACILITATION_CHANNEL,
    FACILITATION_ID,
    FEE_PER_LOAN_FEN,
    GUARANTEED,
    JOINT,
    JOINT_LENDING_ID,
    JOINT_SHARE,
    PARTNER_BANK,
    DemoPartners,
    arrangement_of,
    brought_by,
    demo_partners,
    partner_approves,
)
from puhui.cli.demo_partners import file_totals, partners_sections
from puhui.cli.demo_report import plain_lines
from puhui.domain.clock import FixedClock
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.domain.partners.shares import split
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay
from puhui.services.servicing.term_loans import disburse_term_loan

FIRST_DAY = date(2026, 1, 2)
LATE_DAY = date(2026, 1, 20)
LAST_DAY = date(2026, 5, 31)
PRINCIPAL = 100_000_00


@dataclass(frozen=True, slots=True)
class Booked:
    receipt_id: str
    uscc: str
    principal_fen: int
    drawn_on: date
    maturity: date


def _product(platform: Platform) -> ProductId:
    return create_product(
        platform.servicing_uow,
        LoanProduct(
            code="DEMO-TERM",
            name="term loan",
            method=RepaymentMethod.EQUAL_INSTALMENT,
            min_annual_rate=Decimal("0.03"),
            max_annual_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=60,
            min_amount_fen=100_00,
            max_amount_fen=10_000_000_00,
            penalty_uplift=Decimal("0.5"),
            early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
        ),
        actor="ops",
    )


def _disburse(platform: Platform, product: ProductId, name: str, on: date, months: int) -> Booked:
    uscc = f"91350100M0001{name.upper():0>5}"
    result = disburse_term_loan(
        platform.servicing_uow,
        enterprise_id=uscc,
        product_id=product,
        principal_fen=PRINCIPAL,
        annual_rate=Decimal("0.0435"),
        term_months=months,
        on=on,
        idempotency_key=f"loan-{name}",
        actor="ops",
    )
    return Booked(result.loan_id, uscc, PRINCIPAL, on, date.fromisoformat(result.maturity_date))


def _pay_off(platform: Platform, loan_id: str, on: date) -> int:
    owed = quote_payoff(platform.servicing_uow, LoanId(loan_id), on=on)
    repay(
        platform.servicing_uow,
        LoanId(loan_id),
        amount_fen=owed,
        on=on,
        idempotency_key=f"pay-{loan_id}-{on}",
        actor="ops",
    )
    return owed


def test_the_partners_stage_shares_settles_claims_and_renews_by_the_rules(
    book_platform: tuple[Platform, FixedClock],
) -> None:
    platform, clock = book_platform
    product = _product(platform)
    loans = {
        "j1": _disburse(platform, product, "j1", FIRST_DAY, 1),  # joint, repaid
        "f1": _disburse(platform, product, "f1", FIRST_DAY, 1),  # facilitated, repaid
        "g1": _disburse(platform, product, "g1", FIRST_DAY, 1),  # guaranteed, never paid
        "g2": _disburse(platform, product, "g2", FIRST_DAY, 1),  # guaranteed, repaid
    }
    arrangement = {
        loans["j1"].receipt_id: JOINT,
        loans["f1"].receipt_id: FACILITATED,
        loans["g1"].receipt_id: GUARANTEED,
        loans["g2"].receipt_id: GUARANTEED,
    }
    booked: dict[str, Booked] = {b.receipt_id: b for b in loans.values()}
    stage: DemoPartners = demo_partners(platform)
    stage.assign = lambda loan: arrangement.get(loan.receipt_id, ALONE)
    stage.booked = lambda: booked
    told: list[tuple[str, str, int, date, date]] = []
    stage.renewed = lambda *renewal: told.append(renewal)
    stage.sign(FIRST_DAY, LAST_DAY)
    store = SqlEndOfDayStore(platform.database.engine, clock=clock)
    paid: dict[str, int] = {}
    claims_at_may_hook: list[tuple[str, int, int]] = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        clock.advance(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC) - clock.now())
        if day.day == 1:
            stage.month_started(day)
            if day == date(2026, 5, 1):
                claims_at_may_hook = list(stage.claims)
        if day == LATE_DAY:
            # The bank's own loans: one will be renewed, one falls in arrears before.
            for name, months in (("a1", 1), ("a2", 2)):
                loans[name] = _disburse(platform, product, name, day, months)
                booked[loans[name].receipt_id] = loans[name]
        if day == date(2026, 2, 2):
            for name in ("j1", "f1", "g2"):
                paid[name] = _pay_off(platform, loans[name].receipt_id, day)
        if day == loans.get("a1", loans["j1"]).maturity and "a1" in loans:
            # The renewed loan's last instalment: its interest only, no principal.
            paid["a1"] = _pay_off(platform, loans["a1"].receipt_id, day)
        run_end_of_day(store, day)
        day += timedelta(days=1)
    stage.finish(LAST_DAY)
    r = stage.results(LAST_DAY)

    assert dict(r.tied) == {JOINT: 1, FACILITATED: 1, GUARANTEED: 2}
    assert r.refused == {}
    # Joint lending: the partner funded 40 % and got 40 % of what the borrower paid back.
    partner_principal = split(PRINCIPAL, Decimal("0.4")).partner_fen
    assert r.joint.principal_funded_fen == partner_principal == 40_000_00
    assert r.joint.principal_repaid_fen == partner_principal
    interest_j1 = paid["j1"] - PRINCIPAL
    assert interest_j1 > 0
    assert r.joint.interest_fen == split(interest_j1, Decimal("0.4")).partner_fen
    assert r.joint.principal_outstanding_fen == 0
    # The day of the repayment: the settlement file's shares add up to the fen.
    file = stage.partners.settlement_file(JOINT_LENDING_ID, date(2026, 2, 2))
    rows, total, partner, bank = file_totals(file)
    assert rows == 2
    assert total == paid["j1"]
    assert partner == partner_principal + r.joint.interest_fen
    assert total == partner + bank
    assert stage.partners.reconcile(JOINT_LENDING_ID, date(2026, 2, 2), file) == []
    # Facilitation: one loan, one fee, paid through the ledger at the month's end.
    assert r.facilitation.fees_fen == FEE_PER_LOAN_FEN
    assert r.ledger.get("6402", 0) == FEE_PER_LOAN_FEN
    assert r.ledger.get("2244", 0) == 0
    assert stage.partners.position(FACILITATION_ID).principal_funded_fen == 0
    # Renewal: the bank's good loan is renewed; the one in arrears is refused.
    assert r.renewals.offered == 2
    assert [old for old, _ in r.renewals.approved] == [loans["a1"].receipt_id]
    assert r.renewals.days_past_due_when_approved == [0]
    assert r.renewals.refused == {"loan_in_arrears": 1}
    # The simulation is told, so its borrower repays the new loan from its start.
    (told_old, told_new, moved, starts, _) = told[0]
    assert [(told_old, told_new)] == r.renewals.approved
    assert moved == r.renewals.principal_fen == PRINCIPAL
    assert starts == loans["a1"].maturity  # a term loan's renewal starts at its maturity
    # Claims: none at the May hook (g1 under 90 days past due), then one at 90 or more.
    assert claims_at_may_hook == []
    assert [(loan, dpd >= 90) for loan, dpd, _ in r.claims] == [(loans["g1"].receipt_id, True)]
    claim_fen = r.claims[0][2]
    assert claim_fen >= split(PRINCIPAL, Decimal("0.8")).partner_fen
    (exposure,) = r.exposure
    assert exposure.loans_covered == 2
    assert exposure.claims_paid_fen == claim_fen
    assert exposure.fees_fen > 0
    # The books: the trial balance is zero, the last day's file reconciles against itself.
    assert r.trial_balance_fen == 0
    assert r.last_file_differences == []
    assert r.last_file_day == date(2026, 2, 2)  # j1's repayment: nothing moved after
    assert r.last_file_rows == 2
    text = "\n".join(line for s in partners_sections(r) for line in plain_lines(s))
    assert "total 0 fen (must be 0)" in text
    assert "renewed:" in text


def test_the_arrangement_follows_the_borrower_day_and_amount_not_the_random_loan_id() -> None:
    drawn = [
        Booked(
            f"rcp_{i}",
            f"9135{i:014d}",
            10_000_00 * (1 + i % 7),
            date(2025, 1, 1 + i % 28),
            date(2025, 7, 1),
        )
        for i in range(400)
    ]
    same_loans_other_ids = [
        Booked(f"other_{b.receipt_id}", b.uscc, b.principal_fen, b.drawn_on, b.maturity)
        for b in drawn
    ]
    kinds = [arrangement_of(b) for b in drawn]
    assert kinds == [arrangement_of(b) for b in same_loans_other_ids]
    # Partners' loans are routed, never hashed: a loan no partner brought is guaranteed or not.
    shares = {kind: kinds.count(kind) / len(kinds) for kind in set(kinds)}
    assert set(shares) == {GUARANTEED, ALONE}
    assert 0.2 < shares[GUARANTEED] < 0.4


def test_only_the_partner_channels_applications_are_brought_by_a_partner() -> None:
    ids = [f"APP{i:06d}" for i in range(1_000)]
    assert {
        brought_by(i, channel) for i in ids for channel in ("qr", "branch", "intermediary")
    } == {None}
    partners = [brought_by(i, "partner") for i in ids]
    assert partners == [brought_by(i, "partner") for i in ids]  # the same every run
    share_bank = sum(p == PARTNER_BANK for p in partners) / len(partners)
    assert 0.5 < share_bank < 0.7
    assert {p.partner_id for p in partners if p is not None} == {"partner-bank", "channel-platform"}
    borrowers = [_uscc(n) for n in range(1_000)]
    decided = [partner_approves(u) for u in borrowers]
    assert decided == [partner_approves(u) for u in borrowers]  # the same every run
    assert 0.05 < decided.count(False) / len(decided) < 0.15


def _revolving(platform: Platform) -> ProductId:
    return create_product(
        platform.servicing_uow,
        LoanProduct(
            code="DEMO-LINE",
            name="随借随还",
            method=RepaymentMethod.DAILY_REVOLVING,
            min_annual_rate=Decimal("0.03"),
            max_annual_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=12,
            min_amount_fen=100_00,
            max_amount_fen=10_000_000_00,
            penalty_uplift=Decimal("0.5"),
        ),
        actor="ops",
    )


def _uscc(n: int) -> str:
    return f"91350100M{n:07d}Y4"[:18]


def _borrower(approved: bool, taken: set[int]) -> int:
    """A borrower (``_uscc(n)``) on whom the partner bank decides as asked."""
    return next(
        n for n in range(1_000) if partner_approves(_uscc(n)) is approved and n not in taken
    )


def _customer(
    platform: Platform, product: ProductId, application_id: str, partner_id: str | None, n: int
) -> Booked:
    """An application a partner brought (or a walk-in), its line opened, one draw on it."""
    uscc = _uscc(n)
    line = open_credit_line(
        platform.servicing_uow,
        enterprise_id=uscc,
        product_id=product,
        limit_fen=1_000_000_00,
        annual_rate=Decimal("0.0435"),
        opened_on=FIRST_DAY,
        expiry_date=date(2027, 1, 1),
        actor="ops",
    )
    now = datetime(2026, 1, 2, 9, tzinfo=UTC)
    with platform.database.engine.begin() as connection:
        connection.execute(
            insert(applications).values(
                application_id=application_id,
                application_no=f"D{n:05d}",
                uscc=uscc,
                id_number_enc="sealed",
                id_number_index=f"idx{n}",
                phone_enc="sealed",
                phone_index=f"phx{n}",
                status="accepted",
                partner_id=partner_id,
                channel="partner" if partner_id else "branch",
                credit_line_id=line,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    maturity = date(2026, 7, 5)
    receipt = draw(
        platform.servicing_uow,
        line,
        amount_fen=PRINCIPAL,
        on=DRAWN,
        maturity_date=maturity,
        idempotency_key=f"demo-draw-{n}",
        actor="ops",
    ).receipt_id
    return Booked(receipt, uscc, PRINCIPAL, DRAWN, maturity)


DRAWN = date(2026, 1, 5)


def test_the_partners_customers_loans_are_routed_and_the_partner_bank_decides_its_own(
    book_platform: tuple[Platform, FixedClock],
) -> None:
    platform, clock = book_platform
    product = _revolving(platform)
    yes = _borrower(True, set())
    no = _borrower(False, set())
    other = _borrower(True, {yes})
    walk_in = _borrower(True, {yes, other})
    approved, declined = "app_demo_approved", "app_demo_declined"
    bank_id, channel_id = PARTNER_BANK.partner_id, FACILITATION_CHANNEL.partner_id
    loans = {
        "approved": _customer(platform, product, approved, bank_id, yes),
        "declined": _customer(platform, product, declined, bank_id, no),
        "facilitated": _customer(platform, product, "app_demo_other", channel_id, other),
        "walked_in": _customer(platform, product, "app_walk_in", None, walk_in),
    }
    stage = demo_partners(platform)
    stage.assign = lambda loan: ALONE  # no guarantee: the loans no partner brought stay alone
    stage.booked = lambda: {b.receipt_id: b for b in loans.values()}
    stage.sign(FIRST_DAY, LAST_DAY)
    store = SqlEndOfDayStore(platform.database.engine, clock=clock)
    day = FIRST_DAY
    while day < date(2026, 2, 1):
        clock.advance(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC) - clock.now())
        run_end_of_day(store, day)
        day += timedelta(days=1)
    clock.advance(datetime(2026, 2, 1, 2, 0, tzinfo=UTC) - clock.now())
    # Before the hook the partner bank has two customers' loans waiting for its decision.
    waiting = stage.partners.awaiting_decisions(JOINT_LENDING_ID, DRAWN)
    assert {w.application_id for w in waiting} == {approved, declined}
    assert stage.partners.awaiting_decisions(FACILITATION_ID, DRAWN) == []
    stage.month_started(date(2026, 2, 1))
    r = stage.results(date(2026, 1, 31))

    assert dict(r.tied) == {JOINT: 1, FACILITATED: 1}
    assert dict(r.refused) == {f"{JOINT}: partner_declined": 1}
    assert stage.partners.awaiting_decisions(JOINT_LENDING_ID, DRAWN) == []
    with stage.partners.units() as uow:
        joint_links = uow.partners.links(JOINT_LENDING_ID)
        (facilitated,) = uow.partners.links(FACILITATION_ID)
    assert [link.loan_id for link in joint_links] == [loans["approved"].receipt_id]
    assert facilitated.loan_id == loans["facilitated"].receipt_id
    assert facilitated.linked_on == DRAWN  # dated on the disbursement day, not the hook's
    # The partner bank funded its 40 % of the routed loan and the books balance.
    assert r.joint.principal_funded_fen == split(PRINCIPAL, JOINT_SHARE).partner_fen
    assert r.trial_balance_fen == 0
    assert r.last_file_differences == []
