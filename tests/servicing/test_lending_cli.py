"""The ``loan schedule`` and ``line simulate`` CLI contracts, through their Typer sub-apps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from puhui.cli import line, loan

runner = CliRunner()
SCHEDULE = [
    "schedule",
    "--principal",
    "100000",
    "--annual-rate",
    "0.0435",
    "--months",
    "12",
    "--start",
    "2025-01-15",
]


def _schedule(*extra: str) -> Any:
    result = runner.invoke(loan.app, [*SCHEDULE, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_loan_schedule_json_contract_equal_instalment() -> None:
    rows = _schedule("--method", "equal-instalment", "--json")
    assert len(rows) == 12
    assert rows[0] == {
        "period": 1,
        "due_date": "2025-02-15",
        "principal": "8168.49",
        "interest": "362.50",
        "payment": "8530.99",
        "balance": "91831.51",
    }
    assert rows[-1]["payment"] == "8531.01"
    assert rows[-1]["balance"] == "0.00"


@pytest.mark.parametrize(
    ("method", "first_payment", "last_payment"),
    [
        ("equal-principal", "8695.83", "8363.58"),
        ("interest-first", "362.50", "100362.50"),
        ("bullet", "104350.00", "104350.00"),
    ],
)
def test_loan_schedule_json_other_methods(
    method: str, first_payment: str, last_payment: str
) -> None:
    rows = _schedule("--method", method, "--json")
    assert rows[0]["payment"] == first_payment
    assert rows[-1]["payment"] == last_payment
    assert all(isinstance(row["principal"], str) for row in rows)


def test_loan_schedule_basis_changes_only_a_broken_first_period() -> None:
    regular = _schedule("--method", "interest-first", "--basis", "act/365", "--json")
    assert regular[0]["interest"] == "362.50"
    broken = _schedule(
        "--method", "interest-first", "--basis", "act/365", "--first-due", "2025-02-20", "--json"
    )
    # 36 days at 0.0435/365 on 100,000.00 = 429.04
    assert broken[0]["interest"] == "429.04"
    assert broken[1]["due_date"] == "2025-03-20"


def test_loan_schedule_table_without_json() -> None:
    result = runner.invoke(loan.app, [*SCHEDULE, "--method", "equal-principal"])
    assert result.exit_code == 0
    assert "8695.83" in result.stdout
    assert "2356.26" in result.stdout  # total interest


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--method", "balloon"], "invalid_input"),
        (["--method", "daily-revolving"], "invalid_input"),
        (["--method", "bullet", "--basis", "act/999"], "invalid_input"),
    ],
)
def test_loan_schedule_bad_choices_exit_2(args: list[str], code: str) -> None:
    result = runner.invoke(loan.app, [*SCHEDULE, *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error [{code}]: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "value", "code"),
    [
        ("--principal", "-5", "invalid_amount"),
        ("--principal", "1.234", "invalid_amount"),
        ("--annual-rate", "abc", "invalid_rate"),
        ("--start", "2025-13-01", "invalid_date"),
    ],
)
def test_loan_schedule_bad_values_exit_2(option: str, value: str, code: str) -> None:
    args = [*SCHEDULE, "--method", "bullet"]
    args[args.index(option) + 1] = value
    result = runner.invoke(loan.app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error [{code}]: ")


def _simulate(tmp_path: Path, document: Any, *extra: str) -> Any:
    path = tmp_path / "events.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return runner.invoke(line.app, ["simulate", "--file", str(path), *extra])


EVENTS = {
    "limit": "50000",
    "annual_rate": "0.0365",
    "events": [
        {"date": "2025-01-10", "type": "draw", "amount": "10000"},
        {"date": "2025-01-25", "type": "repay", "amount": 4000},
        {"date": "2025-03-05", "type": "payoff"},
    ],
}


def test_line_simulate_json_contract(tmp_path: Path) -> None:
    result = _simulate(tmp_path, EVENTS, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    keys = ("date", "kind", "interest", "principal", "balance")
    assert [tuple(row[k] for k in keys) for row in doc["settlements"]] == [
        ("2025-01-20", "settlement-day", "11.15", "0.00", "10000.00"),
        ("2025-01-25", "repayment", "4.06", "4000.00", "6000.00"),
        ("2025-02-20", "settlement-day", "16.43", "0.00", "6000.00"),
        ("2025-03-05", "payoff", "7.30", "6000.00", "0.00"),
    ]
    assert all(set(row) == set(keys) for row in doc["settlements"])
    assert doc["totals"] == {
        "interest": "38.94",
        "principal": "10000.00",
        "drawn": "10000.00",
        "balance": "0.00",
        "available": "50000.00",
        "accrued_unsettled": "0.00",
    }


def test_line_simulate_accepts_json_numbers_exactly(tmp_path: Path) -> None:
    document = (
        '{"limit": 1000.5, "annual_rate": 0.0365, '
        '"events": [{"date": "2025-01-01", "type": "draw", "amount": 1000.25}]}'
    )
    result = _simulate(tmp_path, document, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["limit"] == "1000.50"
    assert doc["totals"]["available"] == "0.25"


def test_line_simulate_table(tmp_path: Path) -> None:
    result = _simulate(tmp_path, EVENTS)
    assert result.exit_code == 0
    assert "settlement-day" in result.stdout
    assert "38.94" in result.stdout


def _with_events(*events: dict[str, Any]) -> dict[str, Any]:
    return {**EVENTS, "events": list(events)}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (_with_events({"date": "2025-01-10", "type": "draw", "amount": "-1"}), "invalid_amount"),
        (_with_events({"date": "2025-01-10", "type": "borrow", "amount": "1"}), "invalid_input"),
        (_with_events({"date": "10/01/2025", "type": "draw", "amount": "1"}), "invalid_date"),
        (
            _with_events({"date": "2025-01-10", "type": "draw", "amount": "50000.01"}),
            "insufficient_limit",
        ),
        (
            _with_events(
                {"date": "2025-01-10", "type": "draw", "amount": "100"},
                {"date": "2025-01-11", "type": "repay", "amount": "100.01"},
            ),
            "overpayment",
        ),
        (
            _with_events(
                {"date": "2025-01-10", "type": "draw", "amount": "100"},
                {"date": "2025-01-09", "type": "draw", "amount": "100"},
            ),
            "event_out_of_order",
        ),
        (_with_events({"date": "2025-01-10", "type": "payoff", "amount": "5"}), "invalid_input"),
        (_with_events({"date": "2025-01-10", "type": "repay"}), "invalid_amount"),
        ({"limit": "100", "events": []}, "invalid_file"),
        ([1, 2], "invalid_file"),
        ("{not json", "invalid_json"),
    ],
)
def test_line_simulate_bad_input_exits_2_with_one_line(
    tmp_path: Path, document: Any, code: str
) -> None:
    result = _simulate(tmp_path, document, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error [{code}]: ")
    assert result.stderr.count("\n") == 1


def test_line_simulate_refuses_a_settlement_day_that_some_months_lack(tmp_path: Path) -> None:
    result = _simulate(tmp_path, EVENTS, "--settlement-day", "31")
    assert result.exit_code == 2
    assert result.stderr.startswith("error [invalid_input]: settlement day must be 1 to 28")


def test_line_simulate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(line.app, ["simulate", "--file", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error [invalid_file]: no such file")


def test_sub_apps_work_when_mounted_as_loan_and_line(tmp_path: Path) -> None:
    root = typer.Typer()
    root.add_typer(loan.app, name="loan")
    root.add_typer(line.app, name="line")
    result = runner.invoke(root, ["loan", *SCHEDULE, "--method", "bullet", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["interest"] == "4350.00"
    path = tmp_path / "events.json"
    path.write_text(json.dumps(EVENTS))
    result = runner.invoke(root, ["line", "simulate", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["interest"] == "38.94"
