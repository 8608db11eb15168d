"""The strategy's pricing and limits bound a manual offer: LPR floor, legal cap, limit caps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flow_scenarios import apply_and_consent, staff
from origination_fakes import Store
from origination_wiring import Wired

from puhui.decision import load_shipped_strategy
from puhui.domain.errors import ConfigurationError
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.errors import Forbidden, LineOpeningFailed, OfferOutOfBounds
from puhui.services.origination import use_cases as uc
from puhui.services.origination.governance import FixedSetup, LiveSetup, LiveStrategy
from puhui.services.origination.pricing_bounds import StrategyOfferBounds
from puhui.services.origination.reviewing import check_offer_terms
from puhui.services.security.permissions import Principal, Role

NAME = "mse-online-credit"
TODAY = date(2026, 3, 2)
"""The 1-year LPR in force is 3.00 % (since 2025-05-20); it was 3.45 % on 2024-01-01."""


def _bounds(licence_type: str = "bank") -> StrategyOfferBounds:
    compiled = load_shipped_strategy(NAME)
    live = LiveStrategy(NAME, 1, compiled.content_hash, compiled)
    return StrategyOfferBounds(FixedSetup(LiveSetup(live, None, None)), licence_type)


def _refused(bounds: StrategyOfferBounds, on: date, **terms: object) -> dict[str, object]:
    values: dict[str, object] = {
        "limit_fen": 30_000_000,
        "annual_rate": Decimal("0.06"),
        "term_months": 12,
        **terms,
    }
    with pytest.raises(OfferOutOfBounds) as refused:
        check_offer_terms(bounds.offer_bounds(on), **values)  # type: ignore[arg-type]
    return refused.value.details


def test_the_rate_is_at_least_the_lpr_in_force() -> None:
    details = _refused(_bounds(), date(2024, 1, 1), annual_rate=Decimal("0.032"))
    assert details["field"] == "annual_rate"
    assert details["bound"] == "LPR floor (lpr_1y)"
    assert details["minimum"] == "0.0345"
    # The same rate is fine once the LPR has fallen below it.
    check_offer_terms(
        _bounds().offer_bounds(TODAY),
        limit_fen=30_000_000,
        annual_rate=Decimal("0.032"),
        term_months=12,
    )


def test_the_rate_is_at_most_the_legal_cap_of_the_licence_type() -> None:
    details = _refused(_bounds("private_lending"), TODAY, annual_rate=Decimal("0.15"))
    assert details["bound"] == "legal cap (private_lending)"
    assert Decimal(str(details["maximum"])) == Decimal("0.12")  # four times the 3.00 % LPR
    check_offer_terms(
        _bounds("bank").offer_bounds(TODAY),
        limit_fen=30_000_000,
        annual_rate=Decimal("0.15"),
        term_months=12,
    )


def test_the_limit_stays_within_the_strategys_minimum_and_product_cap() -> None:
    above = _refused(_bounds(), TODAY, limit_fen=500_000_000)
    assert above["bound"] == f"strategy {NAME}@1 limit"
    assert (above["minimum"], above["maximum"]) == (1_000_000, 300_000_000)


def test_without_an_active_strategy_the_shipped_lpr_still_floors_the_rate() -> None:
    bounds = StrategyOfferBounds(FixedSetup(LiveSetup(None, None, None)))
    details = _refused(bounds, date(2024, 1, 1), annual_rate=Decimal("0.032"))
    assert details["bound"] == "LPR floor (lpr_1y)"


def test_a_licence_type_the_strategy_does_not_price_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="pawnshop"):
        _bounds("pawnshop").offer_bounds(TODAY)


def test_rates_quoted_finer_than_servicing_accepts_are_refused() -> None:
    with pytest.raises(OfferOutOfBounds.__mro__[1]):  # InvalidInput: InvalidRate
        check_offer_terms((), limit_fen=1, annual_rate=Decimal("0.0612345"), term_months=1)


def test_review_uses_the_wired_strategy_bounds_and_stores_nothing_when_refused(
    fake: Wired,
) -> None:
    fake.origination.offer_bounds = (_bounds("private_lending"),)
    fake.assessor.outcome = Outcome.REFER
    owner, app_id = apply_and_consent(fake)
    uc.assess_application(fake.origination, actor=owner, application_id=app_id)
    approver = staff(fake, "ap1", Role.APPROVER)
    with pytest.raises(OfferOutOfBounds) as refused:
        uc.review_application(
            fake.origination,
            actor=approver,
            application_id=app_id,
            approve=True,
            note="good customer",
            annual_rate=Decimal("0.20"),
        )
    assert refused.value.details["bound"] == "legal cap (private_lending)"
    view = uc.get_application(fake.origination, actor=approver, application_id=app_id)
    assert view.application.status is ApplicationStatus.REFERRED
    assert view.offer is None
    assert view.contract is None
    # The product bounds of the line opener still apply beside the strategy's.
    with pytest.raises(OfferOutOfBounds) as product:
        uc.review_application(
            fake.origination,
            actor=approver,
            application_id=app_id,
            approve=True,
            note="good customer",
            term_months=48,
        )
    assert product.value.details["bound"] == "product MSE-ONLINE-REVOLVING"


def _failed_line(w: Wired) -> tuple[Principal, str]:
    owner, app_id = apply_and_consent(w)
    uc.assess_application(w.origination, actor=owner, application_id=app_id)
    w.opener.refusals = 1
    with pytest.raises(LineOpeningFailed):
        uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    return owner, app_id


def test_a_failed_line_its_retry_and_its_cancellation_are_audited(
    fake: Wired, store: Store
) -> None:
    _, app_id = _failed_line(fake)
    approver = staff(fake, "ap1", Role.APPROVER)
    fake.opener.refusals = 1
    with pytest.raises(LineOpeningFailed):
        uc.retry_line_opening(fake.origination, actor=approver, application_id=app_id)
    cancelled = uc.cancel_application(
        fake.origination, actor=approver, application_id=app_id, note="refused twice"
    )
    assert cancelled.application.status is ApplicationStatus.CANCELLED
    assert not cancelled.application.is_open
    trail = [(e.action, e.actor) for e in store.audit if e.entity_id == app_id]
    actions = [action for action, _ in trail]
    assert actions[-4:] == [
        "application.line_failed",
        "application.line_opening_retried",
        "application.line_opening_refused",
        "application.cancelled",
    ]
    by = dict(trail)
    assert approver.user_id in by["application.line_opening_retried"]
    assert approver.user_id in by["application.cancelled"]


def test_staff_without_the_review_permission_neither_retry_nor_cancel(fake: Wired) -> None:
    _, app_id = _failed_line(fake)
    manager = staff(fake, "am1", Role.ACCOUNT_MANAGER)
    with pytest.raises(Forbidden):
        uc.retry_line_opening(fake.origination, actor=manager, application_id=app_id)
    with pytest.raises(Forbidden):
        uc.cancel_application(fake.origination, actor=manager, application_id=app_id, note="x")
