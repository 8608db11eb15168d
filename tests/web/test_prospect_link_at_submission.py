"""The platform links a new application to the enterprise's live pre-approval by itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A, USCC_B

from puhui.domain.prospects import ProspectRow, ProspectStatus
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.prospects import loading
from puhui.services.prospects.ports import RunMeta
from puhui.services.security.permissions import SYSTEM, Role

MONTH = date(2026, 2, 1)


def _row(uscc: str, priority: int, valid_until: date) -> ProspectRow:
    return ProspectRow(
        uscc=uscc,
        month=MONTH,
        need_probability=0.7,
        need_amount_fen=60_000_000,
        need_month=date(2026, 3, 1),
        need_duration_months=6,
        limit_fen=40_000_000,
        annual_rate=Decimal("0.0485"),
        valid_until=valid_until,
        grade="A",
        priority=priority,
        region_code="330102",
        industry_group="manufacturing",
        park=None,
        is_customer=False,
    )


def test_an_application_of_a_live_prospect_is_linked_when_submitted(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    access = api.deps.prospects
    assert access is not None
    today = access.clock.today()
    # A's offer is still valid; B's lapsed the day before the application.
    loading.load_run(
        access,
        actor=SYSTEM,
        month=MONTH,
        rows=[_row(USCC_A, 1, date(2026, 4, 30)), _row(USCC_B, 2, date(2026, 3, 1))],
        meta=RunMeta(sources=PRE_CONSENT_SOURCES),
    )
    assert date(2026, 3, 1) < today <= date(2026, 4, 30)
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    made = {}
    for uscc in (USCC_A, USCC_B):
        body = {"uscc": uscc, "id_number": OWNER_ID, "phone": PHONE}
        created = api.client.post(
            "/api/v1/applications", json=body, headers={**manager, "Idempotency-Key": uscc}
        )
        assert created.status_code == 201, created.text
        made[uscc] = created.json()["application_id"]
    # Submitting the same request again (idempotent) links nothing twice.
    body = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE}
    again = api.client.post(
        "/api/v1/applications", json=body, headers={**manager, "Idempotency-Key": USCC_A}
    )
    assert again.json()["application_id"] == made[USCC_A]
    with access.units() as uow:
        listed = uow.prospects.listed(MONTH)
        history = uow.prospects.events(listed[USCC_A].prospect_id)
    assert listed[USCC_A].status is ProspectStatus.APPLIED
    assert listed[USCC_A].application_id == made[USCC_A]
    assert listed[USCC_A].assigned_to is None
    assert [(e.action, e.actor) for e in history][-1] == ("applied", SYSTEM.audit_name())
    assert listed[USCC_B].status is ProspectStatus.NEW
    assert listed[USCC_B].application_id is None
