"""Invoice round trips (循环开票): short invoice cycles with near-equal amounts close in time.

Two to four enterprises invoicing each other round a cycle, each for about the same amount
within a month, month after month, inflate everyone's sales without goods moving. Found with
Polars joins: an invoice can only lie on a cycle inside a strongly connected part of the
seller -> buyer graph (igraph finds those), and the joins step from invoice to invoice only
through amounts in the same or a neighbouring ``BUCKET_RATIO`` bucket, so a supplier hub's
thousands of invoices never multiply out. ``invoice_round_trip_ratio`` is the share of an
enterprise's sales in the window carried by invoices that lie on such a cycle: money that
came back.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from puhui.lazy import lazy_module

if TYPE_CHECKING:
    import igraph as ig
else:
    ig = lazy_module("igraph")

WINDOW_MONTHS = 12
"""Sales window of the ratio, and how far back cycles are looked for."""
CYCLE_SPAN_MONTHS = 1
"""All invoices of one cycle instance within this many months of each other."""
MAX_SPREAD = 0.05
"""(max - min) / max of a cycle's amounts: at most this for near-equal."""
MIN_MONTHS = 2
"""A cycle must start (its first invoice) in at least this many different months: firms that
trade both ways meet a near-equal pair of invoices by chance now and then, a round trip
comes back. One that began in the last two months of the window, with no time to come
back yet, counts if its amounts are within ``TIGHT_SPREAD``."""
TIGHT_SPREAD = 0.02
CONSISTENCY = 0.5
"""A round trip is near-equal in at least this share of the months its first invoice was
issued; firms trading both ways for real are near-equal only some months."""
BUCKET_RATIO = 1.0 / (1.0 - MAX_SPREAD)
"""Amount buckets this wide: near-equal amounts are in the same or a neighbouring bucket."""


@dataclass(frozen=True, slots=True)
class RoundTrips:
    trips: pl.DataFrame  # ROUND_TRIPS
    facts: pl.DataFrame  # eid, invoice_round_trip_ratio, round_trip


def _month_index(column: str) -> pl.Expr:
    return (pl.col(column).dt.year().cast(pl.Int32) * 12 + pl.col(column).dt.month()).alias("m")


def _cyclic_edges(edges: pl.DataFrame) -> pl.DataFrame:
    """Only invoices between members of one strongly connected part can lie on a cycle."""
    pairs = edges.select("s", "d").unique()
    nodes = pl.concat([pairs["s"], pairs["d"]]).unique().sort()
    position = pl.DataFrame({"n": nodes, "pos": pl.int_range(len(nodes), eager=True)})
    coded = pairs.join(position.rename({"n": "s", "pos": "ps"}), on="s").join(
        position.rename({"n": "d", "pos": "pd"}), on="d"
    )
    graph = ig.Graph(
        n=len(nodes), edges=coded.select("ps", "pd").to_numpy().tolist(), directed=True
    )
    part = pl.DataFrame(
        {"n": nodes, "part": graph.connected_components(mode="strong").membership}
    ).with_columns(pl.len().over("part").alias("size"))
    part = part.filter(pl.col("size") >= 2).select("n", "part")
    return (
        edges.join(part.rename({"n": "s"}), on="s")
        .join(part.rename({"n": "d", "part": "part_d"}), on="d")
        .filter(pl.col("part") == pl.col("part_d"))
        .drop("part", "part_d")
    )


def _step(paths: pl.DataFrame, edges: pl.DataFrame, last: str, k: int) -> pl.DataFrame:
    """Extend each path by one invoice from its last enterprise of a near-equal amount."""
    nxt = edges.select(
        pl.col("s").alias(last),
        pl.col("d").alias(f"n{k}"),
        pl.col("m").alias(f"m{k}"),
        pl.col("x").alias(f"x{k}"),
        pl.col("b").alias("b_next"),
    )
    joined = pl.concat(
        [
            paths.with_columns((pl.col("b") + offset).alias("b_next")).join(
                nxt, on=[last, "b_next"]
            )
            for offset in (-1, 0, 1)
        ]
    )
    months = [pl.col(c) for c in joined.columns if c.startswith("m")]
    return joined.filter(
        (pl.max_horizontal(months) - pl.min_horizontal(months)) <= CYCLE_SPAN_MONTHS
    ).drop("b_next")


