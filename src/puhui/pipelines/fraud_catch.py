"""What anti-fraud caught against the market's truth: layer 1 alone, and with the graph.

Both layers run on every application in one simulation; layer 1's rules do not read the
graph, so "layer 1 alone" is read off the same decisions as the codes AF01-AF09, and "with
the graph" adds the graph's fraud codes (AF10-AF12) and the strategy's fraud rules on
graph-fed inputs. The graph's credit-risk signals (guarantee-circle stress, contagion: AF13,
AF14 and their strategy rules) send applications to a person too, but say nothing of fraud:
they are counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from puhui.domain.origination.reasons import (
    ANTI_FRAUD_REASONS,
    CONTAGION,
    FRAUD_RING,
    GUARANTEE_CIRCLE_STRESS,
    INVOICE_ROUND_TRIP,
    PACKAGED_APPLICATION,
)

LAYER_ONE = frozenset(r.code for r in ANTI_FRAUD_REASONS)
WITH_GRAPH = LAYER_ONE | {
    FRAUD_RING.code,
    PACKAGED_APPLICATION.code,
    INVOICE_ROUND_TRIP.code,
    # mse-online-credit.yaml's fraud rules on graph-fed inputs.
    "FRAUD_GRAPH_RING",
    "FRAUD_PACKAGED",
    "FRAUD_SHARED_CONTACTS",
    "FRAUD_CHECK_CONTACTS",
    "FRAUD_INVOICE_ROUND_TRIP",
}
GRAPH_RISK = frozenset(
    {GUARANTEE_CIRCLE_STRESS.code, CONTAGION.code, "RISK_CONTAGION", "GUARANTORS_IN_DISTRESS"}
)


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
    genuine_graph_risk: int
    """Genuine applications referred for the graph's credit-risk signals (not fraud)."""

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
    counts = dict.fromkeys(("s", "s1", "sg", "sr", "g", "g1", "gg", "gr"), 0)
    for application_id, reasons in screened.items():
        codes = set(reasons)
        prefix = "s" if application_id in marked else "g"
        counts[prefix] += 1
        counts[prefix + "1"] += bool(codes & LAYER_ONE)
        counts[prefix + "g"] += bool(codes & WITH_GRAPH)
        counts[prefix + "r"] += bool(codes & GRAPH_RISK)
    return AntiFraudCatch(
        suspicious=counts["s"],
        suspicious_layer_one=counts["s1"],
        suspicious_with_graph=counts["sg"],
        genuine=counts["g"],
        genuine_layer_one=counts["g1"],
        genuine_with_graph=counts["gg"],
        genuine_graph_risk=counts["gr"],
    )
