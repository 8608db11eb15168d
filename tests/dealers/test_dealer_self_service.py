"""The dealer's own enterprise user reads its dealer lines and draws on them, to the core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dealer_support import CORE, DEALER, TODAY, WEAK_DEALER, YUAN, TinyMarket

from puhui.bootstrap import Platform
from puhui.domain.errors import IdempotencyConflict
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.errors import InsufficientLimit, LineExpired, LineFrozen
from puhui.domain.origination.errors import Forbidden
from puhui.services.dealers import (
    DealerAccess,
    NotYourDealerLine,
    dealer_line,
    draw_to_core,
    list_dealer_lines,
    open_dealer_line,
)
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.lines import freeze_credit_line

RISK = Principal(user_id="usr_risk", role=Role.RISK_OFFICER)
DEALER_USER = Principal(user_id="usr_dealer", role=Role.APPLICANT)
OTHER_USER = Principal(user_id="usr_other", role=Role.APPLICANT)
PARTNER = Principal(user_id="usr_partner", role=Role.PARTNER, partner_id="p1")
BOUND = {"usr_dealer": frozenset({DEALER}), "usr_other": frozenset({WEAK_DEALER})}
MATURITY = TODAY + timedelta(days=90)


def _access(platform: Platform, today: date = TODAY) -> DealerAccess:
    return DealerAccess(
        platform.servicing_uow,
        TinyMarket(),
        lambda: today,
        bound=lambda user: BOUND.get(user, frozenset()),
    )


@pytest.fixture
def access(platform: Platform) -> DealerAccess:
    return _access(platform)


@pytest.fixture
def line_id(access: DealerAccess) -> str:
    line, _ = open_dealer_line(
        access,
        actor=RISK,
        core_uscc=CORE,
        dealer_uscc=DEALER,
        commitment="guarantee",
        idempotency_key="open",
    )
    return line.line_id


def _drawn(platform: Platform, line_id: str) -> int:
    with platform.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    assert line is not None
    return line.drawn_fen


def test_the_dealer_user_sees_its_own_lines_only(access: DealerAccess, line_id: str) -> None:
    mine = list_dealer_lines(access, actor=DEALER_USER)
    assert [v.line_id for v in mine] == [line_id]
    assert (mine[0].core_uscc, mine[0].limit_fen, mine[0].status) == (
        CORE,
        540_000 * YUAN,
        "active",
    )
    assert list_dealer_lines(access, actor=OTHER_USER) == []
    assert [v.line_id for v in list_dealer_lines(access, actor=RISK, core_uscc=CORE)] == [line_id]
    assert list_dealer_lines(access, actor=RISK, core_uscc=DEALER) == []
    with pytest.raises(NotYourDealerLine):
        dealer_line(access, actor=OTHER_USER, line_id=line_id)
    with pytest.raises(NotYourDealerLine):  # a missing line answers alike
        dealer_line(access, actor=OTHER_USER, line_id="line_missing")
    with pytest.raises(Forbidden):
        list_dealer_lines(access, actor=PARTNER)


def test_the_dealer_user_draws_to_the_core_once_per_key(
    access: DealerAccess, line_id: str, platform: Platform
) -> None:
    paid = draw_to_core(
        access,
        actor=DEALER_USER,
        line_id=line_id,
        amount_fen=120_000 * YUAN,
        maturity_date=MATURITY,
        idempotency_key="h5-1",
    )
    assert paid.payee == CORE
    assert paid.draw.payee == CORE  # never the dealer
    again = draw_to_core(
        access,
        actor=DEALER_USER,
        line_id=line_id,
        amount_fen=120_000 * YUAN,
        maturity_date=MATURITY,
        idempotency_key="h5-1",
    )
    assert again.draw.replayed
    assert again.draw.receipt_id == paid.draw.receipt_id
    with pytest.raises(IdempotencyConflict):
        draw_to_core(
            access,
            actor=DEALER_USER,
            line_id=line_id,
            amount_fen=1_000 * YUAN,
            maturity_date=MATURITY,
            idempotency_key="h5-1",
        )
    assert _drawn(platform, line_id) == 120_000 * YUAN
    view = dealer_line(access, actor=DEALER_USER, line_id=line_id)
    assert view.available_fen == 420_000 * YUAN
    assert [(r.receipt_id, r.payee, r.principal_fen) for r in view.receipts] == [
        (paid.draw.receipt_id, CORE, 120_000 * YUAN)
    ]


def test_refused_draws_change_nothing(
    access: DealerAccess, line_id: str, platform: Platform
) -> None:
    def attempt(actor: Principal, amount_fen: int, key: str, on: DealerAccess = access) -> None:
        draw_to_core(
            on,
            actor=actor,
            line_id=line_id,
            amount_fen=amount_fen,
            maturity_date=MATURITY,
            idempotency_key=key,
        )

    with pytest.raises(InsufficientLimit):
        attempt(DEALER_USER, 540_000 * YUAN + 1, "over")
    with pytest.raises(NotYourDealerLine):  # another enterprise's user: the line is absent
        attempt(OTHER_USER, 1_000 * YUAN, "other")
    with pytest.raises(Forbidden):
        attempt(PARTNER, 1_000 * YUAN, "partner")
    later = _access(platform, date(2027, 3, 3))  # the day after the line's expiry
    with pytest.raises(LineExpired):
        draw_to_core(
            later,
            actor=DEALER_USER,
            line_id=line_id,
            amount_fen=1_000 * YUAN,
            maturity_date=date(2027, 4, 1),
            idempotency_key="late",
        )
    expired = dealer_line(later, actor=DEALER_USER, line_id=line_id)
    assert (expired.status, expired.available_fen) == ("expired", 0)  # nothing to draw
    freeze_credit_line(platform.servicing_uow, CreditLineId(line_id), reason="dispute", actor="ops")
    with pytest.raises(LineFrozen):
        attempt(DEALER_USER, 1_000 * YUAN, "frozen")
    frozen = dealer_line(access, actor=DEALER_USER, line_id=line_id)
    assert (frozen.status, frozen.available_fen, frozen.limit_fen) == ("frozen", 0, 540_000 * YUAN)
    assert _drawn(platform, line_id) == 0
    assert dealer_line(access, actor=RISK, line_id=line_id).receipts == ()
