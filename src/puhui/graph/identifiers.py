"""Identifier links: which enterprise used which person, phone, address, account, device or IP.

The registry, the owners (the legal representative's own mobile) and the applications each
tie an enterprise to identifiers. Links are kept by enterprise number (``eid``) and clear
value until the end of the build, when every value is replaced by its keyed hash and a masked
label (:func:`hashed_identifiers`): clear values never reach the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import polars as pl

from puhui.domain.privacy import mask_id_number, mask_phone
from puhui.graph.snapshot import IdentifierKind, identifier_key
from puhui.graph.sources import Sources

EDGE_KIND_OF: dict[str, str] = {
    "person": "legal_rep",
    "phone": "phone",
    "address": "address",
    "account": "account",
    "device": "device",
    "ip": "ip",
}
"""The edge kind of an enterprise's link to each identifier kind."""

LINK_SCHEMA: dict[str, pl.DataType] = {
    "eid": pl.UInt32(),
    "kind": pl.String(),
    "value": pl.String(),
    "month": pl.Date(),
    "last_month": pl.Date(),
    "source": pl.String(),
}


def mask_address(address: str) -> str:
    """The first six characters (city and road) and the last two: a full address can name a
    household, the ends tell two rooms of one building apart."""
    text = "".join(address.split())
    if len(text) > 10:
        return text[:6] + "***" + text[-2:]
    return text[:3] + "***" if len(text) > 3 else "***"


def mask_account(account: str) -> str:
    text = account.strip()
    return text[:4] + "****" + text[-4:] if len(text) > 8 else "****"


def mask_ip(ip: str) -> str:
    """The /24 network only: the session's own address is not shown."""
    head, _, _ = ip.strip().rpartition(".")
    return f"{head}.*" if head else "*"


def mask_device(device: str) -> str:
    text = device.strip()
    return text[:6] + "…" if len(text) > 6 else text


MASKS: dict[str, Callable[[str], str]] = {
    "person": mask_id_number,
    "phone": mask_phone,
    "address": mask_address,
    "account": mask_account,
    "device": mask_device,
    "ip": mask_ip,
}


@dataclass(frozen=True, slots=True)
class Links:
    """Every (enterprise, identifier) link, one row per link and source, plus what was odd."""

    frame: pl.DataFrame  # LINK_SCHEMA
    missing_owners: int  # registered enterprises whose legal representative owners lacks
    dangling_applications: int  # applications of an enterprise the registry lacks
    duplicate_applications: int  # application ids given twice


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1mo")


def identifier_links(sources: Sources, index: pl.DataFrame) -> Links:
    """Links from the registry, the owners and the applications up to the as-of month.

    ``index`` maps ``uscc`` to ``eid`` (and carries the registry's identifier columns).
    """
    as_of = pl.lit(sources.as_of)
    reg = index.lazy().with_columns(_month("registration_date").alias("month"))
    registry = [
        reg.select(
            "eid",
            pl.lit(kind).alias("kind"),
            pl.col(column).alias("value"),
            "month",
            as_of.alias("last_month"),
            pl.lit("registry").alias("source"),
        )
        for kind, column in (
            ("person", "legal_rep_id_number"),
            ("phone", "phone"),
            ("address", "address"),
            ("account", "settlement_account"),
        )
    ]
    owners = sources.owners().unique("id_number", keep="first")
    owner_phone = reg.join(
        owners, left_on="legal_rep_id_number", right_on="id_number", how="inner"
    ).select(
        "eid",
        pl.lit("phone").alias("kind"),
        pl.col("phone_right").alias("value"),
        "month",
        as_of.alias("last_month"),
        pl.lit("owners").alias("source"),
    )
    missing_owners = (
        reg.join(owners, left_on="legal_rep_id_number", right_on="id_number", how="anti")
        .select(pl.len())
        .collect()
        .item()
    )
    apps_all = sources.applications().collect()
    duplicate_applications = apps_all.height - apps_all["application_id"].n_unique()
    apps_all = apps_all.unique("application_id", keep="first", maintain_order=True)
    apps = apps_all.join(index.select("uscc", "eid"), on="uscc", how="inner")
    dangling = apps_all.height - apps.height
    app_links = [
        apps.lazy()
        .filter(pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != ""))
        .group_by("eid", pl.col(column).alias("value"))
        .agg(
            _month("application_date").min().alias("month"),
            _month("application_date").max().alias("last_month"),
        )
        .select(
            "eid",
            pl.lit(kind).alias("kind"),
            "value",
            "month",
            "last_month",
            pl.lit("applications").alias("source"),
        )
        for kind, column in (
            ("person", "legal_rep_id_number"),
            ("phone", "phone"),
            ("device", "device_id"),
            ("ip", "ip_address"),
        )
    ]
    frame = (
        pl.concat([*registry, owner_phone, *app_links])
        .filter(pl.col("value").is_not_null() & (pl.col("value").str.strip_chars() != ""))
        .with_columns(
            pl.when(pl.col("kind") == "address")
            .then(pl.col("value").str.replace_all(r"\s+", ""))
            .otherwise(pl.col("value").str.strip_chars())
            .alias("value")
        )
        .select([pl.col(c).cast(t) for c, t in LINK_SCHEMA.items()])
        .collect()
    )
    return Links(frame, int(missing_owners), dangling, duplicate_applications)


def merged_links(links: pl.DataFrame) -> pl.DataFrame:
    """One row per (enterprise, identifier): first and last month over its sources."""
    return links.group_by("eid", "kind", "value").agg(
        pl.col("month").min(),
        pl.col("last_month").max(),
        pl.col("source").sort().first(),
    )


def hashed_identifiers(links: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Each distinct (kind, value): its node id (keyed hash) and masked label."""
    distinct = links.select("kind", "value").unique()
    keys: list[str] = []
    labels: list[str] = []
    for kind, value in distinct.iter_rows():
        keys.append(identifier_key(cast(IdentifierKind, kind), value, key))
        labels.append(MASKS[kind](value))
    return distinct.with_columns(
        pl.Series("node", keys, dtype=pl.String), pl.Series("label", labels, dtype=pl.String)
    )
