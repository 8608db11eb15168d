"""What anti-fraud caught against the market's truth: layer 1 alone, and with the graph.

Both layers run on every application in one simulation; layer 1's rules do not read the
graph, so "layer 1 alone" is read off the same decisions as the codes AF01-AF09, and "with
the graph" adds the graph's codes (AF10-AF14) and the strategy's rules on graph-fed inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from puhui.domain.origination.reasons import ANTI_FRAUD_REASONS, GRAPH_REASONS

LAYER_ONE = frozenset(r.code for r in ANTI_FRAUD_REASONS)
GRAPH_STRATEGY_REASONS = frozenset(
    {
        # mse-online-credit.yaml's fraud rules on graph-fed inputs.
        "FRAUD_GRAPH_RING",
        "FRAUD_PACKAGED",
        "FRAUD_SHARED_CONTACTS",
        "FRAUD_CHECK_CONTACTS",
        "FRAUD_INVOICE_ROUND_TRIP",
        "RISK_CONTAGION",
        "GUARANTORS_IN_DISTRESS",
    }
)
WITH_GRAPH = LAYER_ONE | frozenset(r.code for r in GRAPH_REASONS) | GRAPH_STRATEGY_REASONS


@dataclass(frozen=True, slots=True)
class AntiFraudCatch:
    """Assessed applications by truth, and how many each layer flagged."""

    suspicious: int
    """Fraud or packaged by the truth."""
    suspicious_layer_one: int
    suspicious_with_graph: int
    genuine: int
    genuine_layer_one: int
    genuine_with_graph: int

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None


def anti_fraud_catch(
    screened: Mapping[str, tuple[str, ...]], truth: pl.DataFrame
) -> AntiFraudCatch:
    """``screened``: market application id -> the reasons of its automatic assessment;
    ``truth``: ``applications_truth`` (``application_id, is_fraud, is_packaged``)."""
    marked = set(
        truth.filter(pl.col("is_fraud") | pl.col("is_packaged"))
        .get_column("application_id")
        .to_list()
    )
    counts = dict.fromkeys(("s", "s1", "sg", "g", "g1", "gg"), 0)
    for application_id, reasons in screened.items():
        codes = set(reasons)
        prefix = "s" if application_id in marked else "g"
        counts[prefix] += 1
        counts[prefix + "1"] += bool(codes & LAYER_ONE)
        counts[prefix + "g"] += bool(codes & WITH_GRAPH)
    return AntiFraudCatch(
        suspicious=counts["s"],
        suspicious_layer_one=counts["s1"],
        suspicious_with_graph=counts["sg"],
        genuine=counts["g"],
        genuine_layer_one=counts["g1"],
        genuine_with_graph=counts["gg"],
    )
