"""``puhui dealer line``: decide, draw (paid to the core), list and show, with named errors
and a non-zero exit on bad input that change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from dealer_support import CORE, CORE_ACCOUNT, DEALER, WEAK_DEALER, TinyMarket, onboard_on_platform
from typer.testing import CliRunner

import puhui.cli.dealer as dealer_cli
from puhui.bootstrap import Platform
from puhui.bootstrap.dealers import dealer_access
from puhui.cli.main import app
from puhui.services.dealers import DealerAccess

runner = CliRunner()


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The commands on the test platform (its fixed clock) and the tiny market."""
    market = TinyMarket()
    onboard_on_platform(platform, market, DEALER)

    @contextmanager
    def built() -> Iterator[Platform]:
        yield platform

    def access(p: Platform) -> DealerAccess:
        return dealer_access(p, data_source=market)

    monkeypatch.setattr(dealer_cli, "platform", built)
    monkeypatch.setattr(dealer_cli, "dealer_access", access)
    return platform


def _lines(platform: Platform) -> int:
    with platform.servicing_uow() as uow:
        return int(uow.table_counts()["credit_lines"])


def test_decide_draw_list_and_show(cli: Platform) -> None:
    decided = runner.invoke(
        app,
        ["dealer", "line", "decide", "--core", CORE, "--dealer", DEALER,
         "--commitment", "guarantee", "--amount", "600000", "--json"],
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    line = json.loads(decided.stdout)
    assert (line["limit"], line["annual_rate"], line["core"]) == ("540000.00", "0.0420", CORE)
    line_id = line["line_id"]

    drawn = runner.invoke(
        app, ["dealer", "line", "draw", line_id, "--amount", "120000.50", "--json"]
    )
    assert drawn.exit_code == 0, drawn.output
    paid = json.loads(drawn.stdout)
    assert (paid["payee"], paid["payee_account"]) == (CORE, CORE_ACCOUNT)
    assert paid["available"] == "419999.50"
    assert paid["maturity_date"] == "2026-05-31"  # 90 days after 2026-03-02

    listed = runner.invoke(app, ["dealer", "line", "list", "--core", CORE, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(v["line_id"], v["drawn"]) for v in json.loads(listed.stdout)] == [
        (line_id, "120000.50")
    ]
    other_core = runner.invoke(app, ["dealer", "line", "list", "--core", DEALER, "--json"])
    assert json.loads(other_core.stdout) == []

    shown = runner.invoke(app, ["dealer", "line", "show", line_id, "--json"])
    assert shown.exit_code == 0, shown.output
    receipts = json.loads(shown.stdout)["receipts"]
    assert [(r["receipt_id"], r["payee"], r["amount"]) for r in receipts] == [
        (paid["receipt_id"], CORE, "120000.50")
    ]
    text = runner.invoke(app, ["dealer", "line", "show", line_id])
    assert f"paid to {CORE}" in text.stdout


def test_bad_input_is_named_and_changes_nothing(cli: Platform) -> None:
    before = _lines(cli)
    cases = [
        (["--core", "nope"], "invalid_uscc"),
        (["--commitment", "pledge"], "invalid_input"),
        (["--amount", "-5"], "invalid_amount"),
        (["--amount", "1.234"], "invalid_amount"),
        (["--dealer", WEAK_DEALER], "dealer_not_named"),
    ]
    base = {"--core": CORE, "--dealer": DEALER, "--commitment": "none", "--amount": "100000"}
    for change, code in cases:
        options = {**base, change[0]: change[1]}
        args = [part for pair in options.items() for part in pair]
        refused = runner.invoke(app, ["dealer", "line", "decide", *args])
        assert refused.exit_code != 0, change
        assert f"error [{code}]" in refused.output, (change, refused.output)
    assert _lines(cli) == before

    decided = runner.invoke(
        app,
        ["dealer", "line", "decide", "--core", CORE, "--dealer", DEALER,
         "--commitment", "none", "--amount", "100000", "--json"],
    )  # fmt: skip
    line_id = json.loads(decided.stdout)["line_id"]
    over = runner.invoke(app, ["dealer", "line", "draw", line_id, "--amount", "100000.01"])
    assert over.exit_code != 0
    assert "error [insufficient_limit]" in over.output
    missing = runner.invoke(app, ["dealer", "line", "show", "line_nope"])
    assert missing.exit_code != 0
    assert "error [not_found]" in missing.output
    shown = json.loads(runner.invoke(app, ["dealer", "line", "show", line_id, "--json"]).stdout)
    assert (shown["drawn"], shown["receipts"]) == ("0.00", [])
