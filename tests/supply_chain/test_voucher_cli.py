"""``puhui voucher simulate``: the JSON contract of issue #17 and its refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from puhui.cli.main import app

runner = CliRunner()

SCENARIO: dict[str, Any] = {
    "events": [
        {
            "type": "issue",
            "id": "V1",
            "core": "CORE",
            "holder": "S1",
            "face": "1000000.00",
            "date": "2026-01-01",
            "maturity": "2026-07-01",
        },
        {
            "type": "issue",
            "id": "V2",
            "core": "CORE",
            "holder": "S3",
            "face": "123.45",
            "date": "2026-01-02",
            "maturity": "2026-09-30",
        },
        {
            "type": "split",
            "voucher": "V1",
            "date": "2026-01-10",
            "parts": [
                {"id": "V1-1", "amount": "400000.00"},
                {"id": "V1-2", "amount": "600000.00"},
            ],
        },
        {"type": "transfer", "voucher": "V1-1", "date": "2026-01-11", "to": "S2"},
        {
            "type": "split",
            "voucher": "V1-1",
            "date": "2026-01-12",
            "parts": [
                {"id": "V1-1a", "amount": "0.01"},
                {"id": "V1-1b", "amount": "399999.99"},
            ],
        },
        {
            "type": "finance",
            "voucher": "V1-2",
            "date": "2026-04-02",
            "annual_rate": "0.0435",
            "fee_rate": "0.001",
        },
        {
            "type": "finance",
            "voucher": "V1-1b",
            "date": "2026-05-01",
            "annual_rate": "0.036",
        },
        {"type": "settle", "date": "2026-07-01"},
    ]
}

# By hand: V1-2 600,000.00 from 2026-04-02 to 2026-07-01 = 29 + 31 + 30 = 90 days:
# 60,000,000 x 0.0435 x 90 / 360 = 652,500 fen; fee 60,000,000 x 0.001 = 60,000 fen.
# V1-1b 39,999,999 fen for 61 days (30 + 31): x 0.036 x 61 / 360 = 243,999.99... -> 244,000.
EXPECTED: dict[str, Any] = {
    "vouchers": [
        {"id": "V1", "parent": None, "holder": "S1", "amount": "1000000.00", "status": "split"},
        {"id": "V2", "parent": None, "holder": "S3", "amount": "123.45", "status": "outstanding"},
        {"id": "V1-1", "parent": "V1", "holder": "S2", "amount": "400000.00", "status": "split"},
        {"id": "V1-2", "parent": "V1", "holder": "S1", "amount": "600000.00", "status": "settled"},
        {"id": "V1-1a", "parent": "V1-1", "holder": "S2", "amount": "0.01", "status": "settled"},
        {
            "id": "V1-1b",
            "parent": "V1-1",
            "holder": "S2",
            "amount": "399999.99",
            "status": "settled",
        },
    ],
    "financings": [
        {
            "voucher": "V1-2",
            "face": "600000.00",
            "days": 90,
            "interest": "6525.00",
            "fee": "600.00",
            "proceeds": "592875.00",
        },
        {
            "voucher": "V1-1b",
            "face": "399999.99",
            "days": 61,
            "interest": "2440.00",
            "fee": "0.00",
            "proceeds": "397559.99",
        },
    ],
    "settlements": [
        {"voucher": "V1-2", "payee": "bank", "amount": "600000.00"},
        {"voucher": "V1-1a", "payee": "S2", "amount": "0.01"},
        {"voucher": "V1-1b", "payee": "bank", "amount": "399999.99"},
    ],
}


def run(tmp_path: Path, document: object, *extra: str) -> Any:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return runner.invoke(app, ["voucher", "simulate", "--file", str(path), *extra])


def test_simulate_json_is_exactly_the_contract(tmp_path: Path) -> None:
    result = run(tmp_path, SCENARIO, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EXPECTED
    assert result.stderr == ""


def test_simulate_without_json_prints_tables(tmp_path: Path) -> None:
    result = run(tmp_path, SCENARIO)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "vouchers (6)"
    assert "financings (2)" in result.stdout
    assert "settlements (3)" in result.stdout
    assert "592875.00" in result.stdout


def with_event(index: int, **changes: Any) -> dict[str, Any]:
    events = [dict(e) for e in SCENARIO["events"]]
    events[index - 1] = {**events[index - 1], **changes}
    return {"events": events}


@pytest.mark.parametrize(
    ("document", "code", "where"),
    [
        (
            with_event(3, parts=[{"id": "A", "amount": "1.00"}, {"id": "B", "amount": "2.00"}]),
            "split_does_not_sum",
            "event 3",
        ),
        (
            with_event(
                3, parts=[{"id": "A", "amount": "1000000.00"}, {"id": "B", "amount": "0.00"}]
            ),
            "invalid_split_part",
            "event 3",
        ),
        (with_event(4, to="S1"), "transfer_to_self", "event 4"),
        (with_event(6, date="2026-07-01"), "financing_after_maturity", "event 6"),
        (with_event(6, by="S2"), "not_holder", "event 6"),
        (with_event(1, maturity="2026-01-01"), "maturity_before_issue", "event 1"),
        (with_event(1, date="2026-13-01"), "invalid_date", "event 1"),
        (with_event(1, date="20260101"), "invalid_date", "event 1"),
        (with_event(1, face="12.345"), "invalid_amount", "event 1"),
        (with_event(1, face=1000), "invalid_amount", "event 1"),
        (with_event(1, face="-5.00"), "invalid_amount", "event 1"),
        (with_event(2, type="cancel"), "unknown_event_type", "event 2"),
        (with_event(2, id="V1"), "duplicate_voucher_id", "event 2"),
        (with_event(4, voucher="V9"), "voucher_not_found", "event 4"),
        (with_event(4, voucher="V1"), "voucher_not_live", "event 4"),
        (with_event(6, annual_rate="4.35"), "invalid_rate", "event 6"),
        (with_event(4, date="2026-01-09"), "event_out_of_order", "event 4"),
        (with_event(7, voucher="V1-2"), "already_financed", "event 7"),
        ({**SCENARIO, "enterprises": ["CORE", "S1", "S3"]}, "unknown_enterprise", "event 4"),
        ({**SCENARIO, "facilities": {"CORE": "1000000.00"}}, "facility_exceeded", "event 2"),
        ({"events": [{"type": "settle"}]}, "invalid_input", "event 1"),
        (
            {"events": [{"type": "settle", "date": "2026-01-01", "x": 1}]},
            "invalid_input",
            "event 1",
        ),
        ({"events": ["settle"]}, "invalid_input", "event 1"),
    ],
)
def test_a_refused_event_exits_2_naming_the_event_and_the_code(
    tmp_path: Path, document: object, code: str, where: str
) -> None:
    result = run(tmp_path, document, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error [{code}]: {where}: "), lines[0]


@pytest.mark.parametrize(
    "document", [[], {"events": {}}, {"vouchers": []}, {"events": [], "extra": 1}, "x"]
)
def test_a_file_of_the_wrong_shape_exits_2(tmp_path: Path, document: object) -> None:
    result = run(tmp_path, document, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error [invalid_input]: ")


def test_a_missing_or_broken_file_exits_2(tmp_path: Path) -> None:
    missing = runner.invoke(
        app, ["voucher", "simulate", "--file", str(tmp_path / "no.json"), "--json"]
    )
    assert missing.exit_code == 2
    assert missing.stdout == ""
    assert missing.stderr.startswith("error [file_not_found]: ")
    broken = tmp_path / "broken.json"
    broken.write_text('{"events": [', encoding="utf-8")
    result = runner.invoke(app, ["voucher", "simulate", "--file", str(broken), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error [invalid_json]: ")


def test_an_empty_scenario_is_empty(tmp_path: Path) -> None:
    result = run(tmp_path, {"events": []}, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"vouchers": [], "financings": [], "settlements": []}
