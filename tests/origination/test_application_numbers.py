"""An application number drawn twice is drawn again, never mistaken for a duplicate application."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow_scenarios import new, staff
from origination_fakes import OTHER_ID, OTHER_PHONE, USCC_B
from origination_wiring import Wired

from puhui.services.origination import applying
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Role


def test_a_number_drawn_twice_is_drawn_again(db: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    draws: Iterator[str] = iter(["PH2026030200000001", "PH2026030200000001", "PH2026030200000002"])
    monkeypatch.setattr(applying, "_application_no", lambda today: next(draws))
    manager = staff(db, "am1", Role.ACCOUNT_MANAGER)
    first = uc.create_application(db.origination, actor=manager, request=new())
    second = uc.create_application(
        db.origination,
        actor=manager,
        request=new(uscc=USCC_B, id_number=OTHER_ID, phone=OTHER_PHONE),
    )
    assert first.application_no == "PH2026030200000001"
    assert second.application_no == "PH2026030200000002"
    listed = {a.application_no for a in uc.list_applications(db.origination, actor=manager)}
    assert listed == {"PH2026030200000001", "PH2026030200000002"}


def test_numbers_that_keep_colliding_give_a_named_conflict(
    db: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(applying, "_application_no", lambda today: "PH2026030200000009")
    manager = staff(db, "am1", Role.ACCOUNT_MANAGER)
    uc.create_application(db.origination, actor=manager, request=new())
    with pytest.raises(applying.ApplicationNumberTaken):
        uc.create_application(
            db.origination,
            actor=manager,
            request=new(uscc=USCC_B, id_number=OTHER_ID, phone=OTHER_PHONE),
        )
    assert len(uc.list_applications(db.origination, actor=manager)) == 1
