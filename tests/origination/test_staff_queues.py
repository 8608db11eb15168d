"""The staff queues' filter of applications: status set, creation time, amount, number —
the same answer from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from origination_fakes import OTHER_ID, OTHER_PHONE, OWNER_ID, PHONE, USCC_A, USCC_B
from origination_wiring import Wired

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.errors import Forbidden
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import ApplicationFilter
from puhui.services.origination.reviewing import review_bounds
from puhui.services.security.permissions import Principal, Role

STAFF = Principal(user_id="usr_staff", role=Role.APPROVER)


def _two_applications(w: Wired) -> tuple[str, str]:
    """A (200,000 yuan, created, day 0) and B (500,000 yuan, consented, day 1)."""
    first = w.applicant(PHONE)
    a = uc.create_application(
        w.origination,
        actor=first,
        request=uc.NewApplication(
            uscc=USCC_A, id_number=OWNER_ID, phone=PHONE, requested_amount_fen=20_000_000
        ),
    )
    w.clock.advance(timedelta(days=1))
    second = w.applicant(OTHER_PHONE)
    b = uc.create_application(
        w.origination,
        actor=second,
        request=uc.NewApplication(
            uscc=USCC_B, id_number=OTHER_ID, phone=OTHER_PHONE, requested_amount_fen=50_000_000
        ),
    )
    uc.give_consent(
        w.origination,
        actor=second,
        application_id=b.application_id,
        scopes=[DataScope.TAX],
        purpose="credit",
    )
    return a.application_no, b.application_no


def _numbers(w: Wired, where: ApplicationFilter) -> set[str]:
    found = uc.list_applications(w.origination, actor=STAFF, where=where)
    return {a.application_no for a in found}


def _check_filters(w: Wired) -> None:
    a, b = _two_applications(w)
    day0 = w.clock.now() - timedelta(days=1)
    assert _numbers(w, ApplicationFilter()) == {a, b}
    created = frozenset({ApplicationStatus.CREATED})
    assert _numbers(w, ApplicationFilter(statuses=created)) == {a}
    both = frozenset({ApplicationStatus.CREATED, ApplicationStatus.CONSENTED})
    assert _numbers(w, ApplicationFilter(statuses=both)) == {a, b}
    assert _numbers(w, ApplicationFilter(min_amount_fen=30_000_000)) == {b}
    assert _numbers(w, ApplicationFilter(max_amount_fen=20_000_000)) == {a}
    assert _numbers(w, ApplicationFilter(application_no=a)) == {a}
    assert _numbers(w, ApplicationFilter(created_before=day0 + timedelta(hours=1))) == {a}
    assert _numbers(w, ApplicationFilter(created_from=day0 + timedelta(hours=1))) == {b}
    with pytest.raises(InvalidInput):
        _numbers(w, ApplicationFilter(min_amount_fen=-1))


def test_the_filter_on_fakes(fake: Wired) -> None:
    _check_filters(fake)


def test_the_filter_in_sql(db: Wired) -> None:
    _check_filters(db)
    found = uc.list_applications(db.origination, actor=STAFF, where=ApplicationFilter())
    assert [a.created_at for a in found] == sorted((a.created_at for a in found), reverse=True)


def test_the_review_bounds_are_for_approvers(fake: Wired) -> None:
    assert review_bounds(fake.origination, actor=STAFF) == fake.origination.bounds_on(
        fake.clock.today()
    )
    with pytest.raises(Forbidden):
        review_bounds(fake.origination, actor=Principal(user_id="u", role=Role.AUDITOR))
