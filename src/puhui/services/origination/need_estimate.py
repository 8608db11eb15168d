"""The strategy input ``need_estimate_fen``: the need model's point estimate of the applicant.

The need model (``puhui.risk.need``) reads only what a bank may use before consent, which the
application's pull includes; it is scored here on the applicant's pulled rows as of the last
complete month (the pull holds months before the application's month). The bank's own loan
book is not in the pull, so its loan features are missing online (the model reads them as
unknown). Without a configured need model the input stays missing, as before, and the trace
says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables, month_start_plus
from puhui.risk.need import NeedModel, need_features

NEED_INPUT = "need_estimate_fen"


@dataclass(frozen=True, slots=True)
class NeedEstimate:
    """The input's value (``None``: missing) and what the decision trace records about it."""

    value: int | None
    trace: dict[str, Any]


def estimate_need(
    model: NeedModel | None, tables: MarketTables, uscc: str, month: date
) -> NeedEstimate:
    """Score the applicant (its pulled ``tables``) as of the month before ``month``."""
    if model is None:
        return NeedEstimate(None, {"model_id": None, "reason": "no need model configured"})
    as_of = month_start_plus(month, -1)
    sources = frozenset(name for name in model.sources if name in tables.frames)
    try:
        features = need_features(tables, as_of, sources=sources)
    except InvalidTrainingData as exc:
        return NeedEstimate(None, {"model_id": model.model_id, "reason": exc.message})
    row = features.filter(features.get_column("uscc") == uscc)
    if row.height == 0:
        return NeedEstimate(
            None, {"model_id": model.model_id, "reason": "enterprise not in the registry pull"}
        )
    scored = model.score(row, as_of).row(0, named=True)
    return NeedEstimate(
        int(scored["need_amount_fen"]),
        {
            "model_id": model.model_id,
            "as_of": as_of.isoformat(),
            "sources": sorted(sources),
            "need_probability": round(float(scored["need_probability"]), 6),
            "need_amount_fen": int(scored["need_amount_fen"]),
            "need_floor_fen": int(scored["need_floor_fen"]),
            "need_month": scored["need_month"].isoformat(),
            "need_duration_months": int(scored["need_duration_months"]),
        },
    )
