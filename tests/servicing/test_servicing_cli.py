"""The ``eod`` and ``ledger`` sub-apps, invoked directly (mounted as ``puhui eod``/``ledger``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.cli import eod, ledger
from puhui.cli import line as line_cli
from puhui.domain.ids import CreditLineId
from puhui.services.servicing.lines import draw

runner = CliRunner()


@pytest.fixture
def env(servicing_platform: Platform) -> dict[str, str]:
    return {
        "PUHUI_DATABASE_URL": servicing_platform.settings.database_url,
        "PUHUI_ENVIRONMENT": "test",
    }


def test_eod_run_then_trial_balance_sums_to_zero(
    env: dict[str, str],
    servicing_platform: Platform,
    uow_factory: Callable[[], ServicingUnitOfWork],
    line_id: CreditLineId,
) -> None:
    draw(
        uow_factory,
        line_id,
        amount_fen=50_000_00,
        on=date(2026, 2, 1),
        maturity_date=date(2026, 5, 1),
        idempotency_key="d",
        actor="c",
    )
    first = runner.invoke(eod.app, ["run", "--as-of", "2026-02-01"], env=env)
    assert first.exit_code == 0, first.output
    assert "completed" in first.output
    with servicing_platform.database.engine.connect() as connection:
        audited = connection.execute(
            text("SELECT entity_id FROM audit_events WHERE action = 'eod.completed'")
        ).scalars()
        assert list(audited) == ["2026-02-01"]
    again = runner.invoke(eod.app, ["run", "--as-of", "2026-02-01"], env=env)
    assert "already completed" in again.output
    skipped = runner.invoke(eod.app, ["run", "--as-of", "2026-02-03"], env=env)
    assert skipped.exit_code != 0
    assert "2026-02-02" in skipped.output

    table = runner.invoke(ledger.app, ["trial-balance", "--as-of", "2026-02-01"], env=env)
    assert table.exit_code == 0, table.output
    assert "principal receivable" in table.output
    result = runner.invoke(
        ledger.app, ["trial-balance", "--as-of", "2026-02-01", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["balanced"] is True
    assert data["total"] == "0.00"
    balances = {a["code"]: a["balance"] for a in data["accounts"]}
    assert balances["1303"] == "50000.00"
    assert balances["6011"] == "-6.04"  # one day: 5,000,000 × 4.35% / 360 = 604.17 fen


def test_a_malformed_date_is_a_usage_error(env: dict[str, str]) -> None:
    result = runner.invoke(ledger.app, ["trial-balance", "--as-of", "yesterday"], env=env)
    assert result.exit_code == 2
    assert "invalid_date" in result.output


def test_line_statement_prints_the_cycle_and_refuses_bad_input(
    env: dict[str, str],
    uow_factory: Callable[[], ServicingUnitOfWork],
    line_id: CreditLineId,
) -> None:
    draw(
        uow_factory,
        line_id,
        amount_fen=50_000_00,
        on=date(2026, 2, 1),
        maturity_date=date(2026, 5, 1),
        idempotency_key="d",
        actor="c",
    )
    for day in ("2026-02-01", "2026-02-02"):
        assert runner.invoke(eod.app, ["run", "--as-of", day], env=env).exit_code == 0
    shown = runner.invoke(
        line_cli.app, ["statement", "--line", line_id, "--period", "2026-02", "--json"], env=env
    )
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert (doc["from"], doc["to"], doc["final"]) == ("2026-01-21", "2026-02-20", False)
    assert doc["opening"]["total"] == "0.00"
    drawn = [m for m in doc["movements"] if m["kind"] == "draw"]
    assert [(m["date"], m["amount"], m["label_zh"]) for m in drawn] == [
        ("2026-02-01", "50000.00", "放款")
    ]
    assert doc["closing"]["principal"] == "50000.00"
    table = runner.invoke(
        line_cli.app, ["statement", "--line", line_id, "--period", "2026-02"], env=env
    )
    assert "对账单" in table.output
    assert "provisional" in table.output

    bad = runner.invoke(
        line_cli.app, ["statement", "--line", line_id, "--period", "2026-13"], env=env
    )
    assert bad.exit_code != 0
    assert "error [" in bad.output
    unknown = runner.invoke(
        line_cli.app, ["statement", "--line", "line_nobody", "--period", "2026-02"], env=env
    )
    assert unknown.exit_code != 0
    assert "not_found" in unknown.output