def _closed(paths: pl.DataFrame, length: int) -> pl.DataFrame:
    """Paths whose last enterprise is the first again, started at their smallest member."""
    first, last = "n0", f"n{length}"
    inner = [pl.col(f"n{i}") for i in range(1, length)]
    distinct = [pl.col(f"n{i}") != pl.col(f"n{j}") for i in range(length) for j in range(i)]
    closing = paths.filter(pl.col(last) == pl.col(first))
    if length > 1:
        closing = closing.filter(pl.all_horizontal([pl.col(first) < c for c in inner]))
    if distinct:
        closing = closing.filter(pl.all_horizontal(distinct))
    amounts = [pl.col(f"x{i}") for i in range(1, length + 1)]
    return closing.with_columns(
        pl.min_horizontal(amounts).alias("low"), pl.max_horizontal(amounts).alias("high")
    ).filter((pl.col("high") - pl.col("low")).cast(pl.Float64) <= MAX_SPREAD * pl.col("high"))


def find_cycles(edges: pl.DataFrame, max_length: int = 4) -> list[pl.DataFrame]:
    """Cycle instances of 2..max_length invoices: n0..n{L}, m1..m{L}, x1..x{L}, low, high.

    ``edges``: s, d (enterprise numbers), m (month index), x (amount), b (amount bucket).
    """
    start = edges.select(
        pl.col("s").alias("n0"),
        pl.col("d").alias("n1"),
        pl.col("m").alias("m1"),
        pl.col("x").alias("x1"),
        "b",
    )
    found = []
    paths = start
    for length in range(2, max_length + 1):
        paths = _step(paths, edges, f"n{length - 1}", length)
        # every cycle is found once, from its smallest member: longer paths only go higher
        found.append(_closed(paths, length))
        paths = paths.filter(pl.col("n0") < pl.col(f"n{length}"))
    return found


def detect_round_trips(
    invoices: pl.DataFrame, index: pl.DataFrame, as_of: date, max_length: int = 4
) -> RoundTrips:
    """``invoices``: src, dst, month, amount_fen (one row per pair and month, no self-loops);
    ``index``: eid, uscc."""
    since = _window_start(as_of)
    window = invoices.filter((pl.col("month") >= since) & (pl.col("amount_fen") > 0))
    sales = window.group_by(pl.col("src").alias("eid")).agg(
        pl.col("amount_fen").sum().alias("sales")
    )
    log_ratio = math.log(BUCKET_RATIO)
    edges = window.select(
        pl.col("src").alias("s"),
        pl.col("dst").alias("d"),
        _month_index("month"),
        pl.col("amount_fen").alias("x"),
        (pl.col("amount_fen").cast(pl.Float64).log() / log_ratio).floor().cast(pl.Int32).alias("b"),
    )
    if edges.is_empty():
        return RoundTrips(_empty_trips(), _facts(sales, _empty_rows()))
    edges = _cyclic_edges(edges)
    found = find_cycles(edges, max_length) if not edges.is_empty() else []
    last_month = as_of.year * 12 + as_of.month
    instances = [
        _recurring(cycles, length, last_month, edges)
        for length, cycles in enumerate(found, start=2)
    ]
    rows = [_rows(cycles, length) for length, cycles in enumerate(instances, start=2)]
    on_cycle = pl.concat(rows) if rows else _empty_rows()
    trips = _trips(instances, index)
    return RoundTrips(trips, _facts(sales, on_cycle))


