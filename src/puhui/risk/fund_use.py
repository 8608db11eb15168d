"""Fund-use monitoring (资金流向): flag draws whose proceeds leave the business within 30 days.

Pure: Polars in, Polars out. The input is settlement-account debits around each draw by
counterparty type in 10-day periods (the market's ``draw_outflows``, or a provider's account
statement aggregated the same way): ``application_id, uscc, draw_date, draw_amount_fen,
days_from_draw, counterparty_type, amount_fen``. For each draw the detector sums the debits
of the first 30 days to the three diversion destinations — related parties and the owner,
securities and real estate, other lenders — takes off what the firm usually pays them (the
30 days before the draw), and compares the excess with the amount drawn. A draw is flagged
``FUND_USE_DIVERTED`` when that share reaches ``diverted_share_min``; the evidence (amounts,
shares, the dominant destination) comes with every row, flagged or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from puhui.domain.errors import InvalidInput

REASON_FUND_USE_DIVERTED = "FUND_USE_DIVERTED"
"""Reason and signal code of a flagged draw (``mse-post-loan`` trigger rules)."""

DIVERSION_DESTINATIONS: tuple[str, ...] = (
    "related_owner",
    "securities_real_estate",
    "other_lenders",
)
"""Counterparty types whose receipt of drawn money is a diversion (挪用)."""
COUNTERPARTY_TYPES: tuple[str, ...] = ("suppliers", "wages_tax", *DIVERSION_DESTINATIONS)
PERIOD_DAYS = 10
"""The debits come in 10-day periods starting ``days_from_draw`` days after the draw."""


class FundUseInputInvalid(InvalidInput):
    """Draw outflows without a needed column, or a detector parameter out of its range."""

    code = "fund_use_input_invalid"


INPUT_COLUMNS: dict[str, type[pl.DataType]] = {
    "application_id": pl.String,
    "uscc": pl.String,
    "draw_date": pl.Date,
    "draw_amount_fen": pl.Int64,
    "days_from_draw": pl.Int32,
    "counterparty_type": pl.String,
    "amount_fen": pl.Int64,
}


@dataclass(frozen=True)
class FundUseThresholds:
    """Named parameters of the detector (chosen on one market, benchmarked on another)."""

    window_days: int = 30
    """Debits in the first ``window_days`` after the draw count (a multiple of 10)."""
    baseline_days: int = 30
    """The usual pattern: debits in the ``baseline_days`` before the draw (a multiple of 10),
    scaled to the window's length; missing periods (a draw early in the data) are left out."""
    baseline_weight: float = 1.0
    """How much of the usual pattern to take off (0 = gross debits, 1 = all of it)."""
    baseline_cap_share: float = 0.25
    """The usual pattern excuses at most this share of the amount drawn per destination: a
    firm that always pays its owner a lot still may not pass the loan on to him."""
    diverted_share_min: float = 0.2
    """Flag when the excess to diversion destinations reaches this share of the draw. The
    excess is over the usual pattern, so a fifth of the loan leaving for the owner, a broker
    or another lender is already far from business as usual (chosen on a tuning market by
    ``bench/bench_fund_use.py``; the trigger rule ``FUND_USE_DIVERTED`` uses the same)."""

    def __post_init__(self) -> None:
        for name in ("window_days", "baseline_days"):
            days = getattr(self, name)
            if days <= 0 or days % PERIOD_DAYS:
                raise FundUseInputInvalid(
                    f"{name} must be a positive multiple of {PERIOD_DAYS}, got {days}",
                    details={"field": name},
                )
        for name in ("baseline_weight", "baseline_cap_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FundUseInputInvalid(f"{name} must be in [0, 1]", details={"field": name})
        if not 0.0 < self.diverted_share_min <= 1.0:
            raise FundUseInputInvalid(
                "diverted_share_min must be in (0, 1]", details={"field": "diverted_share_min"}
            )


DEFAULT_THRESHOLDS = FundUseThresholds()


def _check_columns(frame: pl.DataFrame | pl.LazyFrame) -> None:
    names = frame.collect_schema().names()
    missing = [c for c in INPUT_COLUMNS if c not in names]
    if missing:
        raise FundUseInputInvalid(
            f"draw outflows lack columns {missing}", details={"missing": ", ".join(missing)}
        )


def fund_use_evidence(
    outflows: pl.DataFrame | pl.LazyFrame,
    thresholds: FundUseThresholds = DEFAULT_THRESHOLDS,
) -> pl.DataFrame:
    """One row per draw: the debits behind the verdict, the diverted share and the flag.

    Columns: ``application_id, uscc, draw_date, draw_amount_fen, window_complete`` (every
    period of the window is present), per destination ``<type>_window_fen``,
    ``<type>_baseline_fen`` and ``<type>_excess_fen``, then ``diverted_fen`` (the excesses
    added), ``diverted_share`` (over the amount drawn), ``dominant_destination``,
    ``flagged`` and ``reason_code`` (``FUND_USE_DIVERTED`` or null). Amounts stay integer
    fen; shares are ratios. Sorted by ``application_id``.
    """
    _check_columns(outflows)
    t = thresholds
    window_periods = t.window_days // PERIOD_DAYS
    rows = outflows.lazy().select([pl.col(c).cast(dtype) for c, dtype in INPUT_COLUMNS.items()])
    in_window = (pl.col("days_from_draw") >= 0) & (pl.col("days_from_draw") < t.window_days)
    in_baseline = (pl.col("days_from_draw") < 0) & (pl.col("days_from_draw") >= -t.baseline_days)
    sums: list[pl.Expr] = []
    for kind in DIVERSION_DESTINATIONS:
        is_kind = pl.col("counterparty_type") == kind
        sums.append(
            pl.col("amount_fen").filter(in_window & is_kind).sum().alias(f"{kind}_window_fen")
        )
        sums.append(
            pl.col("amount_fen").filter(in_baseline & is_kind).sum().alias(f"{kind}_pre_fen")
        )
    per_draw = rows.group_by("application_id").agg(
        pl.col("uscc").first(),
        pl.col("draw_date").first(),
        pl.col("draw_amount_fen").first(),
        pl.col("days_from_draw").filter(in_window).n_unique().alias("_window_periods"),
        pl.col("days_from_draw").filter(in_baseline).n_unique().alias("_baseline_periods"),
        *sums,
    )
    cap_ppm = round(t.baseline_cap_share * 1_000_000)
    cap = pl.col("draw_amount_fen") * cap_ppm // 1_000_000  # integer fen, like the weight
    weight_num = round(t.baseline_weight * 1_000_000)
    columns: list[pl.Expr] = []
    for kind in DIVERSION_DESTINATIONS:
        # Scale the observed baseline periods to the window's length, in integer fen.
        scaled = pl.when(pl.col("_baseline_periods") > 0).then(
            pl.col(f"{kind}_pre_fen") * window_periods // pl.col("_baseline_periods")
        )
        baseline = pl.min_horizontal(scaled.fill_null(0) * weight_num // 1_000_000, cap)
        columns.append(baseline.alias(f"{kind}_baseline_fen"))
    per_draw = per_draw.with_columns(columns).with_columns(
        [
            (pl.col(f"{k}_window_fen") - pl.col(f"{k}_baseline_fen"))
            .clip(lower_bound=0)
            .alias(f"{k}_excess_fen")
            for k in DIVERSION_DESTINATIONS
        ]
    )
    excess = [pl.col(f"{k}_excess_fen") for k in DIVERSION_DESTINATIONS]
    dominant = (
        pl.when(excess[0] >= pl.max_horizontal(excess[1], excess[2]))
        .then(pl.lit(DIVERSION_DESTINATIONS[0]))
        .when(excess[1] >= excess[2])
        .then(pl.lit(DIVERSION_DESTINATIONS[1]))
        .otherwise(pl.lit(DIVERSION_DESTINATIONS[2]))
    )
    out = per_draw.with_columns(
        pl.sum_horizontal(excess).alias("diverted_fen"),
        (pl.col("_window_periods") == window_periods).alias("window_complete"),
    ).with_columns(
        pl.when(pl.col("draw_amount_fen") > 0)
        .then(pl.col("diverted_fen") / pl.col("draw_amount_fen"))
        .otherwise(0.0)
        .alias("diverted_share"),
        pl.when(pl.col("diverted_fen") > 0).then(dominant).alias("dominant_destination"),
    )
    flagged = pl.col("diverted_share") >= t.diverted_share_min
    out = out.with_columns(
        flagged.alias("flagged"),
        pl.when(flagged).then(pl.lit(REASON_FUND_USE_DIVERTED)).alias("reason_code"),
    )
    ordered = [
        "application_id",
        "uscc",
        "draw_date",
        "draw_amount_fen",
        "window_complete",
        *[
            f"{k}_{part}_fen"
            for k in DIVERSION_DESTINATIONS
            for part in ("window", "baseline", "excess")
        ],
        "diverted_fen",
        "diverted_share",
        "dominant_destination",
        "flagged",
        "reason_code",
    ]
    return out.select(ordered).sort("application_id").collect()


def diverted_share_by_enterprise(evidence: pl.DataFrame) -> pl.DataFrame:
    """The monitoring input ``fund_use_diverted_share`` per enterprise: the largest diverted
    share over its draws in the evidence (``uscc, fund_use_diverted_share``)."""
    return (
        evidence.group_by("uscc")
        .agg(pl.col("diverted_share").max().alias("fund_use_diverted_share"))
        .sort("uscc")
    )


__all__ = [
    "COUNTERPARTY_TYPES",
    "DEFAULT_THRESHOLDS",
    "DIVERSION_DESTINATIONS",
    "REASON_FUND_USE_DIVERTED",
    "FundUseInputInvalid",
    "FundUseThresholds",
    "diverted_share_by_enterprise",
    "fund_use_evidence",
]
