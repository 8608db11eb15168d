"""Borrowers draw when their needs arise, as much as the line allows, and repay from cash."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from puhui.bootstrap import Platform
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.market.oracle import RepaymentCapacity
from puhui.pipelines.borrowing import (
    Borrowers,
    MonthUtilisation,
    Need,
    NeedBook,
    need_book,
    overall_utilisation,
    plan_draw,
)
from puhui.pipelines.eod import run_end_of_day
from puhui.pipelines.simulation import REPAYMENT_DAY
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.lines import freeze_credit_line, open_credit_line
from puhui.services.servicing.products import create_product

USCC = "91350100M000100Y43"
"""The enterprise with true needs."""
NEEDLESS = "91350100M000200Y21"
"""An enterprise whose application has no true need behind it (a fraud ring's, say)."""
OPENED_ON = date(2025, 1, 6)
EXPIRY = date(2025, 7, 6)
LIMIT_FEN = 100_000_00
CASH_FEN = {
    date(2025, 1, 1): 1_000_000_00,
    date(2025, 2, 1): 100_00,  # a bad month: far less than the instalments due
    date(2025, 3, 1): 1_000_000_00,
}


def _need(need_id: str, uscc: str, month: date, amount_fen: int, months: int) -> Need:
    return Need(need_id, uscc, month, amount_fen, months)


def _need_drawn_before_the_repayment_day(month: date) -> str:
    """A need id whose draw day falls before the month's repayment day (ids are hashed)."""
    return next(
        need_id
        for i in range(100)
        if _need(need_id := f"ND{i:04d}", USCC, month, 1, 1).draw_day.day < REPAYMENT_DAY
    )


class HandWrittenWorld:
    """The world's cash by month: what the market oracle answers, written by hand."""

    def capacity(self, uscc: str, month: date) -> RepaymentCapacity:
        return RepaymentCapacity(uscc, month, True, False, CASH_FEN[month], None)


# --- pure rules -------------------------------------------------------------------------


def test_a_draw_takes_the_need_capped_by_the_available_limit_and_the_line_s_life() -> None:
    on = date(2025, 2, 10)
    whole = plan_draw(30_000_00, 3, on=on, available_fen=50_000_00, expiry=date(2025, 12, 31))
    assert whole is not None
    assert (whole.amount_fen, whole.maturity, whole.capped) == (30_000_00, date(2025, 5, 10), False)
    capped = plan_draw(80_000_00, 12, on=on, available_fen=50_000_00, expiry=date(2025, 6, 30))
    assert capped is not None
    assert (capped.amount_fen, capped.maturity, capped.capped) == (
        50_000_00,
        date(2025, 6, 30),
        True,
    )
    assert plan_draw(80_000_00, 3, on=on, available_fen=0, expiry=date(2025, 6, 30)) is None
    assert plan_draw(80_000_00, 3, on=on, available_fen=10, expiry=on) is None


def test_a_need_is_drawn_on_a_fixed_day_of_its_own_month() -> None:
    days = {_need(f"ND{i:04d}", USCC, date(2025, 2, 1), 1, 1).draw_day for i in range(200)}
    assert min(days) == date(2025, 2, 1)
    assert max(days) == date(2025, 2, 28)
    again = _need("ND0007", USCC, date(2025, 2, 1), 1, 1)
    assert again.draw_day == _need("ND0007", USCC, date(2025, 2, 1), 1, 1).draw_day


def test_the_need_book_orders_needs_by_draw_day_and_links_applications() -> None:
    events = pl.DataFrame(
        {
            "need_id": ["ND0001", "ND0002", "ND0003"],
            "uscc": [USCC, USCC, NEEDLESS],
            "month": [date(2025, 3, 1), date(2025, 1, 1), date(2025, 1, 1)],
            "amount_fen": [1_000_00, 2_000_00, 3_000_00],
            "duration_months": [3, 6, 9],
        }
    )
    links = pl.DataFrame({"application_id": ["AP1", "AP2"], "need_id": ["ND0002", "ND9999"]})
    book = need_book(events, links)
    assert [n.need_id for n in book.of(USCC)] == ["ND0002", "ND0001"]
    assert book.behind_application["AP1"].amount_fen == 2_000_00
    assert "AP2" not in book.behind_application  # its need is outside the window read
    assert book.of("nobody") == ()


def test_utilisation_is_drawn_over_limit_by_month_and_limit_weighted_overall() -> None:
    months = [
        MonthUtilisation(date(2025, 1, 1), 1, 100_00, 80_00, 1, 80_00),
        MonthUtilisation(date(2025, 2, 1), 3, 300_00, 60_00, 0, 0),
        MonthUtilisation(date(2025, 3, 1), 0, 0, 0, 0, 0),
    ]
    assert [m.utilisation for m in months] == [0.8, 0.2, None]
    assert overall_utilisation(months) == (80_00 + 60_00) / (100_00 + 300_00)
    assert overall_utilisation([]) is None


# --- a tiny run on the real servicing ---------------------------------------------------


def _product(platform: Platform) -> ProductId:
    return create_product(
        platform.servicing_uow,
        LoanProduct(
            code="SIM-REVOLVING",
            name="simulation revolving",
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


def _line(platform: Platform, product: ProductId, uscc: str, limit_fen: int) -> CreditLineId:
    return open_credit_line(
        platform.servicing_uow,
        enterprise_id=uscc,
        product_id=product,
        limit_fen=limit_fen,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=EXPIRY,
        actor="ops",
    )


@pytest.mark.slow
def test_a_quarter_of_borrowing_follows_needs_and_cash_through_the_ledger(
    platform: Platform,
) -> None:
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    opening = _need("ND-OPEN", USCC, jan, 60_000_00, 3)
    later = _need(_need_drawn_before_the_repayment_day(feb), USCC, feb, 70_000_00, 6)
    before = _need("ND-BEFORE", USCC, date(2024, 12, 1), 5_000_00, 3)  # before the line
    frozen_out = _need("ND-FROZEN", NEEDLESS, mar, 1_000_00, 3)
    book = NeedBook(
        {USCC: (before, opening, later), NEEDLESS: (frozen_out,)},
        {"AP-NEED": opening},
    )
    borrowers = Borrowers(platform.servicing_uow, HandWrittenWorld(), book)
    product = _product(platform)
    line = _line(platform, product, USCC, LIMIT_FEN)
    needless_line = _line(platform, product, NEEDLESS, 50_000_00)
    eod = platform.end_of_day_store()
    day = OPENED_ON
    borrowers.line_opened(
        USCC,
        line,
        on=day,
        application_id="AP-NEED",
        requested_fen=90_000_00,
        term_months=6,
        pd=None,
    )
    borrowers.line_opened(
        NEEDLESS,
        needless_line,
        on=day,
        application_id="AP-RING",
        requested_fen=200_000_00,
        term_months=6,
        pd=Decimal("0.02"),
    )
    repaid_by_month: dict[date, int] = {}
    while day <= date(2025, 3, 31):
        if day == date(2025, 3, 1):
            freeze_credit_line(platform.servicing_uow, needless_line, actor="ops", reason="test")
        borrowers.draw_for_needs(day)
        before_repaid = borrowers.repaid_fen
        borrowers.collect(day, maturing_only=day.day != REPAYMENT_DAY)
        month = date(day.year, day.month, 1)
        repaid_by_month[month] = (
            repaid_by_month.get(month, 0) + borrowers.repaid_fen - before_repaid
        )
        run_end_of_day(eod, day)
        if (day + timedelta(days=1)).day == 1:
            borrowers.record_month_end(day)
        day += timedelta(days=1)

    receipts = sorted(borrowers.receipts.values(), key=lambda r: (r.uscc, r.drawn_on))
    drawn = [(r.uscc, r.drawn_on, r.principal_fen, r.maturity) for r in receipts]
    assert drawn == [
        # The need behind the application: its amount, for its three months.
        (USCC, OPENED_ON, 60_000_00, date(2025, 4, 6)),
        # February's need, on its day: what the line still had (no principal was due in
        # January), to the line's expiry rather than for its six months.
        (USCC, later.draw_day, LIMIT_FEN - 60_000_00, EXPIRY),
        # The needless application takes what it asked for at once, up to its limit.
        (NEEDLESS, OPENED_ON, 50_000_00, date(2025, 7, 6)),
    ]
    # Needs before the line, and draws on a frozen line, never happen.
    assert borrowers.draw_outcomes == {"in_full": 1, "capped": 2, "frozen": 1}
    # February's cash (100 yuan each) is all the two enterprises repay in February, though
    # the first owes on two receipts: one purse per enterprise and month, paid partly.
    assert repaid_by_month[feb] == 2 * CASH_FEN[feb]
    assert borrowers.payment_outcomes["partial"] >= 1
    assert repaid_by_month[jan] > 0
    assert repaid_by_month[mar] > 0
    # Utilisation: the lines' drawn principal over their limits at each month end.
    months = borrowers.utilisation
    assert [m.month for m in months] == [jan, feb, mar]
    assert [(m.lines, m.limit_fen) for m in months] == [(2, 150_000_00)] * 3
    assert [(m.draws, m.draws_fen) for m in months] == [
        (2, 110_000_00),
        (1, 40_000_00),
        (0, 0),
    ]
    assert months[0].drawn_fen == 110_000_00
    with platform.servicing_uow() as uow:
        outstanding = sum(
            loan.outstanding_principal_fen
            for r in receipts
            if (loan := uow.loans.get(r.receipt_id)) is not None
        )
    assert months[-1].drawn_fen == outstanding < months[1].drawn_fen <= 150_000_00
    assert months[-1].utilisation == outstanding / 150_000_00
    assert overall_utilisation(months) == sum(m.drawn_fen for m in months) / (3 * 150_000_00)
    # Every movement went through the ledger, and it balances.
    assert trial_balance(platform.servicing_uow, as_of=date(2025, 3, 31)).total_fen == 0