def _recurring(
    cycles: pl.DataFrame, length: int, last_month: int, edges: pl.DataFrame
) -> pl.DataFrame:
    """Instances of the cycles that started in at least ``MIN_MONTHS`` different months and
    in ``CONSISTENCY`` of the months their first invoice was issued, or began at the end of
    the window (``last_month``: month index) within ``TIGHT_SPREAD``."""
    members = [f"n{i}" for i in range(length)]
    issued = edges.group_by(pl.col("s").alias("n0"), pl.col("d").alias("n1")).agg(
        pl.col("m").n_unique().alias("issued")
    )
    equal = pl.col("m1").n_unique().over(members)
    tight = (pl.col("high") - pl.col("low")).cast(pl.Float64) <= TIGHT_SPREAD * pl.col("high")
    new = tight & (pl.col("m1").min().over(members) >= last_month - 1)
    recurring = (equal >= MIN_MONTHS) & (equal >= CONSISTENCY * pl.col("issued"))
    return cycles.join(issued, on=["n0", "n1"], how="left").filter(recurring | new).drop("issued")


def _window_start(as_of: date) -> date:
    index = as_of.year * 12 + as_of.month - 1 - (WINDOW_MONTHS - 1)
    return date(index // 12, index % 12 + 1, 1)


def _rows(cycles: pl.DataFrame, length: int) -> pl.DataFrame:
    """The invoice rows (seller, buyer, month, amount) every cycle instance is made of."""
    return pl.concat(
        [
            cycles.select(
                pl.col(f"n{i - 1}").alias("s"),
                pl.col(f"n{i}").alias("d"),
                pl.col(f"m{i}").alias("m"),
                pl.col(f"x{i}").alias("x"),
            )
            for i in range(1, length + 1)
        ]
    )


def _facts(sales: pl.DataFrame, on_cycle: pl.DataFrame) -> pl.DataFrame:
    back = (
        on_cycle.unique(["s", "d", "m"])
        .group_by(pl.col("s").alias("eid"))
        .agg(pl.col("x").sum().alias("back"))
    )
    return sales.join(back, on="eid", how="full", coalesce=True).select(
        "eid",
        pl.when(pl.col("sales") > 0)
        .then((pl.col("back").fill_null(0) / pl.col("sales")).clip(0.0, 1.0))
        .otherwise(0.0)
        .alias("invoice_round_trip_ratio"),
        pl.col("back").is_not_null().alias("round_trip"),
    )


def _trips(instances: list[pl.DataFrame], index: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct cycle: its last month, smallest amount and widest spread."""
    names = dict(zip(index["eid"].to_list(), index["uscc"].to_list(), strict=True))
    out: list[dict[str, object]] = []
    for length, cycles in enumerate(instances, start=2):
        if cycles.is_empty():
            continue
        months = [pl.col(f"m{i}") for i in range(1, length + 1)]
        grouped = (
            cycles.with_columns(
                pl.max_horizontal(months).alias("closed"),
                ((pl.col("high") - pl.col("low")) / pl.col("high")).alias("spread"),
            )
            .group_by([f"n{i}" for i in range(length)])
            .agg(pl.col("closed").max(), pl.col("low").min(), pl.col("spread").max())
        )
        for row in grouped.iter_rows(named=True):
            members = [names[row[f"n{i}"]] for i in range(length)]
            closed = int(row["closed"]) - 1
            out.append(
                {
                    "cycle_id": "T" + hashlib.sha256("→".join(members).encode()).hexdigest()[:16],
                    "members": members,
                    "month": date(closed // 12, closed % 12 + 1, 1),
                    "amount_fen": int(row["low"]),
                    "spread": round(float(row["spread"]), 6),
                }
            )
    if not out:
        return _empty_trips()
    return pl.DataFrame(out).sort("cycle_id")


def _empty_rows() -> pl.DataFrame:
    return pl.DataFrame(schema={"s": pl.UInt32, "d": pl.UInt32, "m": pl.Int32, "x": pl.Int64})


def _empty_trips() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "cycle_id": pl.String,
            "members": pl.List(pl.String),
            "month": pl.Date,
            "amount_fen": pl.Int64,
            "spread": pl.Float64,
        }
    )
