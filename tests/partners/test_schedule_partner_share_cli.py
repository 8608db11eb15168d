"""The ``loan schedule --partner-share`` contract: four more fields per period that add up."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from puhui.cli import loan
from puhui.domain.money import parse_yuan

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
    "--method",
    "equal-instalment",
]


def _json(*extra: str) -> Any:
    result = runner.invoke(loan.app, [*SCHEDULE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_partner_share_adds_four_fields_that_add_up_to_each_component() -> None:
    plain = _json()
    shared = _json("--partner-share", "0.3")
    assert len(shared) == len(plain) == 12
    for before, row in zip(plain, shared, strict=True):
        assert {k: row[k] for k in before} == before
        for component in ("principal", "interest"):
            partner = parse_yuan(row[f"partner_{component}"])
            bank = parse_yuan(row[f"bank_{component}"])
            total = parse_yuan(row[component])
            assert partner + bank == total
            assert abs(Decimal(partner) - Decimal(total) * Decimal("0.3")) <= Decimal("0.5")
            assert len(row[f"partner_{component}"].split(".")[1]) == 2


def test_first_period_figures_at_thirty_percent() -> None:
    first = _json("--partner-share", "0.3")[0]
    # principal 8168.49 x 0.3 = 2450.547 -> 2450.55; interest 362.50 x 0.3 = 108.75
    assert first["principal"] == "8168.49"
    assert first["partner_principal"] == "2450.55"
    assert first["bank_principal"] == "5717.94"
    assert first["partner_interest"] == "108.75"
    assert first["bank_interest"] == "253.75"


def test_without_the_flag_the_output_is_unchanged() -> None:
    assert set(_json()[0]) == {"period", "due_date", "principal", "interest", "payment", "balance"}


def test_zero_share_gives_the_bank_everything() -> None:
    for row in _json("--partner-share", "0"):
        assert row["partner_principal"] == row["partner_interest"] == "0.00"
        assert row["bank_principal"] == row["principal"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0.71", "bank_share_below_minimum"),
        ("1", "bank_share_below_minimum"),
        ("-0.1", "invalid_partner_share"),
        ("abc", "invalid_partner_share"),
        ("nan", "invalid_partner_share"),
    ],
)
def test_a_bad_partner_share_exits_2_with_a_named_error(value: str, code: str) -> None:
    result = runner.invoke(loan.app, [*SCHEDULE, "--partner-share", value, "--json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error [{code}]: ")
    assert result.stdout == ""


def test_table_output_shows_the_partner_columns() -> None:
    result = runner.invoke(loan.app, [*SCHEDULE, "--partner-share", "0.3"])
    assert result.exit_code == 0
    assert "partner princ." in result.stdout
    assert "2450.55" in result.stdout
