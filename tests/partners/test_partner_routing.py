"""Routing partners' customers' loans under their agreements (SQLite and PostgreSQL): a receipt
drawn on a line opened for an application a partner brought goes under that partner's active
agreement; joint lending that the partner approves too waits for its approval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

import pytest
from partner_support import facilitation, joint
from sqlalchemy import Engine, event, insert, select, text

from puhui.adapters.db.origination.tables import applications
from puhui.adapters.db.partners.tables import partner_agreements, partner_loans
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.bootstrap.partners import partner_service
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.partners.agreements import Agreement
from puhui.domain.partners.errors import ConcentrationLimitBreached
from puhui.services.partners.use_cases import PartnerService
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product

OPENED = date(2026, 1, 2)
DRAWN = date(2026, 1, 5)
Factory = Callable[[], ServicingUnitOfWork]


@pytest.fixture
def uow(platform: Platform) -> Factory:
    p = platform
    return lambda: ServicingUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)


@pytest.fixture
def service(platform: Platform) -> PartnerService:
    made = partner_service(platform)
    for agreement in (facilitation(), joint("0.4")):
        made.create_agreement(agreement, actor="risk")
        made.activate(agreement.agreement_id, actor="risk")
    return made


class Book:
    """Applications, their lines and their draws, numbered."""

    def __init__(self, engine: Engine, uow: Factory) -> None:
        self.engine, self.uow, self.n = engine, uow, 0
        product = LoanProduct(
            code="SUI-ROUTE",
            name="随e融",
            method=RepaymentMethod.DAILY_REVOLVING,
            min_annual_rate=Decimal("0.03"),
            max_annual_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=12,
            min_amount_fen=100_00,
            max_amount_fen=10_000_000_00,
            penalty_uplift=Decimal("0.5"),
        )
        self.product = create_product(uow, product, actor="ops")

    def customer(self, partner_id: str | None) -> tuple[str, CreditLineId]:
        """An application (by a partner, or walked in) with its line opened."""
        self.n += 1
        uscc = f"91350100M{self.n:07d}Y4"[:18]
        line = open_credit_line(
            self.uow,
            enterprise_id=uscc,
            product_id=self.product,
            limit_fen=1_000_000_00,
            annual_rate=Decimal("0.0435"),
            opened_on=OPENED,
            expiry_date=date(2027, 1, 1),
            actor="ops",
        )
        application_id = f"app_route_{self.n}"
        now = datetime(2026, 1, 2, 9, tzinfo=UTC)
        with self.engine.begin() as connection:
            connection.execute(
                insert(applications).values(
                    application_id=application_id,
                    application_no=f"R{self.n:05d}",
                    uscc=uscc,
                    id_number_enc="sealed",
                    id_number_index=f"idx{self.n}",
                    phone_enc="sealed",
                    phone_index=f"phx{self.n}",
                    status="accepted",
                    partner_id=partner_id,
                    channel="partner" if partner_id else "branch",
                    credit_line_id=line,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
        return application_id, line

    def draw(self, line: CreditLineId, amount_fen: int = 100_000_00, on: date = DRAWN) -> str:
        self.n += 1
        return draw(
            self.uow,
            line,
            amount_fen=amount_fen,
            on=on,
            maturity_date=date(2026, 7, 5),
            idempotency_key=f"route-draw-{self.n}",
            actor="ops",
        ).receipt_id


@pytest.fixture
def book(platform: Platform, uow: Factory) -> Book:
    return Book(platform.database.engine, uow)


def test_a_facilitated_customers_draws_go_under_its_partners_agreement(
    service: PartnerService, book: Book
) -> None:
    _, line = book.customer("P-CHANNEL")
    _, walked_in_line = book.customer(None)
    receipt = book.draw(line)
    book.draw(walked_in_line)
    reports = {r.agreement_id: r for r in service.route(DRAWN, actor="ops")}
    (link,) = reports["AG-FC-1"].linked
    assert (link.loan_id, link.channel, link.linked_on) == (receipt, "partner", DRAWN)
    assert reports["AG-FC-1"].not_linked == {}
    assert reports["AG-JL-1"].linked == []  # the walked-in customer's draw is the bank's alone
    # Routing again links nothing twice.
    again = {r.agreement_id: r for r in service.route(DRAWN, actor="ops")}
    assert (again["AG-FC-1"].linked, again["AG-FC-1"].not_linked) == ([], {})


def test_joint_lending_waits_for_the_partners_approval_and_respects_its_decline(
    service: PartnerService, book: Book
) -> None:
    approved_app, approved_line = book.customer("P-WEBANK")
    declined_app, declined_line = book.customer("P-WEBANK")
    waiting = book.draw(approved_line)
    declined = book.draw(declined_line)
    (first,) = [r for r in service.route(DRAWN, actor="ops") if r.agreement_id == "AG-JL-1"]
    assert first.linked == []
    assert first.not_linked == {
        waiting: "awaiting_partner_decision",
        declined: "awaiting_partner_decision",
    }
    service.record_decision("AG-JL-1", approved_app, decision="approve", reason="", actor="p")
    service.record_decision("AG-JL-1", declined_app, decision="decline", reason="", actor="p")
    (second,) = [r for r in service.route(DRAWN, actor="ops") if r.agreement_id == "AG-JL-1"]
    assert [(link.loan_id, link.channel) for link in second.linked] == [(waiting, "joint")]
    assert second.not_linked == {declined: "partner_declined"}


def test_a_draw_on_a_day_already_settled_is_not_linked_and_says_why(
    service: PartnerService, book: Book
) -> None:
    _, line = book.customer("P-CHANNEL")
    late = book.draw(line)
    service.settle(DRAWN, actor="ops", agreement_id="AG-FC-1")
    (report,) = [r for r in service.route(DRAWN, actor="ops") if r.agreement_id == "AG-FC-1"]
    assert report.linked == []
    assert report.not_linked == {late: "settled_before_routing"}


def test_a_draw_over_the_partners_limit_is_not_linked_and_the_others_are(
    platform: Platform, book: Book
) -> None:
    service = partner_service(platform)
    capped = joint("0.4", max_outstanding_fen=150_000_00)
    service.create_agreement(capped, actor="risk")
    service.activate(capped.agreement_id, actor="risk")
    app_a, line_a = book.customer("P-WEBANK")
    app_b, line_b = book.customer("P-WEBANK")
    first = book.draw(line_a, 100_000_00)
    second = book.draw(line_b, 100_000_00)
    for application in (app_a, app_b):
        service.record_decision(
            capped.agreement_id, application, decision="approve", reason="", actor="p"
        )
    (report,) = service.route(DRAWN, actor="ops")
    assert [link.loan_id for link in report.linked] == [first]
    assert report.not_linked == {second: "concentration_limit_breached"}


class TwoAgreements(NamedTuple):
    service: PartnerService
    open_ended: Agreement
    capped: Agreement
    """The same partner's, limited to 150,000 yuan outstanding."""
    first: str
    second: str
    """Two draws of 100,000 yuan by the partner's customers, not yet tied."""


