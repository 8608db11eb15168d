"""The demo's federated stage on a small generated market: two processes over mutual TLS give
the same model as training centrally in the clear, and the owner's process is stopped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.federated.parties import TEST_KEY_BITS

from puhui.bootstrap.demo_federated import run_federated_demo
from puhui.cli.demo_federated import federated_section
from puhui.cli.demo_report import plain_lines
from puhui.domain.progress import NO_PROGRESS
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams


def test_the_demo_trains_with_the_owner_over_mutual_tls(tmp_path: Path) -> None:
    market = tmp_path / "market"
    generate_market(
        MarketParams(enterprises=1_500, months=24, start=date(2023, 1, 1), seed=3), market
    )
    run = run_federated_demo(
        market, date(2024, 6, 1), tmp_path / "work", epochs=1, key_bits=TEST_KEY_BITS
    )
    assert run.train_rows > 0
    assert run.test_rows > 0
    assert run.url.startswith("https://127.0.0.1:")
    # The federated model is the central one, computed without either side seeing the other's.
    assert abs(run.auc_federated - run.auc_central) < 0.005
    assert run.bytes_exchanged > 0
    assert run.held_out_mean_pd_before is not None
    assert run.intercept_shift != 0.0  # the level refitted on the held-out rows
    assert (tmp_path / "work" / "model").is_dir()
    assert (tmp_path / "work" / "certs" / "ca.pem").is_file()


def test_the_section_says_why_when_the_market_cannot_be_split(tmp_path: Path) -> None:
    section = federated_section(tmp_path / "no-market", date(2025, 1, 1), tmp_path, NO_PROGRESS)
    text = "\n".join(plain_lines(section))
    assert "not run:" in text
