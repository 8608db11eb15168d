"""Quality of the graph's detectors against a market's truth (held out: never read by the build).

Usage:
    PYTHONPATH=src .venv/bin/python bench/graph_quality.py --market DIR --as-of YYYY-MM
        [--graph DIR]   (built into a temporary folder when not given)

Measures (docs/benchmarks.md, "Relationship graph"):
- rings: share of truth ring members (registered by the as-of month) in a reported ring
  (recall), and share of reported members that are truth ring members or shells (precision);
- invoice round trips, on enterprises: reported ``round_trip`` against truth ``round_trip_id``
  (when the market has that column). Recall over the members whose cycle invoiced inside the
  12-month window; precision counts any truth round-tripper and fraud-ring shells (which
  invoice round their ring) as right, and is also given over genuine firms only;
- guarantee circles: every truth circle whose guarantees all started by the as-of month is
  reported with exactly its members and the exact sum of its guarantees;
- packaging and contagion: rank quality (AUC) of ``packaging_score`` against packaged
  applications in the last 12 months, and of ``contagion_score`` among enterprises not yet
  distressed against any default in the next 12 months and against the truth's
  ``contagion_events`` (defaults a guarantee partner's default caused or hastened).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from puhui.bootstrap.settings import Settings
from puhui.graph.build import build
from puhui.graph.snapshot import read_table
from puhui.graph.sources import add_months, month_end, parse_as_of


def _auc(score: pl.Series, label: pl.Series) -> float | None:
    frame = pl.DataFrame({"s": score, "y": label}).with_columns(pl.col("s").rank("average"))
    pos = int(frame["y"].sum())
    neg = frame.height - pos
    if pos == 0 or neg == 0:
        return None
    rank_sum = float(frame.filter(pl.col("y"))["s"].sum())
    return round((rank_sum - pos * (pos + 1) / 2) / (pos * neg), 4)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rings(market: Path, graph: Path, registered: pl.DataFrame, truth: pl.DataFrame) -> dict:
    truth = truth.join(registered, on="uscc")
    members = read_table(graph, "rings").explode("members")["members"]
    in_rings = truth.filter(pl.col("fraud_ring_id").is_not_null())["uscc"]
    ringish = truth.filter(pl.col("fraud_ring_id").is_not_null() | pl.col("is_shell"))["uscc"]
    found = int(in_rings.is_in(members.implode()).sum())
    right = int(members.is_in(ringish.implode()).sum())
    return {
        "truth_ring_members": in_rings.len(),
        "reported_members": members.len(),
        "reported_rings": read_table(graph, "rings").height,
        "recall": _share(found, in_rings.len()),
        "precision": _share(right, members.len()),
    }


def _active_round_trippers(market: Path, truth: pl.DataFrame, as_of: date) -> pl.Series:
    """Truth round-trip members that invoiced a partner of their cycle in the 12-month window
    (the truth says who takes part, not when: a cycle that ended before the window is not
    there to be found)."""
    ids = truth.filter(pl.col("round_trip_id").is_not_null()).select("uscc", "round_trip_id")
    window = pl.scan_parquet(f"{market}/tables/invoices/*.parquet").filter(
        pl.col("month").is_between(add_months(as_of, -11), as_of)
    )
    legs = (
        window.join(ids.lazy().rename({"uscc": "seller_uscc"}), on="seller_uscc")
        .join(ids.lazy().rename({"uscc": "buyer_uscc", "round_trip_id": "rt2"}), on="buyer_uscc")
        .filter(pl.col("round_trip_id") == pl.col("rt2"))
        .select("seller_uscc", "buyer_uscc")
        .collect()
    )
    return pl.concat([legs["seller_uscc"], legs["buyer_uscc"]]).unique().alias("uscc")


def round_trips(
    market: Path, graph: Path, truth: pl.DataFrame, registered: pl.DataFrame, as_of: date
) -> dict:
    facts = read_table(graph, "enterprise_facts")
    reported = facts.filter(pl.col("round_trip"))["uscc"]
    out: dict[str, object] = {"reported_enterprises": reported.len()}
    if "round_trip_id" not in truth.columns:
        out["truth"] = "the market has no round_trip_id column"
        return out
    truth = truth.join(registered, on="uscc")
    every = truth.filter(pl.col("round_trip_id").is_not_null())["uscc"]
    real = _active_round_trippers(market, truth, as_of)
    shells = truth.filter(pl.col("is_shell"))["uscc"]
    true_set = pl.concat([every, shells]).unique().implode()
    out.update(
        truth_enterprises=every.len(),
        truth_active_in_window=real.len(),
        recall=_share(int(real.is_in(reported.implode()).sum()), real.len()),
        precision=_share(int(reported.is_in(true_set).sum()), reported.len()),
        precision_genuine_only=_share(
            int(reported.is_in(every.implode()).sum()),
            int((~reported.is_in(shells.implode())).sum()),
        ),
    )
    return out


def circles(market: Path, graph: Path, truth: pl.DataFrame, as_of: date) -> dict:
    if "guarantee_circle_id" not in truth.columns:
        return {"truth": "the market has no guarantee_circle_id column"}
    guarantees = pl.read_parquet(f"{market}/tables/guarantees/*.parquet")
    members = truth.filter(pl.col("guarantee_circle_id").is_not_null()).select(
        "uscc", "guarantee_circle_id"
    )
    inside = (
        guarantees.join(members.rename({"uscc": "guarantor_uscc"}), on="guarantor_uscc")
        .join(
            members.rename({"uscc": "borrower_uscc", "guarantee_circle_id": "c2"}),
            on="borrower_uscc",
        )
        .filter(pl.col("guarantee_circle_id") == pl.col("c2"))
    )
    complete = inside.group_by("guarantee_circle_id").agg(
        (pl.col("start_month") <= as_of).all().alias("started"),
        pl.col("amount_fen").sum().alias("exposure_fen"),
        pl.len().alias("guarantees"),
    )
    sizes = members.group_by("guarantee_circle_id").agg(pl.col("uscc").sort().alias("members"))
    expected = (
        complete.join(sizes, on="guarantee_circle_id")
        .filter(pl.col("started") & (pl.col("guarantees") >= pl.col("members").list.len()))
        .select("members", "exposure_fen")
    )
    reported = read_table(graph, "circles").select("members", "exposure_fen")
    exact = expected.join(reported, on=["members", "exposure_fen"], how="semi").height
    return {
        "truth_circles_complete": expected.height,
        "found_exact": exact,
        "share": _share(exact, expected.height),
        "reported_circles": reported.height,
    }


def packaging_and_contagion(market: Path, graph: Path, as_of: date, truth: pl.DataFrame) -> dict:
    facts = read_table(graph, "enterprise_facts")
    apps = pl.read_parquet(f"{market}/tables/applications/*.parquet").filter(
        pl.col("application_date").is_between(add_months(as_of, -11), month_end(as_of))
    )
    apps_truth = pl.read_parquet(f"{market}/truth/applications_truth/*.parquet")
    packaged = (
        apps.join(apps_truth, on="application_id")
        .group_by("uscc")
        .agg(pl.col("is_packaged").any().alias("packaged"))
    )
    applicants = facts.join(packaged, on="uscc")
    upcoming = truth.select(
        "uscc",
        pl.col("default_month")
        .is_between(add_months(as_of, 1), add_months(as_of, 12))
        .fill_null(False)
        .alias("defaults"),
    )
    events = pl.read_parquet(f"{market}/truth/contagion_events/*.parquet").filter(
        pl.col("month").is_between(add_months(as_of, 1), add_months(as_of, 12))
    )
    calm = (
        facts.filter(~pl.col("distressed"))
        .join(upcoming, on="uscc")
        .with_columns(pl.col("uscc").is_in(events["uscc"].implode()).alias("contagion_event"))
    )
    reached = calm.filter(pl.col("contagion_score") > 0)
    return {
        "packaging_auc": _auc(applicants["packaging_score"], applicants["packaged"]),
        "applicants_12m": applicants.height,
        "packaged_12m": int(applicants["packaged"].sum()),
        "contagion_auc_not_distressed": _auc(calm["contagion_score"], calm["defaults"]),
        "contagion_events_next_12m": int(calm["contagion_event"].sum()),
        "contagion_auc_events": _auc(calm["contagion_score"], calm["contagion_event"]),
        "default_rate_reached": _share(int(reached["defaults"].sum()), reached.height),
        "default_rate_not_reached": _share(
            int(calm.filter(pl.col("contagion_score") == 0)["defaults"].sum()),
            calm.filter(pl.col("contagion_score") == 0).height,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--graph", type=Path)
    args = parser.parse_args()
    as_of = parse_as_of(args.as_of)
    with tempfile.TemporaryDirectory() as tmp:
        graph = args.graph or Path(tmp) / "graph"
        if args.graph is None:
            build(args.market, as_of, graph, key=Settings().graph_identifier_key())
        truth = pl.read_parquet(f"{args.market}/truth/enterprises_truth/*.parquet")
        registered = (
            pl.read_parquet(f"{args.market}/tables/enterprises/*.parquet")
            .filter(pl.col("registration_date") <= month_end(as_of))
            .select("uscc")
        )
        result = {
            "market": str(args.market),
            "as_of": args.as_of,
            "rings": rings(args.market, graph, registered, truth),
            "round_trips": round_trips(args.market, graph, truth, registered, as_of),
            "circles": circles(args.market, graph, truth, as_of),
            "scores": packaging_and_contagion(args.market, graph, as_of, truth),
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
