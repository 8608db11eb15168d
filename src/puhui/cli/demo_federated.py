"""The demo's federated section (issue #18): the bank and a data owner train one model as two
processes over mutual TLS; its held-out AUC beside the bank alone and the same model trained
centrally in the clear."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from puhui.cli.demo_report import Section
from puhui.domain.errors import PuhuiError
from puhui.domain.lending.schedule import add_months
from puhui.domain.progress import Progress

logger = logging.getLogger(__name__)
TITLE = "Federated learning with a data owner (联邦学习), two processes over mutual TLS"


def federated_section(market_dir: Path, first_day: date, work: Path, progress: Progress) -> Section:
    """Train with the owner on the market as of the month before lending; a failure is said."""
    from puhui.bootstrap.demo_federated import run_federated_demo  # noqa: PLC0415 - heavy

    progress.start(None, "federated learning: the bank and a data owner over mutual TLS")
    as_of = add_months(first_day.replace(day=1), -1)
    try:
        run = run_federated_demo(market_dir, as_of, work)
    except PuhuiError as exc:
        logger.warning("federated stage failed: %s", exc.message)
        return Section(TITLE, ("", ""), notes=[f"not run: {exc.message}"])
    rows: list[tuple[str, ...]] = [
        ("bank's features alone (same model, in the clear)", f"{run.auc_bank_alone:.4f}"),
        ("both sides in the clear (same model, central)", f"{run.auc_central:.4f}"),
        ("federated (Paillier, two processes)", f"{run.auc_federated:.4f}"),
    ]
    return Section(
        TITLE,
        ("model", "held-out AUC"),
        rows=rows,
        notes=[
            f"{run.train_rows:,} training rows, {run.test_rows:,} held out "
            f"({run.test_defaults} defaults: the AUC is noisy); federated − central "
            f"{run.auc_federated - run.auc_central:+.4f}, − bank alone "
            f"{run.auc_federated - run.auc_bank_alone:+.4f}",
            *(
                []
                if run.held_out_mean_pd_before is None or not run.test_rows
                else [
                    f"held-out default rate {run.test_defaults / run.test_rows:.2%}: the "
                    f"intercept refitted by {run.intercept_shift:+.3f} on those rows (the mean "
                    f"PD was {run.held_out_mean_pd_before:.2%}; ADR 0053)"
                ]
            ),
            f"{run.key_bits}-bit keys: {run.seconds_per_epoch:.1f} s per epoch, "
            f"{run.bytes_exchanged:,} bytes exchanged (PSI included); the owner served "
            f"{run.url} with a certificate of the federation CA and refused any client "
            "without one (docs/federated.md)",
        ],
        numeric=frozenset({1}),
    )
