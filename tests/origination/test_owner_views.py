"""What an owner reads of their own applications: the list, and the contract before signing."""

from __future__ import annotations

import pytest
from flow_scenarios import apply_and_consent, new, staff
from origination_fakes import OTHER_ID, OTHER_PHONE, USCC_B
from origination_wiring import Wired

from puhui.domain.errors import NotFound
from puhui.domain.origination.errors import Forbidden, InvalidTransition
from puhui.services.origination import owner_views
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Role


@pytest.fixture
def wired(db: Wired) -> Wired:
    """The services on each database (SQLite, and PostgreSQL where there is one)."""
    return db


def test_an_owner_lists_only_their_own_applications(wired: Wired) -> None:
    owner, app_id = apply_and_consent(wired)
    other = wired.applicant(OTHER_PHONE)
    uc.create_application(
        wired.origination,
        actor=other,
        request=new(uscc=USCC_B, id_number=OTHER_ID, phone=OTHER_PHONE),
    )
    mine = owner_views.own_applications(wired.origination, actor=owner)
    assert [a.application_id for a in mine] == [app_id]
    with pytest.raises(Forbidden):
        owner_views.own_applications(wired.origination, actor=staff(wired, "ops", Role.OPERATIONS))


def test_the_contract_preview_is_the_text_acceptance_signs(wired: Wired) -> None:
    owner, app_id = apply_and_consent(wired)
    with pytest.raises(InvalidTransition):
        owner_views.contract_preview(wired.origination, actor=owner, application_id=app_id)
    uc.assess_application(wired.origination, actor=owner, application_id=app_id)
    preview = owner_views.contract_preview(wired.origination, actor=owner, application_id=app_id)
    stranger = wired.applicant(OTHER_PHONE)
    with pytest.raises(NotFound):
        owner_views.contract_preview(wired.origination, actor=stranger, application_id=app_id)
    signed = uc.accept_offer(wired.origination, actor=owner, application_id=app_id).contract
    assert signed is not None
    assert preview == signed.text
    assert signed.contract_no == owner_views.contract_number(
        uc.get_application(
            wired.origination, actor=owner, application_id=app_id
        ).application.application_no
    )
