"""Backtest of post-loan monitoring on a generated market: every enterprise a customer, monthly.

For each month of the range the monitoring kernel runs as a live run would have on that
month's end (:func:`puhui.pipelines.monitoring_inputs.monitor_month`): the inputs from the data
known then, the behavioural PD, the trigger document and the alert rule. The result is one row
per enterprise and month with an alert. The behavioural model must come from another market:
one trained on the evaluated market's loans would have seen the outcomes it is scored on.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from puhui.decision.triggers import CompiledTriggers
from puhui.domain.progress import NO_PROGRESS, Progress
from puhui.pipelines.engines import Engine
from puhui.pipelines.monitoring_inputs import (
    DEFAULT_CHUNK_SIZE,
    monitor_month,
    months_between,
    open_market,
)
from puhui.risk.behaviour import BehaviouralModel, market_content_hash
from puhui.risk.errors import InvalidTrainingData

logger = logging.getLogger(__name__)

BACKTEST_HEADER = ("uscc", "month", "severity", "codes", "behavioural_pd")


class SameMarket(InvalidTrainingData):
    """The behavioural model was trained on the market it would be evaluated on."""

    code = "model_trained_on_evaluated_market"


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    months: int
    customer_months: int
    alerts: int

    @property
    def alert_rate(self) -> float:
        return self.alerts / self.customer_months if self.customer_months else 0.0


def check_other_market(model: BehaviouralModel, market: Path) -> None:
    """Refuse a model trained on ``market`` (same folder or same content hash)."""
    trained_on = model.info.get("market", "")
    same_folder = bool(trained_on) and Path(trained_on).resolve() == market.resolve()
    content = market_content_hash(market)
    same_content = bool(content) and model.info.get("market_content_hash") == content
    if same_folder or same_content:
        raise SameMarket(
            f"the behavioural model was trained on {market}: evaluate it on another market "
            "(train with --train-market on a different one)"
        )


def run_backtest(
    market: Path,
    first: date,
    last: date,
    out: Path,
    *,
    model: BehaviouralModel | None,
    triggers: CompiledTriggers,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[date, int, int], None] | None = None,
    bar: Progress = NO_PROGRESS,
    engine: Engine | None = None,
) -> BacktestSummary:
    """Write the backtest CSV (``BACKTEST_HEADER``) of months ``first``..``last`` to ``out``.

    ``progress`` is told each month's customers and alerts; ``bar`` hears of each month.
    With ``engine``, each month's per-customer inputs run on it (e.g. Spark).

    The file appears complete or not at all: rows go to a temporary file beside ``out`` that
    replaces it at the end.
    """
    months = months_between(first, last)
    if not (market / "tables").is_dir():
        raise InvalidTrainingData(f"no market in {market} (missing tables/)")
    if model is not None:
        check_other_market(model, market)
    tables = open_market(market)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    temp = Path(temp_name)
    customer_months = alerts = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(BACKTEST_HEADER)
            bar.start(len(months), "monitoring backtest, month by month")
            for month in months:
                bar.stage(f"{month:%Y-%m}")
                run = monitor_month(
                    tables,
                    month,
                    triggers,
                    model=model,
                    chunk_size=chunk_size,
                    engine=engine,
                    market=None if engine is None else market,
                )
                label = f"{month:%Y-%m}"
                for customer, severity, codes, pd in run.alerts.iter_rows():
                    writer.writerow(
                        (customer, label, severity, codes, "" if pd is None else f"{pd:.6f}")
                    )
                customer_months += run.customers
                alerts += run.alerts.height
                if progress is not None:
                    progress(month, run.customers, run.alerts.height)
                bar.advance()
        temp.replace(out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return BacktestSummary(len(months), customer_months, alerts)


__all__ = [
    "BACKTEST_HEADER",
    "BacktestSummary",
    "SameMarket",
    "check_other_market",
    "run_backtest",
]
