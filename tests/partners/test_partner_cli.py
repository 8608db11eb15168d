"""``puhui partner``: agreements, settlement, files and reconciliation from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.main import app

runner = CliRunner()
CREATE = [
    "partner",
    "agreement",
    "create",
    "--id",
    "AG1",
    "--partner",
    "P1",
    "--name",
    "Partner Bank",
    "--kind",
    "joint-lending",
    "--approver",
    "both",
    "--valid-from",
    "2026-01-01",
    "--valid-to",
    "2027-12-31",
]


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return sqlite_url


def test_an_agreement_is_created_activated_and_listed(env: str) -> None:
    created = runner.invoke(app, [*CREATE, "--funding-share", "0.3", "--json"])
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["status"] == "draft"
    assert runner.invoke(app, ["partner", "agreement", "activate", "AG1"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["partner", "agreement", "list", "--json"]).stdout)
    assert [(a["agreement_id"], a["funding_share"], a["status"]) for a in listed] == [
        ("AG1", "0.3", "active")
    ]


def test_a_share_over_seventy_percent_is_refused_and_nothing_is_stored(env: str) -> None:
    refused = runner.invoke(app, [*CREATE, "--funding-share", "0.8"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error [bank_share_below_minimum]: ")
    assert json.loads(runner.invoke(app, ["partner", "agreement", "list", "--json"]).stdout) == []


def test_an_unknown_loan_cannot_be_tied(env: str) -> None:
    runner.invoke(app, [*CREATE, "--funding-share", "0.3"])
    runner.invoke(app, ["partner", "agreement", "activate", "AG1"])
    result = runner.invoke(
        app, ["partner", "link", "--agreement", "AG1", "--loan", "nope", "--on", "2026-01-02"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error [loan_not_found]: ")


def test_reconcile_exits_1_and_names_a_row_only_the_partner_has(env: str, tmp_path: Path) -> None:
    runner.invoke(app, [*CREATE, "--funding-share", "0.3"])
    runner.invoke(app, ["partner", "agreement", "activate", "AG1"])
    settled = runner.invoke(app, ["partner", "settle", "--date", "2026-01-02", "--json"])
    assert json.loads(settled.stdout)[0]["rows"] == 0
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(
        "settled_on,agreement_id,loan_id,component,total,partner,bank\n"
        "2026-01-02,AG1,loan_X,interest,10.00,3.00,7.00\n"
    )
    args = ["partner", "reconcile", "--agreement", "AG1", "--date", "2026-01-02"]
    result = runner.invoke(app, [*args, "--file", str(theirs), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"loan_id": "loan_X", "component": "interest", "ours": None, "theirs": "3.00"}
    ]


def test_route_answers_per_active_agreement_and_refuses_a_bad_date(env: str) -> None:
    runner.invoke(app, [*CREATE, "--funding-share", "0.3"])
    runner.invoke(app, ["partner", "agreement", "activate", "AG1"])
    routed = runner.invoke(app, ["partner", "route", "--date", "2026-01-02", "--json"])
    assert routed.exit_code == 0, routed.output
    assert json.loads(routed.stdout) == [
        {"agreement_id": "AG1", "date": "2026-01-02", "linked": [], "not_linked": {}}
    ]
    text = runner.invoke(app, ["partner", "route", "--date", "2026-01-02"])
    assert text.stdout.strip() == "AG1 2026-01-02: 0 linked"
    bad = runner.invoke(app, ["partner", "route", "--date", "2026-13-01"])
    assert bad.exit_code == 2
