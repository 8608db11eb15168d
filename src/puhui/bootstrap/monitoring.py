"""The monitoring run's signal source over the market data, the behavioural model and servicing.

What a bank's run reads on a date D: the public data of the last complete month before D's
month (the data-source rule: a month is known once it has ended and been published), through
the same kernel as the backtest and the feature store
(:func:`puhui.pipelines.monitoring_inputs.monitoring_inputs`); the behavioural PD of the model
configured (``PUHUI_BEHAVIOUR_MODEL_DIR``: a folder saved by ``puhui monitor train-model``);
days past due and the PD at origination from servicing; the fund-use detector over the draws
of the last 90 days. A customer's hits carry the input values behind them as evidence.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from puhui.adapters.db.post_loan.signals import ServicingSignalSource
from puhui.adapters.sources.market import MarketDataSource
from puhui.decision.triggers import CompiledTriggers
from puhui.domain.monitoring import Hit
from puhui.pipelines.monitoring_inputs import monitoring_inputs, open_market
from puhui.pipelines.prosperity.serving import IndustryIndexFile, monitoring_facts
from puhui.risk.behaviour import BehaviouralModel
from puhui.risk.features import MarketTables
from puhui.risk.fund_use import diverted_share_by_enterprise, fund_use_evidence
from puhui.services.monitoring.ports import EvidencedHit, MonitoredCustomer, MonitoringDataMissing

logger = logging.getLogger(__name__)

SOURCE = "market+servicing"
FUND_USE_LOOKBACK = dt.timedelta(days=90)
"""Draws dated in the last 90 days are checked for where their money went."""


def data_month(as_of: dt.date) -> dt.date:
    """The month whose data a run on ``as_of`` reads: the last one ended before its month."""
    first = as_of.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def _json(value: Any) -> Any:
    """An input value as evidence: floats rounded, NaN as null, dates as ISO text."""
    value = _finite(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class MarketSignalSource:
    """``SignalSource``: market data + behavioural PD + fund use + servicing facts."""

    def __init__(
        self,
        servicing: ServicingSignalSource,
        market_dir: Path,
        *,
        model: BehaviouralModel | None,
        data_source: MarketDataSource | None = None,
        prosperity: IndustryIndexFile | None = None,
    ) -> None:
        self._servicing = servicing
        self._prosperity = prosperity
        """The platform's prosperity indices: the industry and region inputs (none: missing)."""
        self._tables: MarketTables = open_market(market_dir)
        self._model = model
        self._data_source = data_source or MarketDataSource(market_dir)
        months = self._tables.frames["tax_monthly"].select(pl.col("month").max()).collect()
        self._last_month: dt.date | None = months.item()
        if model is None:
            logger.warning(
                "no behavioural model configured (PUHUI_BEHAVIOUR_MODEL_DIR): "
                "behavioural PD is missing and its rules cannot fire"
            )

    def check_data(self, as_of: dt.date) -> None:
        self._servicing.check_data(as_of)
        month = data_month(as_of)
        if self._last_month is None or self._last_month < month:
            raise MonitoringDataMissing(
                f"the data month {month:%Y-%m} is not published yet: the data source ends "
                f"at {self._last_month:%Y-%m}"
                if self._last_month is not None
                else "the data source has no monthly data",
                details={"as_of": as_of.isoformat(), "data_month": f"{month:%Y-%m}"},
            )

    def _fund_use(self, usccs: Sequence[str], as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
        frames = [
            self._data_source.draw_outflows(uscc, as_of - FUND_USE_LOOKBACK, as_of, as_of=as_of)
            for uscc in usccs
        ]
        rows = [f for f in frames if f.height]
        if not rows:
            empty = pl.DataFrame(schema={"uscc": pl.String, "fund_use_diverted_share": pl.Float64})
            return empty, pl.DataFrame()
        evidence = fund_use_evidence(pl.concat(rows, how="vertical_relaxed"))
        return diverted_share_by_enterprise(evidence), evidence.filter(pl.col("flagged"))

    def signals(
        self,
        customers: Sequence[MonitoredCustomer],
        as_of: dt.date,
        triggers: CompiledTriggers,
    ) -> list[EvidencedHit]:
        if not customers:
            return []
        month = data_month(as_of)
        pds = self._servicing.origination_pds(customers)
        usccs = [c.customer_id for c in customers]
        shares, flagged = self._fund_use(usccs, as_of)
        facts = pl.DataFrame(
            {
                "uscc": usccs,
                "days_past_due": [c.days_past_due for c in customers],
                "origination_pd": [pds[c.customer_id] for c in customers],
            },
            schema={"uscc": pl.String, "days_past_due": pl.Int64, "origination_pd": pl.Float64},
        ).join(shares, on="uscc", how="left")
        if self._prosperity is not None:
            registered = (
                self._tables.frames["enterprises"]
                .filter(pl.col("uscc").is_in(usccs))
                .select("uscc", "industry_code", "region_code")
                .collect()
            )
            facts = facts.join(
                monitoring_facts(self._prosperity, registered, month), on="uscc", how="left"
            )
        inputs = monitoring_inputs(
            self._tables, month, customers=facts, model=self._model, chunk_size=len(usccs)
        )
        draws: dict[str, list[dict[str, Any]]] = {}
        for row in flagged.iter_rows(named=True):
            draws.setdefault(row["uscc"], []).append(
                {
                    "application_id": row["application_id"],
                    "draw_date": _json(row["draw_date"]),
                    "draw_amount_fen": row["draw_amount_fen"],
                    "diverted_share": _json(row["diverted_share"]),
                    "dominant_destination": row["dominant_destination"],
                }
            )
        declared = triggers.document.inputs
        model_label = None if self._model is None else self._model_label(self._model)
        hits: list[EvidencedHit] = []
        for row in inputs.iter_rows(named=True):
            customer_id = row["customer_id"]
            fed = {name: _finite(row[name]) for name in declared if name in row}
            evidence: dict[str, Any] = {
                "source": SOURCE,
                "as_of": as_of.isoformat(),
                "data_month": f"{month:%Y-%m}",
                "rules": triggers.version_label,
                "behavioural_model": model_label,
                "inputs": {name: _json(value) for name, value in fed.items()},
            }
            if customer_id in draws:
                evidence["fund_use_draws"] = draws[customer_id]
            for signal in triggers.evaluate(fed):
                hit = Hit(customer_id, signal.code, signal.severity, signal.text_zh, signal.text_en)
                hits.append(EvidencedHit(hit, evidence))
        return hits

    @staticmethod
    def _model_label(model: BehaviouralModel) -> str:
        """The model behind the PD: its data hash and creation time (as the artefact says)."""
        meta = model.artefact.metadata
        return f"behaviour:{meta.kind}:{meta.data_hash[:12]}@{meta.created_at}"


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
