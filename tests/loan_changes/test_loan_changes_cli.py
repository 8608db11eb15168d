"""``puhui loan extend|approve-change|restructure|renew|changes|classify`` on a database."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from puhui.bootstrap import Platform
from puhui.cli import loan_changes
from puhui.domain.ids import LoanId

runner = CliRunner()


@pytest.fixture
def env(changes_platform: Platform) -> dict[str, str]:
    changes_platform.migrate()  # the shipped strategy (its renewal mode decides) is active
    return {
        "PUHUI_DATABASE_URL": changes_platform.settings.database_url,
        "PUHUI_ENVIRONMENT": "test",
    }


@pytest.fixture
def cli() -> typer.Typer:
    group = typer.Typer()

    @group.callback()
    def _loan() -> None:
        """Term loans."""

    loan_changes.register(group)
    return group


def test_extend_approve_and_classify(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    ask = ["extend", loan_id, "--months", "6", "--reason", "slow season", "--on", "2026-01-20"]
    requested = runner.invoke(cli, [*ask, "--actor", "alice", "--json"], env=env)
    assert requested.exit_code == 0, requested.output
    change_id = json.loads(requested.output)["change_id"]

    listed = runner.invoke(cli, ["changes", "--json"], env=env)
    assert [c["change_id"] for c in json.loads(listed.output)] == [change_id]

    own = runner.invoke(
        cli, ["approve-change", change_id, "--actor", "alice", "--on", "2026-01-20"], env=env
    )
    assert own.exit_code == 1
    assert "four_eyes_violation" in own.output

    approved = runner.invoke(
        cli,
        ["approve-change", change_id, "--actor", "bob", "--on", "2026-01-20", "--json"],
        env=env,
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["maturity_after"] == "2027-07-02"

    classified = runner.invoke(cli, ["classify", loan_id, "--as-of", "2026-01-21"], env=env)
    assert classified.exit_code == 0, classified.output
    assert "pass" in classified.output


def test_extension_beyond_policy_exits_with_its_code_and_changes_nothing(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    result = runner.invoke(
        cli,
        ["extend", loan_id, "--months", "13", "--reason", "x", "--on", "2026-01-20"],
        env=env,
    )
    assert result.exit_code == 1
    assert "extension_beyond_policy" in result.output
    with changes_platform.database.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM loan_changes")).scalar_one() == 0


def test_renew_a_loan_in_arrears_is_refused(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse(term_months=1)
    with changes_platform.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE loans SET days_past_due = 1 WHERE loan_id = :l"), {"l": loan_id}
        )
    refused = runner.invoke(
        cli,
        ["renew", loan_id, "--months", "12", "--reason", "x", "--on", "2026-01-20"],
        env=env,
    )
    assert refused.exit_code == 1
    assert "loan_in_arrears" in refused.output


def test_restructure_with_a_new_rate_and_a_bad_rate_refused(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    ask = ["restructure", loan_id, "--months", "24", "--reason", "sales fell", "--on", "2026-01-20"]
    bad = runner.invoke(cli, [*ask, "--rate", "3.85"], env=env)
    assert bad.exit_code != 0
    assert "invalid_rate" in bad.output
    with changes_platform.database.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM loan_changes")).scalar_one() == 0
    requested = runner.invoke(cli, [*ask, "--rate", "0.0385", "--json"], env=env)
    assert requested.exit_code == 0, requested.output
    assert json.loads(requested.output)["new_annual_rate"] == "0.0385"


def test_renew_is_decided_by_the_active_strategys_renewal_mode(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
) -> None:
    loan_id = disburse(term_months=1)
    ask = ["renew", loan_id, "--reason", "good standing", "--on", "2026-01-20", "--json"]
    too_long = runner.invoke(cli, [*ask, "--months", "24"], env=env)
    assert too_long.exit_code == 0, too_long.output
    declined = json.loads(too_long.output)
    assert (declined["decision"], declined["reasons"]) == ("declined", "term_over_limit")
    assert declined["rules_version"] == "strategy:mse-online-credit@1"
    renewed = runner.invoke(cli, [*ask, "--months", "12", "--key", "r-12"], env=env)
    assert renewed.exit_code == 0, renewed.output
    assert json.loads(renewed.output)["decision"] == "approved"


def test_approving_a_restructuring_prints_the_arrears_it_brought_forward(
    cli: typer.Typer,
    env: dict[str, str],
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    with changes_platform.database.engine.begin() as connection:  # one instalment unpaid
        connection.execute(
            text(
                "UPDATE loans SET billed_principal_fen = 900000, overdue_principal_fen = 900000,"
                " interest_billed_fen = 40000, overdue_interest_fen = 40000,"
                " penalty_billed_fen = 1234, overdue_since = '2026-02-03', days_past_due = 8"
                " WHERE loan_id = :l"
            ),
            {"l": loan_id},
        )
    ask = ["restructure", loan_id, "--months", "18", "--reason", "orders lost", "--on"]
    requested = runner.invoke(cli, [*ask, "2026-02-11", "--actor", "alice", "--json"], env=env)
    assert requested.exit_code == 0, requested.output
    change_id = json.loads(requested.output)["change_id"]
    approve = ["approve-change", change_id, "--actor", "bob", "--on", "2026-02-11"]
    approved = runner.invoke(cli, approve, env=env)
    assert approved.exit_code == 0, approved.output
    assert (
        "arrears of 8 days brought into the new schedule: principal 9000.00 re-amortised,"
        " interest 400.00 and penalties 12.34 due with the first new instalment"
    ) in " ".join(approved.output.split())
    replayed = runner.invoke(cli, [*approve, "--json"], env=env)  # the stored result
    assert json.loads(replayed.output)["arrears_days_past_due"] == 8


def test_a_loans_changes_with_the_rejection_and_its_reason(
    cli: typer.Typer, env: dict[str, str], disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    ask = ["extend", loan_id, "--months", "2", "--reason", "slow season", "--on", "2026-01-20"]
    requested = runner.invoke(cli, [*ask, "--actor", "alice", "--json"], env=env)
    change_id = json.loads(requested.output)["change_id"]
    rejected = runner.invoke(
        cli,
        ["reject-change", change_id, "--reason", "orders came back", "--actor", "bob", "--json"],
        env=env,
    )
    assert rejected.exit_code == 0, rejected.output
    doc = json.loads(rejected.output)
    assert (doc["status"], doc["rejected_by"], doc["rejection_reason"]) == (
        "rejected",
        "bob",
        "orders came back",
    )

    assert runner.invoke(cli, ["changes"], env=env).output.strip() == "none"  # queue is empty
    history = runner.invoke(cli, ["changes", "--loan", loan_id], env=env)
    assert history.exit_code == 0, history.output
    assert history.output.startswith(f"{change_id}  extension")
    assert "requested by alice: slow season" in history.output
    assert f"rejected by bob on {doc['rejected_at'][:10]}: orders came back" in history.output
    listed = json.loads(
        runner.invoke(cli, ["changes", "--loan", loan_id, "--json"], env=env).output
    )
    assert [(c["change_id"], c["rejection_reason"]) for c in listed] == [
        (change_id, "orders came back")
    ]
    none = runner.invoke(cli, ["changes", "--loan", "loan_unknown"], env=env)
    assert (none.exit_code, none.output.strip()) == (0, "none")
