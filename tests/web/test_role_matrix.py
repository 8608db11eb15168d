"""Every endpoint × every role: allowed roles get past authorisation, the rest get 403."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import STAFF_ROLES, Api, build_servicing_api
from origination_fakes import OWNER_ID, PHONE

from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Permission, Role

R = Role
ALL = frozenset(Role)
STAFF = frozenset(STAFF_ROLES)
COLLECTIONS_WORK = frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.OPERATIONS, R.RISK_OFFICER})
COLLECTIONS_READ = COLLECTIONS_WORK | {R.AUDITOR}
GOVERNANCE_READ = frozenset({R.APPROVER, R.RISK_OFFICER, R.ADMIN, R.AUDITOR})
PROSPECT_WORK = frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR})
PROSPECT_MANAGE = frozenset({R.SUPERVISOR, R.OPERATIONS, R.ADMIN})
VOUCHER_READ = frozenset({R.APPLICANT, R.APPROVER, R.OPERATIONS, R.RISK_OFFICER, R.AUDITOR})
FINANCE_APPROVE = frozenset({R.APPROVER, R.OPERATIONS})
LEDGER_READ = frozenset({R.OPERATIONS, R.RISK_OFFICER, R.AUDITOR})
APPLICATION = {"uscc": "91110000802100433B", "id_number": OWNER_ID, "phone": PHONE}

# (method, path template, json body, roles allowed) — the access policy, written out.
MATRIX: list[tuple[str, str, dict[str, Any] | None, frozenset[Role]]] = [
    (
        "POST",
        "/api/v1/applications",
        APPLICATION,
        frozenset({R.APPLICANT, R.ACCOUNT_MANAGER, R.PARTNER}),
    ),
    ("GET", "/api/v1/applications", None, STAFF | {R.PARTNER}),
    ("GET", "/api/v1/applications/{app}", None, ALL),
    (
        "POST",
        "/api/v1/applications/{app}/consents",
        {"scopes": ["tax"], "purpose": "credit"},
        frozenset({R.APPLICANT}),
    ),
    ("DELETE", "/api/v1/applications/{app}/consents/{consent}", None, frozenset({R.APPLICANT})),
    (
        "POST",
        "/api/v1/applications/{app}/decision",
        None,
        frozenset({R.APPLICANT, R.ACCOUNT_MANAGER, R.PARTNER}),
    ),
    ("GET", "/api/v1/applications/{app}/decision", None, ALL),
    (
        "POST",
        "/api/v1/applications/{app}/review",
        {"approve": True, "note": "ok"},
        frozenset({R.APPROVER}),
    ),
    ("POST", "/api/v1/applications/{app}/acceptance", None, frozenset({R.APPLICANT})),
    # Staff take a line that failed to open from here: retry it, or cancel the application.
    ("POST", "/api/v1/applications/{app}/line-opening", None, frozenset({R.APPROVER})),
    (
        "POST",
        "/api/v1/applications/{app}/cancellation",
        {"note": "servicing refused the line"},
        frozenset({R.APPROVER}),
    ),
    ("GET", "/api/v1/applications/{app}/contract", None, ALL),
    (
        "POST",
        "/api/v1/fraud-lists/blacklist/entries",
        {"uscc": "91350100M000100Y43", "note": "test"},
        frozenset({R.RISK_OFFICER, R.ADMIN}),
    ),
    (
        "POST",
        "/api/v1/users",
        {"username": "new-user", "password": "correct horse battery", "role": "operations"},
        frozenset({R.ADMIN}),
    ),
    (
        "POST",
        "/api/v1/api-keys",
        {"partner_id": "p9", "scopes": ["applications:read"]},
        frozenset({R.ADMIN}),
    ),
    ("GET", "/api/v1/me", None, ALL),
    # Admins get past authorisation to a 404 (no such user); everyone else is refused.
    ("POST", "/api/v1/users/usr_nobody/token-revocation", None, frozenset({R.ADMIN})),
    # Security administration: admins reach a 404 (nothing by that id), others are refused.
    ("POST", "/api/v1/users/usr_nobody/disable", None, frozenset({R.ADMIN})),
    ("POST", "/api/v1/users/usr_nobody/enable", None, frozenset({R.ADMIN})),
    (
        "POST",
        "/api/v1/role-grants",
        {"role": "approver", "username": "matrix-approver"},
        frozenset({R.ADMIN}),
    ),
    ("GET", "/api/v1/role-grants", None, frozenset({R.ADMIN})),
    ("POST", "/api/v1/role-grants/grt_none/approval", None, frozenset({R.ADMIN})),
    ("POST", "/api/v1/role-grants/grt_none/rejection", None, frozenset({R.ADMIN})),
    ("POST", "/api/v1/api-keys/none/revocation", None, frozenset({R.ADMIN})),
    ("POST", "/api/v1/api-keys/none/rotation", None, frozenset({R.ADMIN})),
    # The audit trail: auditors and admins only.
    ("GET", "/api/v1/audit/events?limit=5", None, frozenset({R.AUDITOR, R.ADMIN})),
    # Sign-out (any signed-in caller) is left out: it would revoke the matrix's own tokens;
    # tests/web/test_sessions_api.py covers it.
    # Servicing: authorisation comes before ownership, so a line nobody owns tells allowed
    # roles (404) from refused ones (403).
    ("GET", "/api/v1/credit-lines/line_none", None, ALL),
    # Statements and receipts follow the line's own rule (staff, owner, referrer).
    ("GET", "/api/v1/credit-lines/line_none/statements?period=2026-02", None, ALL),
    ("GET", "/api/v1/credit-lines/line_none/receipts?limit=10&offset=0", None, ALL),
    (
        "POST",
        "/api/v1/credit-lines/line_none/freeze",
        {"reason": "early warning"},
        frozenset({R.RISK_OFFICER, R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/credit-lines/line_none/unfreeze",
        {"reason": "cleared"},
        frozenset({R.RISK_OFFICER, R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/credit-lines/line_none/limit-reduction",
        {"new_limit_fen": 1_000, "reason": "exposure cut"},
        frozenset({R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/credit-lines/line_none/draws",
        {"amount_fen": 1_000, "maturity_date": "2026-06-01"},
        frozenset({R.APPLICANT}),
    ),
    (
        "POST",
        "/api/v1/receipts/rcpt_none/repayments",
        {"amount_fen": 1_000},
        frozenset({R.APPLICANT, R.OPERATIONS}),
    ),
    ("GET", "/api/v1/receipts/rcpt_none/schedule", None, ALL),
    # Strategies and models: read by risk, approvers (their second pair of eyes), admins
    # and auditors.
    ("GET", "/api/v1/strategies", None, GOVERNANCE_READ),
    ("GET", "/api/v1/strategies/none/1", None, GOVERNANCE_READ),
    ("GET", "/api/v1/models", None, GOVERNANCE_READ),
    ("GET", "/api/v1/models/v-none", None, GOVERNANCE_READ),
    # Collections: collectors work cases, operations and risk hand them out, risk decides
    # write-offs (never its own proposal), auditors read; unknown ids reach a 404.
    ("GET", "/api/v1/collections?bucket=reminder", None, COLLECTIONS_READ),
    ("GET", "/api/v1/collections/case_none", None, COLLECTIONS_READ),
    ("POST", "/api/v1/collections/case_none/claim", None, COLLECTIONS_WORK),
    (
        "POST",
        "/api/v1/collections/case_none/assignment",
        {"assignee": "operations:someone"},
        frozenset({R.SUPERVISOR, R.RISK_OFFICER, R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/collections/case_none/contacts",
        {"channel": "phone", "result": "no_answer", "contacted_at": "2026-03-01T10:00:00+08:00"},
        COLLECTIONS_WORK,
    ),
    (
        "POST",
        "/api/v1/collections/case_none/promises",
        {"amount_fen": 1_000, "promised_on": "2026-03-10"},
        COLLECTIONS_WORK,
    ),
    ("GET", "/api/v1/write-offs", None, COLLECTIONS_READ),
    ("GET", "/api/v1/write-offs/wo_none", None, COLLECTIONS_READ),
    ("POST", "/api/v1/write-offs", {"receipt_id": "rcpt_none", "reason": "r"}, COLLECTIONS_WORK),
    ("POST", "/api/v1/write-offs/wo_none/approval", {}, frozenset({R.RISK_OFFICER})),
    ("POST", "/api/v1/write-offs/wo_none/rejection", {}, frozenset({R.RISK_OFFICER})),
    ("GET", "/api/v1/concentration", None, frozenset({R.RISK_OFFICER, R.AUDITOR})),
    # Post-loan monitoring: those who work the tasks read alerts (auditors too); supervisors
    # and risk officers acknowledge and close them. Unknown ids tell allowed (404) from refused.
    (
        "GET",
        "/api/v1/alerts",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER, R.AUDITOR}),
    ),
    (
        "GET",
        "/api/v1/alerts/alrt_none",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER, R.AUDITOR}),
    ),
    (
        "POST",
        "/api/v1/alerts/alrt_none/acknowledgement",
        None,
        frozenset({R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/alerts/alrt_none/closure",
        {"reason": "repaid"},
        frozenset({R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "GET",
        "/api/v1/tasks?mine=true",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "GET",
        "/api/v1/tasks/task_none",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "GET",
        "/api/v1/tasks/task_none/credit",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/tasks/task_none/claim",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/tasks/task_none/completion",
        {"outcome": "contacted"},
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/tasks/task_none/assignment",
        {"assignee": "usr_manager"},
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    (
        "GET",
        "/api/v1/task-assignees",
        None,
        frozenset({R.ACCOUNT_MANAGER, R.SUPERVISOR, R.RISK_OFFICER}),
    ),
    # Prospects: every staff role reads them (the map, the fast-track queue); account managers
    # and supervisors work them; supervisors, operations and admins manage the runs' plumbing.
    ("GET", "/api/v1/prospects", None, STAFF),
    ("GET", "/api/v1/prospects/map?dimension=industry", None, STAFF),
    ("GET", "/api/v1/prospects/fast-track", None, STAFF),
    ("GET", "/api/v1/prospects/prs_none", None, STAFF),
    (
        "POST",
        "/api/v1/prospects/prs_none/status",
        {"status": "contacted"},
        PROSPECT_WORK,
    ),
    ("POST", "/api/v1/prospects/prs_none/notes", {"note": "called"}, PROSPECT_WORK),
    ("POST", "/api/v1/prospects/prs_none/offer", {"phone": "13912345678"}, PROSPECT_WORK),
    (
        "POST",
        "/api/v1/prospects/prs_none/application",
        {"application_id": "app_none"},
        PROSPECT_WORK,
    ),
    (
        "POST",
        "/api/v1/marketing-opt-outs",
        {"uscc": "91350100M000100Y43", "reason": "asked"},
        PROSPECT_WORK,
    ),
    ("POST", "/api/v1/prospect-conversions", None, PROSPECT_MANAGE),
    ("PUT", "/api/v1/prospect-territories/3301", {"user_ids": []}, PROSPECT_MANAGE),
    # Supply-chain finance: enterprise users (applicants) act for their bound enterprises.
    (
        "POST",
        "/api/v1/core-enterprises",
        {"uscc": "91350100M000100Y43", "requested": "100.00"},
        frozenset({R.RISK_OFFICER}),
    ),
    ("GET", "/api/v1/core-enterprises", None, VOUCHER_READ),
    (
        "POST",
        "/api/v1/core-enterprises/91350100M000100Y43/freeze",
        {"reason": "review"},
        frozenset({R.RISK_OFFICER}),
    ),
    (
        "POST",
        "/api/v1/enterprise-users",
        {"user_id": "u-1", "uscc": "91350100M000100Y43"},
        frozenset({R.RISK_OFFICER}),
    ),
    ("GET", "/api/v1/vouchers", None, VOUCHER_READ),
    ("POST", "/api/v1/vouchers/vch_none/accept", None, frozenset({R.APPLICANT})),
    (
        "POST",
        "/api/v1/vouchers/vch_none/split",
        {"parts": ["1.00", "2.00"]},
        frozenset({R.APPLICANT}),
    ),
    ("POST", "/api/v1/vouchers/vch_none/finance", None, frozenset({R.APPLICANT})),
    ("POST", "/api/v1/vouchers/settle", {"on": "2026-03-02"}, frozenset({R.OPERATIONS})),
    # Reconciliation reads the ledger: operations, risk officers and auditors.
    (
        "POST",
        "/api/v1/repayment-reconciliations",
        {"value_date": "2026-03-01", "file": "order_id,loan_id,amount,value_date\n"},
        LEDGER_READ,
    ),
    ("GET", "/api/v1/repayment-reconciliations", None, LEDGER_READ),
    (
        "GET",
        "/api/v1/repayment-reconciliations/rcn_01M97GEBT7CCJTMT31HSJDFZQ4",
        None,
        LEDGER_READ,
    ),
    # Suspense (挂账): the ledger's readers read the items; operations alone holds, applies and
    # requests, approves or rejects refunds and transfers to another loan. Unknown runs and
    # items reach a 404.
    ("GET", "/api/v1/repayment-suspense?status=held", None, LEDGER_READ),
    ("GET", "/api/v1/repayment-suspense/tie-out", None, LEDGER_READ),
    ("GET", "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4", None, LEDGER_READ),
    (
        "POST",
        "/api/v1/repayment-suspense",
        {"run_id": "rcn_01M97GEBT7CCJTMT31HSJDFZQ4", "order_id": "ORD-1"},
        frozenset({R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/apply",
        {},
        frozenset({R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/refund",
        {"reason": "the payer's duplicate"},
        frozenset({R.OPERATIONS}),
    ),
    # A refund takes two operators: one requests it, another approves it or either rejects it.
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/refund/approve",
        None,
        frozenset({R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/refund/reject",
        {"reason": "the payer is right"},
        frozenset({R.OPERATIONS}),
    ),
    # So does applying the money to another loan than the channel's.
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/transfer",
        {"loan_id": "rcpt_none", "reason": "the payer's other loan"},
        frozenset({R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/transfer/approve",
        None,
        frozenset({R.OPERATIONS}),
    ),
    (
        "POST",
        "/api/v1/repayment-suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4/transfer/reject",
        {"reason": "the payer is right"},
        frozenset({R.OPERATIONS}),
    ),
    ("GET", "/api/v1/voucher-financings", None, VOUCHER_READ - {R.APPLICANT}),
    ("POST", "/api/v1/voucher-financings/fin_none/approve", None, FINANCE_APPROVE),
    (
        "POST",
        "/api/v1/voucher-financings/fin_none/reject",
        {"reason": "no"},
        FINANCE_APPROVE,
    ),
]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Api, dict[Role, dict[str, str]], dict[str, str]]]:
    """One world for the whole matrix: authorisation never depends on the state calls leave."""
    clock = FixedClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'puhui.db'}"
    api, engine = build_servicing_api(url, clock, tmp_path_factory.mktemp("models"))
    headers: dict[Role, dict[str, str]] = {role: api.staff_headers(role) for role in STAFF_ROLES}
    headers[Role.APPLICANT] = api.applicant_headers()
    headers[Role.PARTNER] = api.partner_headers(extra=(Permission.LINE_READ,))
    owner = headers[Role.APPLICANT]
    created = api.client.post(
        "/api/v1/applications",
        json={"uscc": "91350100M000100Y43", "id_number": OWNER_ID, "phone": PHONE},
        headers=owner,
    )
    app_id = created.json()["application_id"]
    consent = api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": ["tax"], "purpose": "credit"},
        headers=owner,
    )
    yield api, headers, {"app": app_id, "consent": consent.json()["consent_id"]}
    api.client.close()
    engine.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_endpoint_role_matrix(
    world: tuple[Api, dict[Role, dict[str, str]], dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: frozenset[Role],
    role: Role,
) -> None:
    api, headers, ids = world
    url = path.format(**ids)
    # Money requests need a key; other endpoints ignore the header.
    sent = {**headers[role], "Idempotency-Key": f"matrix-{role.value}"}
    response = api.client.request(method, url, json=body, headers=sent)
    assert response.status_code != 401, response.text
    assert response.status_code < 500, response.text
    if role in allowed:
        assert response.status_code != 403, f"{role.value} refused: {response.text}"
    else:
        assert response.status_code == 403, f"{role.value} let in: {response.status_code}"
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _, _ in MATRIX],
)
def test_every_protected_endpoint_refuses_anonymous_callers(
    world: tuple[Api, dict[Role, dict[str, str]], dict[str, str]], method: str, path: str
) -> None:
    api, _, ids = world
    response = api.client.request(method, path.format(**ids), json={})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
