"""``puhui guarantee``: agreements created and listed, the claims job, the exposure report,
and a named error with no change on bad input."""

from __future__ import annotations

import json

import pytest
from tests.guarantees.platform.conftest import (
    AGENCY_USCC,
    draw_loan,
    open_line,
    set_past_due,
)
from typer.testing import CliRunner

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.cli.main import app

runner = CliRunner()
BORROWER = "91350100M000100Y43"


def test_agreement_cover_claims_run_and_exposure_from_the_command_line(
    guarantee_platform: Platform, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    p = guarantee_platform

    def servicing() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key)

    loan_id = draw_loan(servicing, open_line(servicing, BORROWER), 100_000_00, "d1")
    made = runner.invoke(
        app, ["guarantee", "agency", "create", "--name", "担保", "--uscc", AGENCY_USCC]
    )
    assert made.exit_code == 0, made.output
    agency_id = made.stdout.split("\t")[0]
    base = [
        "guarantee", "agreement", "create", "--agency", agency_id, "--coverage", "0.8",
        "--fee-rate", "0.01", "--borrower-cap", "300000", "--portfolio-cap", "1000000",
        "--from", "2026-01-01", "--to", "2027-12-31", "--counter-guarantee-waived", "--json",
    ]  # fmt: skip
    bad = runner.invoke(app, [*base[:6], "1.5", *base[7:]])
    assert bad.exit_code != 0
    assert "invalid_agreement" in bad.output
    created = runner.invoke(app, base)
    assert created.exit_code == 0, created.output
    agreement = json.loads(created.stdout)
    assert agreement["coverage_share"] == "0.8"
    assert agreement["counter_guarantee_waived"] is True
    assert agreement["channel"] is None
    for_partners = runner.invoke(app, [*base, "--channel", "partner"])
    assert for_partners.exit_code == 0, for_partners.output
    assert json.loads(for_partners.stdout)["channel"] == "partner"
    unknown = runner.invoke(app, [*base, "--channel", "pigeon"])
    assert unknown.exit_code != 0
    assert "invalid_agreement" in unknown.output
    listed = json.loads(runner.invoke(app, ["guarantee", "agreement", "list", "--json"]).stdout)
    assert [a["agreement_id"] for a in listed] == [
        agreement["agreement_id"],
        json.loads(for_partners.stdout)["agreement_id"],
    ]

    covered = runner.invoke(
        app,
        ["guarantee", "cover", "--loan", loan_id, "--agreement", agreement["agreement_id"],
         "--on", "2026-02-02"],
    )  # fmt: skip
    assert covered.exit_code == 0, covered.output
    assert "covered 80000.00" in covered.stdout
    set_past_due(p, loan_id, 91)
    run = runner.invoke(app, ["guarantee", "claims", "run", "--as-of", "2026-06-01", "--json"])
    assert run.exit_code == 0, run.output
    [claim] = json.loads(run.stdout)["raised"]
    assert claim["claim"] == "80000.00"
    exposure = json.loads(runner.invoke(app, ["guarantee", "exposure", "--json"]).stdout)
    assert exposure[0]["loans_covered"] == 1
    assert exposure[0]["claims"] == "80000.00"
    # The agreement collects at draw: the periodic fee schedule has nothing to collect.
    fees = runner.invoke(app, ["guarantee", "fees", "run", "--as-of", "2026-06-01", "--json"])
    assert fees.exit_code == 0, fees.output
    assert json.loads(fees.stdout) == []
    text = runner.invoke(app, ["guarantee", "fees", "run", "--as-of", "2026-06-01"])
    assert text.stdout.strip() == "fees on 2026-06-01: 0 periods, 0.00"
    bad_day = runner.invoke(app, ["guarantee", "fees", "run", "--as-of", "2026-06-31"])
    assert bad_day.exit_code == 2
