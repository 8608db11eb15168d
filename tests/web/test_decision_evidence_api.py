"""The decision endpoint shows staff what a decision read and which versions decided it."""

from __future__ import annotations

from datetime import date

from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A

from puhui.domain.origination.decision_record import DecisionEvidence
from puhui.services.security.permissions import Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "bureau"]

EVIDENCE = DecisionEvidence(
    as_of=date(2026, 3, 2),
    licence_type="bank",
    strategy_name="mse-online-credit",
    strategy_version=3,
    strategy_hash="ab" * 32,
    model_name="mse_pd",
    model_version="model_01TEST",
    arm="challenger",
    inputs={"requested_amount_fen": 20_000_000, "tax_grade": "A"},
    features={"sales_12m_log": 13.5},
    feature_source="store",
    feature_lineage={"source_month": "2026-02-01", "feature_set_version": "f00d"},
    data_reference={"scopes": SCOPES},
    experiment="mse-online-credit:challenger:3",
    bucket=123,
    shadow={"arm": "champion", "outcome": "refer"},
    model_pd=0.021,
    model_score=655.0,
)


def _decided(api: Api) -> str:
    owner = api.applicant_headers()
    app_id = str(
        api.client.post("/api/v1/applications", json=BODY, headers=owner).json()["application_id"]
    )
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit assessment", "valid_days": 30},
        headers=owner,
    )
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text
    return app_id


def test_staff_read_the_inputs_features_and_versions_of_a_stored_decision(api: Api) -> None:
    api.assessor.evidence = EVIDENCE
    app_id = _decided(api)
    staff = api.staff_headers(Role.APPROVER)
    decision = api.client.get(f"/api/v1/applications/{app_id}/decision", headers=staff)
    assert decision.status_code == 200, decision.text
    evidence = decision.json()["evidence"]
    assert evidence["strategy"] == "mse-online-credit@3"
    assert evidence["model_version"] == "model_01TEST"
    assert evidence["arm"] == "challenger"
    assert evidence["bucket"] == 123
    assert evidence["inputs"] == {"requested_amount_fen": 20_000_000, "tax_grade": "A"}
    assert evidence["features"] == {"sales_12m_log": 13.5}
    assert evidence["feature_source"] == "store"
    assert evidence["shadow"]["outcome"] == "refer"
    assert evidence["automatic_outcome"] == "approve"


def test_the_owner_sees_the_decision_without_its_inputs_or_versions(api: Api) -> None:
    api.assessor.evidence = EVIDENCE
    app_id = _decided(api)
    owner = api.applicant_headers()
    decision = api.client.get(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decision.status_code == 200, decision.text
    body = decision.json()
    assert body["evidence"] is None
    assert body["trace"] == {}
    assert "model_01TEST" not in decision.text


def test_a_decision_without_stored_evidence_shows_none_to_staff(api: Api) -> None:
    api.assessor.evidence = None
    app_id = _decided(api)
    staff = api.staff_headers(Role.RISK_OFFICER)
    decision = api.client.get(f"/api/v1/applications/{app_id}/decision", headers=staff)
    assert decision.status_code == 200, decision.text
    assert decision.json()["evidence"] is None
