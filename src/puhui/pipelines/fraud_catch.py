"""What anti-fraud caught against the market's truth: layer 1 alone, and with the graph.

Both layers run on every application in one simulation; layer 1's rules do not read the
graph, so "layer 1 alone" is read off the same decisions as the codes AF01-AF09, and "with
the graph" adds the graph's fraud codes (AF10-AF12) and the strategy's fraud rules on
graph-fed inputs. The graph's credit-risk signals (guarantee-circle stress, contagion: AF13,
AF14 and their strategy rules) send applications to a person too, but say nothing of fraud:
they are counted apart. So is the executed-person list (AF03, 失信被执行人): a court's list that
declines by policy whoever is on it, not a guess that the application is fraudulent.

Genuine applications are split by the truth's ``on_inflated_data``: an enterprise's own
application made while an intermediary's pumping (养流水) sat in the data the bank read is
genuine by its label, yet its data were in fact inflated; such flags are counted apart too,
so the false-positive rate is read on applications whose data were the enterprise's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from puhui.domain.origination.reasons import (
    ANTI_FRAUD_REASONS,
    CONTAGION,
    EXECUTED_PERSON,
    FRAUD_RING,
    GUARANTEE_CIRCLE_STRESS,
    INVOICE_ROUND_TRIP,
    PACKAGED_APPLICATION,
)

POLICY_LISTS = frozenset({EXECUTED_PERSON.code})
"""Layer-1 codes that decline by policy (a court's list), not for suspected fraud."""
LAYER_ONE = frozenset(r.code for r in ANTI_FRAUD_REASONS) - POLICY_LISTS
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
    genuine_policy_list: int = 0
    """Genuine applications declined on the executed-person list (policy, not fraud)."""
    genuine_inflated: int = 0
    """Genuine applications resting on data an intermediary had inflated (truth)."""
    genuine_inflated_flagged: int = 0
    """Of those, flagged by layer 1 or the graph."""

    @property
    def own_data(self) -> int:
        """Genuine applications on the enterprise's own, uninflated data."""
        return self.genuine - self.genuine_inflated

    @property
    def own_data_flagged(self) -> int:
        """Of those, flagged for fraud by layer 1 or the graph: the false positives."""
        return self.genuine_with_graph - self.genuine_inflated_flagged

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None


def anti_fraud_catch(
    screened: Mapping[str, tuple[str, ...]], truth: pl.DataFrame
) -> AntiFraudCatch:
    """``screened``: market application id -> the reasons of its automatic assessment;
    ``truth``: ``applications_truth`` (``application_id, is_fraud, is_packaged``, and
    ``on_inflated_data`` when known)."""
    marked = set(
        truth.filter(pl.col("is_fraud") | pl.col("is_packaged"))
        .get_column("application_id")
        .to_list()
    )
    inflated = (
        set(truth.filter(pl.col("on_inflated_data")).get_column("application_id").to_list())
        if "on_inflated_data" in truth.columns
        else set()
    )
    counts = dict.fromkeys(("s", "s1", "sg", "sr", "g", "g1", "gg", "gr", "gp", "i", "ig"), 0)
    for application_id, reasons in screened.items():
        codes = set(reasons)
        prefix = "s" if application_id in marked else "g"
        counts[prefix] += 1
        counts[prefix + "1"] += bool(codes & LAYER_ONE)
        counts[prefix + "g"] += bool(codes & WITH_GRAPH)
        counts[prefix + "r"] += bool(codes & GRAPH_RISK)
        if prefix == "g":
            counts["gp"] += bool(codes & POLICY_LISTS)
            if application_id in inflated:
                counts["i"] += 1
                counts["ig"] += bool(codes & WITH_GRAPH)
    return AntiFraudCatch(
        suspicious=counts["s"],
        suspicious_layer_one=counts["s1"],
        suspicious_with_graph=counts["sg"],
        genuine=counts["g"],
        genuine_layer_one=counts["g1"],
        genuine_with_graph=counts["gg"],
        genuine_graph_risk=counts["gr"],
        genuine_policy_list=counts["gp"],
        genuine_inflated=counts["i"],
        genuine_inflated_flagged=counts["ig"],
    )
