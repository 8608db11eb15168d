"""How well the need model finds and sizes needs on a market it was not trained on.

Timing: among the top share (10 %) of enterprises ranked by need probability, the precision
(share with a true need in the next three months) and recall (share of all true need events
of the horizon at those enterprises), against the same figures for a ranking by recent sales
growth (settlement inflows, last three months, year on year), on the same enterprises.
Amount: the median absolute percentage error of the point estimate, and the share of floors
at or below the true need, on enterprises with a true need.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.need.features import SALES_GROWTH_BASELINE
from puhui.risk.need.labels import need_labels
from puhui.risk.need.model import NeedModel

TOP_SHARE = 0.1


@dataclass(frozen=True)
class TopShare:
    precision: float
    recall: float
    selected: int


def top_share(
    ranking: pl.DataFrame, score: str, labels: pl.DataFrame, share: float = TOP_SHARE
) -> TopShare:
    """Precision and recall of the top ``share`` of ``ranking`` by ``score`` (highest first).

    ``labels`` has one row per enterprise with a true need (``uscc``, ``needs_in_horizon``).
    Ties are broken by USCC and a missing score ranks last, so the selection is reproducible.
    """
    if not 0 < share <= 1:
        raise InvalidTrainingData("the top share must be in (0, 1]")
    if ranking.height == 0:
        raise InvalidTrainingData("nothing to rank")
    count = max(1, round(share * ranking.height))
    chosen = (
        ranking.select("uscc", score)
        .sort([score, "uscc"], descending=[True, False], nulls_last=True)
        .head(count)
        .join(labels.select("uscc", "needs_in_horizon"), on="uscc", how="left")
    )
    in_ranking = labels.join(ranking.select("uscc"), on="uscc")
    events = int(in_ranking.get_column("needs_in_horizon").cast(pl.Int64).sum())
    hits = int(chosen.get_column("needs_in_horizon").is_not_null().sum())
    covered = int(chosen.get_column("needs_in_horizon").cast(pl.Int64).fill_null(0).sum())
    return TopShare(
        precision=hits / count, recall=covered / events if events else 0.0, selected=count
    )


def amount_errors(scores: pl.DataFrame, labels: pl.DataFrame) -> tuple[float, float, int]:
    """(MdAPE of ``need_amount_fen``, share of ``need_floor_fen`` ≤ true need, needs compared)."""
    joined = scores.select("uscc", "need_amount_fen", "need_floor_fen").join(
        labels.select("uscc", pl.col("need_amount_fen").alias("true_fen")), on="uscc"
    )
    if joined.height == 0:
        raise InvalidTrainingData("no enterprise with a true need to compare amounts on")
    true = joined.get_column("true_fen").cast(pl.Float64).to_numpy()
    point = joined.get_column("need_amount_fen").cast(pl.Float64).to_numpy()
    floor = joined.get_column("need_floor_fen").to_numpy()
    mdape = float(np.median(np.abs(point - true) / true))
    covered = float(np.mean(floor <= joined.get_column("true_fen").to_numpy()))
    return mdape, covered, joined.height


@dataclass(frozen=True)
class NeedEvaluation:
    as_of: date
    enterprises: int
    with_need: int
    model: TopShare
    baseline: TopShare
    mdape: float
    floor_coverage: float
    month_accuracy: float
    """Share of true needs whose first month is the month predicted."""
    duration_mdape: float

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


def evaluate_need_model(
    model: NeedModel, features: pl.DataFrame, need_events: pl.LazyFrame, as_of: date
) -> NeedEvaluation:
    """Score ``features`` (as of ``as_of``) and compare with the true needs of the horizon."""
    labels = need_labels(need_events, as_of).join(features.select("uscc"), on="uscc")
    scores = model.score(features, as_of)
    ranked = scores.join(features.select("uscc", SALES_GROWTH_BASELINE), on="uscc")
    mdape, covered, _ = amount_errors(scores, labels)
    timing = scores.join(labels, on="uscc", suffix="_true")
    duration_true = timing.get_column("need_duration_months_true").cast(pl.Float64).to_numpy()
    duration = timing.get_column("need_duration_months").cast(pl.Float64).to_numpy()
    return NeedEvaluation(
        as_of=as_of,
        enterprises=features.height,
        with_need=labels.height,
        model=top_share(ranked, "need_probability", labels),
        baseline=top_share(ranked, SALES_GROWTH_BASELINE, labels),
        mdape=mdape,
        floor_coverage=covered,
        month_accuracy=float(
            np.mean(
                timing.get_column("need_month").to_numpy()
                == timing.get_column("need_month_true").to_numpy()
            )
        ),
        duration_mdape=float(np.median(np.abs(duration - duration_true) / duration_true)),
    )
