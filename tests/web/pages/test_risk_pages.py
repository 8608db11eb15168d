"""The console's risk pages over HTTP: strategies (tables, drafts, four eyes, diff, backtests)
and models (registry, approval by a second person, promotion, monitoring)."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent))

from api_support import PASSWORD, Api, build_servicing_api

from puhui.decision.strategy import shipped_strategy_text
from puhui.domain.clock import FixedClock
from puhui.risk.registry import INDEX_FILE, ModelStatus, RegistryEntry
from puhui.services import strategies
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STAFF = {
    "risk": Role.RISK_OFFICER,
    "risk2": Role.RISK_OFFICER,
    "approver": Role.APPROVER,
    "auditor": Role.AUDITOR,
    "manager": Role.ACCOUNT_MANAGER,
}
NAME = "mse-online-credit"


@pytest.fixture
def site(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    registry = tmp_path / "models"
    api, engine = build_servicing_api(sqlite_url, clock, registry)
    strategies.seed_shipped(
        _units(api),
        text=shipped_strategy_text(NAME),
        clock=clock,
    )
    for username, role in STAFF.items():
        accounts.create_user(
            api.deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
        )
    try:
        yield api, registry
    finally:
        api.client.close()
        engine.dispose()


def _units(api: Api) -> strategies.UowFactory:
    assert api.deps.credit is not None
    assert api.deps.credit.strategies_uow is not None
    return api.deps.credit.strategies_uow


def _client(api: Api, username: str) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver")
    token = _csrf(client, "/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None, path
    return match.group(1)


def _post(client: TestClient, path: str, data: dict[str, str], page: str) -> httpx.Response:
    return client.post(
        path, data={**data, "csrf_token": _csrf(client, page)}, follow_redirects=False
    )


def _new_version_text(limit_cap: str = "2500000") -> str:
    text = re.sub(r"^version: 1$", "version: 2", shipped_strategy_text(NAME), flags=re.MULTILINE)
    return text.replace('product_cap_yuan: "3000000"', f'product_cap_yuan: "{limit_cap}"')


def test_strategy_pages_follow_the_roles(site: tuple[Api, Path]) -> None:
    api, _ = site
    for username in ("risk", "approver", "auditor"):
        client = _client(api, username)
        page = client.get("/console/strategies")
        assert page.status_code == 200, username
        assert NAME in page.text
        home = client.get("/console/").text
        assert 'href="/console/strategies"' in home
        assert 'href="/console/models"' in home
    manager = _client(api, "manager")
    assert manager.get("/console/strategies").status_code == 403
    assert 'href="/console/strategies"' not in manager.get("/console/").text


def test_a_version_reads_as_tables_with_its_yaml_aside(site: tuple[Api, Path]) -> None:
    api, _ = site
    page = _client(api, "auditor").get(f"/console/strategies/{NAME}/1?lang=en").text
    assert "Knock-out rules" in page
    assert '<th scope="row">KO_BLACKLIST</th>' in page
    assert "Reason codes" in page
    assert "<details" in page
    assert "schema_version: 1" in page
    # Auditors read only: no lifecycle buttons, no backtest form.
    assert "New draft from this version" not in page
    assert "/backtests" not in page


def test_draft_submit_approve_activate_with_four_eyes(site: tuple[Api, Path]) -> None:
    api, _ = site
    risk, risk2 = _client(api, "risk"), _client(api, "risk2")
    form = risk.get(f"/console/strategies/new?name={NAME}&version=1").text
    assert "version: 2" in form
    saved = _post(
        risk,
        "/console/strategies/new",
        {"document": _new_version_text(), "kind": "strategy"},
        "/console/strategies/new",
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/console/strategies/{NAME}/2?done=drafted"
    page = f"/console/strategies/{NAME}/2"
    assert _post(risk, f"{page}/submit", {}, page).status_code == 303
    # The proposer may not approve their own version: the page says so, nothing changes.
    refused = _post(risk, f"{page}/approve", {}, page)
    assert refused.status_code == 409
    assert "双人复核" in refused.text or "另一人" in refused.text
    units = _units(api)
    assert strategies.get_version(units, NAME, 2).status is strategies.StrategyStatus.SUBMITTED
    assert _post(risk2, f"{page}/approve", {}, page).status_code == 303
    assert _post(risk2, f"{page}/activate", {}, page).status_code == 303
    active = strategies.active_version(units, NAME)
    assert active is not None
    assert active.version == 2
    listing = risk.get("/console/strategies?lang=en").text
    assert "risk2" in listing  # approvers are named by their username


def test_a_version_sent_back_says_what_to_change(site: tuple[Api, Path]) -> None:
    api, _ = site
    risk, risk2 = _client(api, "risk"), _client(api, "risk2")
    _post(
        risk,
        "/console/strategies/new",
        {"document": _new_version_text(), "kind": "strategy"},
        "/console/strategies/new",
    )
    page = f"/console/strategies/{NAME}/2"
    assert _post(risk, f"{page}/submit", {}, page).status_code == 303
    units = _units(api)
    # Without a reason nothing is sent back, and the page says what is missing.
    blank = _post(risk2, f"{page}/reject", {"reason": "  "}, page)
    assert blank.status_code == 422
    assert "退回时请说明需要作者修改的内容" in blank.text
    assert "characters" not in blank.text  # the sentence alone, not the service's English
    assert strategies.get_version(units, NAME, 2).status is strategies.StrategyStatus.SUBMITTED
    back = _post(risk2, f"{page}/reject", {"reason": "上限下调过多，请保留 300 万"}, page)
    assert back.status_code == 303
    assert back.headers["location"] == f"{page}?done=rejected"
    item = strategies.get_version(units, NAME, 2)
    assert item.status is strategies.StrategyStatus.DRAFT
    assert item.return_reason == "上限下调过多，请保留 300 万"
    # The author reads who sent it back and why, on the version and in the list.
    shown = risk.get(page).text
    assert "最近一次退回" in shown
    assert "risk2 · 2026-03-02 09:30: 上限下调过多，请保留 300 万" in shown
    assert "由 risk2 退回修改" in risk.get("/console/strategies").text
    english = risk.get(f"{page}?lang=en").text
    assert "Last sent back" in english
    assert "Sent back by risk2" in risk.get("/console/strategies?lang=en").text


def test_an_invalid_draft_is_shown_with_its_problems(site: tuple[Api, Path]) -> None:
    api, _ = site
    risk = _client(api, "risk")
    broken = _new_version_text().replace("hit_policy: first", "hit_policy: sometimes")
    response = _post(
        risk,
        "/console/strategies/new",
        {"document": broken, "kind": "strategy"},
        "/console/strategies/new",
    )
    assert response.status_code == 422
    assert "sometimes" in response.text  # the text is kept
    assert 'role="alert"' in response.text


def test_the_lifecycle_refuses_without_csrf_and_for_readers(site: tuple[Api, Path]) -> None:
    api, _ = site
    auditor = _client(api, "auditor")
    page = f"/console/strategies/{NAME}/1"
    assert auditor.post(f"{page}/activate", data={}).status_code == 403
    assert _post(auditor, f"{page}/activate", {}, page).status_code == 403
    approver = _client(api, "approver")
    new = _post(
        approver,
        "/console/strategies/new",
        {"document": _new_version_text(), "kind": "strategy"},
        "/console/strategies",
    )
    assert new.status_code == 403


def test_the_diff_shows_the_changed_limit(site: tuple[Api, Path]) -> None:
    api, clock = site[0], site[0].clock
    units = _units(api)
    strategies.create_draft(units, text=_new_version_text("2000000"), actor="someone", clock=clock)
    page = _client(api, "approver").get(f"/console/strategies/{NAME}/diff/1/2?lang=en").text
    assert "limit.product_cap_yuan" in page
    assert "3000000" in page
    assert "2000000" in page
    assert 'class="diff-add"' in page
    assert 'class="diff-del"' in page


def test_a_backtest_without_stored_decisions_says_so(site: tuple[Api, Path]) -> None:
    api, _ = site
    risk = _client(api, "risk")
    page = f"/console/strategies/{NAME}/1"
    started = _post(
        risk, f"{page}/backtests", {"decided_from": "2024-01-01", "decided_to": "2024-01-31"}, page
    )
    assert started.status_code == 303
    report = started.headers["location"] + "/report"
    for _ in range(100):
        fragment = risk.get(report)
        if "hx-trigger" not in fragment.text:
            break
        time.sleep(0.05)
    assert "hx-trigger" not in fragment.text
    assert "no stored decisions" in fragment.text
    assert risk.get("/console/strategies/backtests/unknown").status_code == 404


def _register(registry: Path, version: str, status: ModelStatus, builder: str) -> None:
    entry = RegistryEntry(
        version=version,
        name="mse_pd",
        kind="gbm",
        status=status,
        builder=builder,
        registered_at="2024-01-02T03:04:05+00:00",
        data_hash="0" * 64,
        metrics={"out_of_sample": {"auc": 0.81, "ks": 0.48, "gini": 0.62, "n": 900, "folds": 5}},
    )
    path = registry / INDEX_FILE
    index = json.loads(path.read_text()) if path.exists() else {"versions": []}
    index["versions"].append(entry.to_dict())
    registry.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index))


def test_models_approve_by_a_second_person_then_promote(site: tuple[Api, Path]) -> None:
    api, registry = site
    _register(registry, "model_old", ModelStatus.CHAMPION, "demo:modeller")
    risk, risk2 = _client(api, "risk"), _client(api, "risk2")
    risk_id = accounts.authenticate_token(
        api.deps.security,
        next(c.value for c in risk.cookies.jar if c.name == "puhui_console"),
    ).audit_name()
    _register(registry, "model_new", ModelStatus.CANDIDATE, risk_id)
    listing = risk.get("/console/models?lang=en").text
    assert "model_old" in listing
    assert "Champion" in listing
    assert "0.810" in listing
    page = "/console/models/model_new"
    detail = risk.get(page + "?lang=en").text
    assert 'data-chart="metrics-chart"' in detail
    refused = _post(risk, f"{page}/approve", {}, page)
    assert refused.status_code == 409
    assert _post(risk2, f"{page}/approve", {}, page).status_code == 303
    assert _post(risk2, f"{page}/promote", {}, page).status_code == 303
    statuses = {
        e["version"]: e["status"]
        for e in json.loads((registry / INDEX_FILE).read_text())["versions"]
    }
    assert statuses == {"model_old": "retired", "model_new": "champion"}
    auditor = _client(api, "auditor")
    assert auditor.get(page).status_code == 200
    assert _post(auditor, f"{page}/promote", {}, page).status_code == 403
    assert "Model monitoring is not available" in risk.get(page + "?lang=en").text


def test_a_draft_can_be_uploaded_as_a_file(site: tuple[Api, Path]) -> None:
    api, _ = site
    risk = _client(api, "risk")
    token = _csrf(risk, "/console/strategies/new")
    response = risk.post(
        "/console/strategies/new",
        data={"document": "", "kind": "strategy", "csrf_token": token},
        files={"file": ("v2.yaml", _new_version_text().encode(), "application/yaml")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert strategies.get_version(_units(api), NAME, 2).status is strategies.StrategyStatus.DRAFT
