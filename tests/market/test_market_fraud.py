"""Fraud rings and packaged applicants leave the traces anti-fraud looks for."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from puhui.market import store


def _ring_members(market: Path) -> pl.DataFrame:
    truth = store.read(market, "enterprises_truth").filter(pl.col("is_shell"))
    return store.read(market, "enterprises").join(truth.select("uscc", "fraud_ring_id"), on="uscc")


def test_ring_members_share_phones_addresses_and_legal_representatives(
    small_market: Path,
) -> None:
    members = _ring_members(small_market)
    assert members.height >= 10
    per_ring = members.group_by("fraud_ring_id").agg(
        pl.len().alias("n"),
        pl.col("phone").n_unique().alias("phones"),
        pl.col("legal_rep_id_number").n_unique().alias("reps"),
        pl.col("registration_date").dt.month_start().n_unique().alias("reg_months"),
    )
    assert (per_ring["phones"] == 1).all()
    assert (per_ring["reps"] <= 2).all()
    assert (per_ring["reg_months"] == 1).all()


def test_ring_members_invoice_each_other_in_a_cycle(small_market: Path) -> None:
    members = _ring_members(small_market).select("uscc", "fraud_ring_id")
    inv = (
        store.read(small_market, "invoices")
        .join(
            members.rename({"uscc": "seller_uscc", "fraud_ring_id": "seller_ring"}),
            on="seller_uscc",
        )
        .join(
            members.rename({"uscc": "buyer_uscc", "fraud_ring_id": "buyer_ring"}), on="buyer_uscc"
        )
    )
    inside = inv.filter(pl.col("seller_ring") == pl.col("buyer_ring"))
    assert inside.height > 0
    edges = inside.select("seller_uscc", "buyer_uscc").unique()
    # In a cycle every member sells to one member and buys from one member.
    out_deg = edges.group_by("seller_uscc").len()["len"]
    in_deg = edges.group_by("buyer_uscc").len()["len"]
    assert (out_deg == 1).all()
    assert (in_deg == 1).all()


def test_fraud_applications_come_from_young_shells_sharing_devices(small_market: Path) -> None:
    apps = store.read(small_market, "applications").join(
        store.read(small_market, "applications_truth"), on="application_id"
    )
    fraud = apps.filter(pl.col("is_fraud")).join(
        store.read(small_market, "enterprises").select("uscc", "registration_date"), on="uscc"
    )
    assert fraud.height > 0
    age_days = (fraud["application_date"] - fraud["registration_date"]).dt.total_days()
    assert age_days.max() <= 15 * 31
    per_ring = fraud.group_by("fraud_ring_id").agg(pl.col("device_id").n_unique().alias("d"))
    assert (per_ring["d"] <= 2).all()
    assert fraud["channel"].is_in(["intermediary", "partner"]).all()


def test_packaged_applicants_inflate_flows_before_applying(small_market: Path) -> None:
    apps = store.read(small_market, "applications").join(
        store.read(small_market, "applications_truth"), on="application_id"
    )
    packaged = apps.filter(pl.col("is_packaged")).select("uscc", pl.col("month").alias("applied"))
    assert packaged.height > 0
    flows = store.read(small_market, "settlement_monthly").join(packaged, on="uscc")
    months_before = (pl.col("applied") - pl.col("month")).dt.total_days()
    pumped = flows.filter((months_before > 0) & (months_before <= 125))
    normal = flows.filter(months_before > 200)
    summary = (
        pumped.group_by("uscc")
        .agg(pl.col("inflow_fen").median().alias("p"))
        .join(normal.group_by("uscc").agg(pl.col("inflow_fen").median().alias("n")), on="uscc")
        .filter(pl.col("n") > 0)
    )
    assert summary.height > 0
    assert (summary["p"] / summary["n"]).median() > 2.0