def _two_agreements(platform: Platform, book: Book) -> TwoAgreements:
    """One partner with two active joint-lending agreements, one of them capped."""
    service = partner_service(platform)
    open_ended = joint("0.4")
    capped = replace(joint("0.4", max_outstanding_fen=150_000_00), agreement_id="AG-JL-2")
    for agreement in (open_ended, capped):
        service.create_agreement(agreement, actor="risk")
        service.activate(agreement.agreement_id, actor="risk")
    _, line_a = book.customer("P-WEBANK")
    _, line_b = book.customer("P-WEBANK")
    first = book.draw(line_a, 100_000_00)
    second = book.draw(line_b, 100_000_00)
    return TwoAgreements(service, open_ended, capped, first, second)


def test_the_partners_loans_under_its_other_agreement_count_against_a_new_links_limit(
    platform: Platform, book: Book
) -> None:
    service, open_ended, capped, first, second = _two_agreements(platform, book)
    service.link_loan(open_ended.agreement_id, first, channel="app", on=DRAWN, actor="ops")
    # The capped agreement has no loan of its own, but the partner already has 100,000 yuan
    # outstanding under the other one: 200,000 would pass the 150,000 limit.
    with pytest.raises(ConcentrationLimitBreached, match="would be 20000000 fen"):
        service.link_loan(capped.agreement_id, second, channel="app", on=DRAWN, actor="ops")
    # The refusal linked nothing: the loan can still go under the partner's other agreement.
    moved = service.link_loan(open_ended.agreement_id, second, channel="app", on=DRAWN, actor="o")
    assert moved.agreement_id == open_ended.agreement_id


def test_a_routing_run_reads_the_exposure_once_per_agreement_however_many_loans_it_links(
    platform: Platform, service: PartnerService, book: Book
) -> None:
    def outstanding_reads(receipts: int, on: date) -> tuple[int, int]:
        for _ in range(receipts):
            _, line = book.customer("P-CHANNEL")
            book.draw(line, on=on)
        statements: list[str] = []

        def seen(*args: object) -> None:
            statements.append(str(args[2]))

        engine = platform.database.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            (report,) = [r for r in service.route(on, actor="ops") if r.agreement_id == "AG-FC-1"]
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert len(report.linked) == receipts
        return receipts, sum("outstanding_principal_fen" in s for s in statements)

    one, many = outstanding_reads(1, DRAWN), outstanding_reads(6, date(2026, 1, 6))
    # Two agreements are active; each reads the partner's and the book's outstanding once.
    assert one == (1, 4)
    assert many == (6, 4)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_loan_tied_under_one_agreement_waits_for_one_being_tied_under_another(
    platform: Platform, book: Book
) -> None:
    """The limits count the partner's loans under all its agreements, so tying a loan locks
    all of them: a second tie, under the partner's other agreement, waits for the first to
    commit and then sees its loan."""
    engine = platform.database.engine
    service, open_ended, capped, first, second = _two_agreements(platform, book)

    outcome: dict[str, object] = {}

    def tie_second() -> None:
        try:
            outcome["link"] = service.link_loan(
                capped.agreement_id, second, channel="app", on=DRAWN, actor="ops"
            )
        except ConcentrationLimitBreached as exc:
            outcome["refused"] = exc

    with engine.connect() as competitor:
        # A tie in progress under the open-ended agreement: its row locked, its loan linked,
        # not yet committed.
        competitor.execute(
            select(partner_agreements.c.agreement_id)
            .where(partner_agreements.c.agreement_id == open_ended.agreement_id)
            .with_for_update()
        ).all()
        competitor.execute(
            insert(partner_loans).values(
                loan_id=first,
                agreement_id=open_ended.agreement_id,
                channel="app",
                principal_fen=100_000_00,
                linked_on=DRAWN,
            )
        )
        worker = threading.Thread(target=tie_second)
        worker.start()
        # Commit only once the second tie waits on a lock (or has finished without waiting).
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            deadline = time.monotonic() + 60
            while worker.is_alive() and time.monotonic() < deadline:
                if watcher.execute(waiting).scalar_one():
                    break
                time.sleep(0.02)
        competitor.commit()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert "link" not in outcome, "the second tie did not wait for the first"
    refused = outcome["refused"]
    assert isinstance(refused, ConcentrationLimitBreached)
    assert "would be 20000000 fen" in str(refused)
