"""``puhui advisor report``: the operator reads a consenting owner's report; clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.wiring import build_origination, origination_ports
from puhui.cli.main import app
from puhui.domain.origination.consent import DataScope
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Principal, Role
from puhui.services.security.sign_in import ensure_applicant

runner = CliRunner()
PHONE = "13812345678"


@pytest.fixture
def env(sqlite_url: str, advisor_market: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_MARKET_DIR", str(advisor_market))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return sqlite_url


def _consent(enterprise: tuple[str, str], scopes: set[DataScope]) -> None:
    platform = build_platform(Settings())
    try:
        origination = build_origination(platform, origination_ports(platform))
        with origination.uow_factory() as uow:
            user = ensure_applicant(uow, phone=PHONE, at_clock=origination.clock)
            uow.commit()
        owner = Principal(user_id=user.user_id, role=Role.APPLICANT)
        uscc, id_number = enterprise
        created = uc.create_application(
            origination,
            actor=owner,
            request=uc.NewApplication(uscc=uscc, id_number=id_number, phone=PHONE),
        )
        uc.give_consent(
            origination,
            actor=owner,
            application_id=created.application_id,
            scopes=scopes,
            purpose="health report",
        )
    finally:
        platform.close()


def test_the_report_prints_as_lines_and_json_and_writes_the_pdf(
    env: str, trading_enterprise: tuple[str, str], tmp_path: Path
) -> None:
    _consent(trading_enterprise, {DataScope.REGISTRATION, DataScope.TAX, DataScope.SETTLEMENT})
    uscc = trading_enterprise[0]
    pdf = tmp_path / "report.pdf"
    result = runner.invoke(
        app, ["advisor", "report", uscc, "--as-of", "2026-02", "--pdf", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    assert f"Business-health report {uscc}" in result.output
    assert "forecast (seasonal naive" in result.output
    # No decision yet: the strategy's affordability by grade, from verified sales and tax.
    assert "no decision yet: affordability by grade under mse-online-credit" in result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    as_json = runner.invoke(app, ["advisor", "report", uscc, "--as-of", "2026-02", "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["uscc"] == uscc
    assert document["scopes"] == ["registration", "tax", "settlement"]  # no bureau consent
    assert document["limit"]["binding"] is None
    assert set(document["limit"]["grades"]) == {"A", "B", "C", "D"}


def test_refusals_say_what_is_wrong(env: str, trading_enterprise: tuple[str, str]) -> None:
    uscc = trading_enterprise[0]
    unknown = runner.invoke(app, ["advisor", "report", uscc, "--as-of", "2026-02"])
    assert unknown.exit_code != 0
    assert "no application of this enterprise" in unknown.output
    _consent(trading_enterprise, {DataScope.REGISTRATION, DataScope.COURT})
    refused = runner.invoke(app, ["advisor", "report", uscc, "--as-of", "2026-02"])
    assert refused.exit_code != 0
    assert "consent_required" in refused.output
    assert "tax, settlement" in refused.output
    month = runner.invoke(app, ["advisor", "report", uscc, "--as-of", "Feb 2026"])
    assert month.exit_code != 0
    assert "write it as YYYY-MM" in month.output
    bad_id = runner.invoke(app, ["advisor", "report", "12345", "--as-of", "2026-02"])
    assert bad_id.exit_code != 0
    assert "invalid" in bad_id.output
