"""The command line as an operator uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import puhui
from puhui.cli.main import app
from puhui.domain.money import format_yuan

runner = CliRunner()


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    return database_url


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"puhui {puhui.__version__}"


def test_db_status_reports_pending_then_up_to_date(env: str) -> None:
    pending = runner.invoke(app, ["db", "status"])
    assert pending.exit_code == 1
    assert "pending:  0001, 0002, 0003, 0004, 0005, 0006," in pending.stdout
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "up to date" in upgraded.stdout
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0
    assert "up to date" in status.stdout


def test_demo_migrates_describes_the_platform_and_lends(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the configured database, SQLite or PostgreSQL, not on a file of its own."""
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_MODEL_REGISTRY_DIR", str(tmp_path / "models"))
    result = runner.invoke(
        app,
        [
            "demo",
            "--enterprises",
            "3000",
            "--months",
            "3",
            "--history-months",
            "24",
            "--workdir",
            str(tmp_path / "demo"),
            "--no-serve",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "audit_events" in result.stdout
    assert "up to date" in result.stdout
    assert "== Portfolio" in result.stdout
    assert "trial balance total                 0 fen" in result.stdout
    # The governed path: the model went through the registry, decisions were stored.
    assert "champion of mse_pd" in result.stdout
    assert "origination_decisions" in result.stdout
    # Post-loan monitoring ran on the first day of each month, on the same database, and its
    # early warning is reported against the truth.
    assert "== Post-loan monitoring" in result.stdout
    assert "lead time (truth):" in result.stdout
    assert "behavioural model:" in result.stdout
    assert "== Supply-chain finance: tiers reached ==" in result.stdout
    assert "refused by the platform: none" in result.stdout
    # The branch's term loans were booked and worked through the loan-change services.
    term_loans = result.stdout.split("== Term loans (流动资金贷款)", 1)[1].split("\n== ", 1)[0]
    assert re.search(r"booked: +[1-9][0-9]* loans", term_loans)
    assert "refused:                  none" in term_loans
    _the_last_month_is_reconciled_with_the_channel(result.stdout, tmp_path / "demo")
    _logged_to_a_file_with_charts(result.stdout, tmp_path / "demo")
    _monitoring_runs_are_stored(database_url)
    _stored_decisions_show_replay_backtest_and_monitor(database_url, tmp_path)
    # It ran on the configured database: a second run there is refused without --reset.
    again = runner.invoke(
        app,
        [
            "demo",
            "--enterprises",
            "3000",
            "--months",
            "1",
            "--workdir",
            str(tmp_path / "demo"),
            "--no-serve",
        ],
    )
    assert again.exit_code == 2
    assert "database_in_use" in again.output


def _the_last_month_is_reconciled_with_the_channel(stdout: str, workdir: Path) -> None:
    """The channel's record, kept apart from the books, agrees with them: each day of the
    demo's last 31 days was reconciled and recorded."""
    section = stdout.split("== Repayment reconciliation (还款对账) ==", 1)[1].split("\n== ", 1)[0]
    assert "the books and the channel agree on every day" in section
    assert "31 days reconciled" in section
    assert re.search(r"matched: +[1-9][0-9,]* repayments", section)
    files = sorted((workdir / "channel").glob("repayments-*.csv"))
    assert len(files) == 31
    listed = runner.invoke(app, ["ledger", "reconciliations", "--json", "--limit", "100"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.output)
    assert {(r["file_name"], r["reconciled_by"]) for r in runs} == {
        (f.name, "usr_demo_operations") for f in files
    }
    # One collection never reached the books: its day broke once, then, the money held in
    # suspense, agreed; the item was applied to its loan.
    held = re.search(r"suspense \(挂账\): +order (SIM-TIMEOUT-\d{8}) \(100\.00 yuan", section)
    assert held is not None, section
    assert "applied to " in section
    # One the channel named the wrong loan for: held, and transferred to the loan the payer
    # repaid by two operators.
    moved = re.search(
        r"transfer \(转入\): +order (SIM-WRONGLOAN-\d{8}) \(200\.00 yuan, [0-9-]+\): the "
        r"channel named (\S+), the payer repaid (\S+) \((the same|another) enterprise's\);",
        section,
    )
    assert moved is not None, section
    assert moved.group(2) != moved.group(3)
    assert "requested by usr_demo_operations and approved by usr_demo_operations_checker" in section
    # A payer debited twice: held the same way, its refund requested by the demo's operator
    # and left for a second one to approve.
    twice = re.search(r"refund \(退回\): +order (SIM-DUPLICATE-\d{8}) \(([0-9,.]+) yuan", section)
    assert twice is not None, section
    assert "waiting for a second operator" in section
    broke = [r for r in runs if not r["agrees"]]
    assert [r["breaks_count"] for r in broke] == [1, 1, 1]
    assert sorted(r["file_name"] for r in runs) == sorted(
        [f.name for f in files] + [r["file_name"] for r in broke]
    )
    items = runner.invoke(app, ["ledger", "suspense", "--status", "applied", "--json"])
    assert items.exit_code == 0, items.output
    applied = {i["order_id"]: i for i in json.loads(items.output)}
    assert sorted(applied) == sorted([held.group(1), moved.group(1)])
    transferred = applied[moved.group(1)]
    assert (transferred["loan_id"], transferred["applied_loan_id"]) == moved.group(2, 3)
    assert (transferred["transfer_requested_by"], transferred["resolved_by"]) == (
        "usr_demo_operations",
        "usr_demo_operations_checker",
    )
    waiting = runner.invoke(app, ["ledger", "suspense", "--status", "refund_requested", "--json"])
    assert waiting.exit_code == 0, waiting.output
    (pending,) = json.loads(waiting.output)
    assert (pending["order_id"], pending["refund_requested_by"]) == (
        twice.group(1),
        "usr_demo_operations",
    )
    # The suspense account holds exactly the refund waiting for its approval.
    assert re.search(
        rf"suspense account: +2245 holds {re.escape(twice.group(2))} yuan, 1 item in "
        r"suspense: ties out",
        section,
    ), section
    last = re.search(r"last recorded: +(rcn_[0-9A-Z]{26})", section)
    assert last is not None
    assert last.group(1) in {r["run_id"] for r in runs}
    assert sum(r["matched"] for r in runs) > 0
    day = files[0].name.removeprefix("repayments-").removesuffix(".csv")
    again = runner.invoke(
        app, ["ledger", "reconcile-repayments", "--date", day, "--file", str(files[0])]
    )
    assert again.exit_code == 0, again.output
    assert "the books and the channel agree" in again.output


def _logged_to_a_file_with_charts(stdout: str, workdir: Path) -> None:
    """The log lines went to a file (its path printed first), the charts to PNG files."""
    logs = list((workdir / "log").glob("demo-*.log"))
    assert len(logs) == 1
    assert stdout.startswith(f"log: {logs[0]}")
    logged = logs[0].read_text(encoding="utf-8")
    assert "puhui.cli.demo_stages: model: registered" in logged
    assert "puhui.pipelines.simulation: simulated" in logged
    assert " INFO " not in stdout
    assert "== Origination by month ==" in stdout
    assert "== Model monitoring (每月模型监控) ==" in stdout
    for name in ("originations", "balance-by-dpd", "vintages", "predicted-vs-realised"):
        chart = workdir / "charts" / f"{name}.png"
        assert str(chart) in stdout
        assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def _monitoring_runs_are_stored(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        runs = connection.execute(
            text("SELECT status, customers_done FROM monitoring_runs ORDER BY as_of")
        ).all()
        alerts = connection.execute(text("SELECT count(*) FROM monitoring_alerts")).scalar_one()
        tasks = connection.execute(
            text("SELECT count(*) FROM monitoring_tasks WHERE status = 'completed'")
        ).scalar_one()
    engine.dispose()
    assert [r.status for r in runs] == ["completed"] * 3
    assert runs[-1].customers_done > 0
    assert alerts >= 1
    assert tasks == alerts


def _shown_as_text(application_id: str, document: dict[str, Any]) -> None:
    """The text form: money in yuan, "-" for what a decision has not got, pd and score
    rounded for reading (the JSON keeps them whole)."""
    shown = runner.invoke(app, ["decision", "show", application_id])
    assert shown.exit_code == 0, shown.output
    lines = {line[:14].strip(): line[14:] for line in shown.stdout.splitlines()}
    outcome = lines["outcome"]
    assert outcome.startswith(f"{document['outcome']}  ")
    assert "None" not in outcome
    limit = document["limit_fen"]
    assert f"limit {'-' if limit is None else format_yuan(limit) + ' yuan'}  " in outcome
    evidence = document["evidence"]
    assert lines["model"].endswith(
        f"pd {evidence['model_pd']:.4%}  score {evidence['model_score']:.1f}"
    )


def _stored_decisions_show_replay_backtest_and_monitor(url: str, tmp_path: Path) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        application_id, model_version, first, last = connection.execute(
            text(
                "SELECT min(application_id), min(model_version), min(as_of), max(as_of) "
                "FROM origination_decisions WHERE model_version IS NOT NULL"
            )
        ).one()
    engine.dispose()
    shown = runner.invoke(app, ["decision", "show", application_id, "--json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["evidence"]["strategy_name"] == "mse-online-credit"
    assert document["evidence"]["model_version"] == model_version
    assert document["evidence"]["feature_source"] == "store"
    _shown_as_text(application_id, document)
    replayed = runner.invoke(app, ["decision", "replay", application_id, "--json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["matches"] is True
    backtest = runner.invoke(
        app,
        [
            "strategy",
            "backtest",
            "--strategy",
            "mse-online-credit",
            "--decided-from",
            str(first),
            "--decided-to",
            str(last),
            "--out",
            str(tmp_path / "bt"),
        ],
    )
    assert backtest.exit_code == 0, backtest.output
    assert "stored decisions" in (tmp_path / "bt" / "backtest.md").read_text(encoding="utf-8")
    month = str(first)[:7]
    monitored = runner.invoke(
        app,
        [
            "model",
            "monitor",
            "--model",
            model_version,
            "--from",
            month,
            "--to",
            month,
            "--report",
            str(tmp_path / "monitor"),
            "--json",
        ],
    )
    assert monitored.exit_code == 0, monitored.output
    assert (tmp_path / "monitor" / "report.md").is_file()


def test_audit_verify_names_the_first_edited_event(env: str) -> None:
    from puhui.bootstrap import Settings, build_platform
    from puhui.services import audit

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    platform = build_platform(Settings(database_url=env, environment="test", _env_file=None))  # type: ignore[call-arg]
    with platform.uow() as uow:
        for i in range(3):
            audit.record(
                uow, actor="ops", action="a", entity="e", entity_id=str(i), payload={"i": i}
            )
        uow.commit()
    platform.close()

    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0
    # The migration seeded the packaged strategy, trigger rules and concentration limits (three
    # audited events) first.
    assert "6 events verified" in intact.stdout

    engine = create_engine(env)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET entity_id = 'forged' WHERE seq = 2"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at event 2" in broken.stderr


def test_bad_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", "mysql://nowhere/x")
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.stderr


def test_production_refuses_the_development_audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "production")
    monkeypatch.delenv("PUHUI_AUDIT_KEY", raising=False)
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2
    assert "PUHUI_AUDIT_KEY" in result.stderr


def test_audit_search_filters_by_entity_actor_action_and_time(env: str) -> None:
    from puhui.bootstrap import Settings, build_platform
    from puhui.services import audit

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    platform = build_platform(Settings(database_url=env, environment="test", _env_file=None))  # type: ignore[call-arg]
    with platform.uow() as uow:
        for actor, action, entity_id in (
            ("risk_officer:usr_a", "credit_line.frozen", "line_1"),
            ("risk_officer:usr_a", "credit_line.unfrozen", "line_1"),
            ("operations:usr_b", "credit_line.frozen", "line_2"),
        ):
            audit.record(
                uow,
                actor=actor,
                action=action,
                entity="credit_line",
                entity_id=entity_id,
                payload={},
            )
        uow.commit()
    platform.close()

    by_line = runner.invoke(
        app, ["audit", "search", "--entity", "credit_line", "--id", "line_1", "--json"]
    )
    assert by_line.exit_code == 0, by_line.output
    events = [json.loads(line) for line in by_line.stdout.splitlines()]
    assert [e["action"] for e in events] == ["credit_line.unfrozen", "credit_line.frozen"]
    by_actor = runner.invoke(app, ["audit", "search", "--actor", "operations:usr_b", "--json"])
    assert [json.loads(line)["entity_id"] for line in by_actor.stdout.splitlines()] == ["line_2"]
    frozen = runner.invoke(app, ["audit", "search", "--action", "credit_line.froz", "--json"])
    assert len(frozen.stdout.splitlines()) == 2
    future = runner.invoke(app, ["audit", "search", "--from", "2999-01-01", "--json"])
    assert future.exit_code == 0
    assert future.stdout == ""
    bad = runner.invoke(app, ["audit", "search", "--from", "yesterday"])
    assert bad.exit_code == 2
    assert "invalid_date" in bad.output
