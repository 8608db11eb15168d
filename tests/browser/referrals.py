"""A referred application on the live site, made through its open API before a browser test.

The demo's approver decides every referral as the demo runs, so the demo book has none left
waiting. An account manager ("manager") takes a new application for an enterprise the demo
referred before (its owner's identifiers come from the market the demo read), the owner
consents with a one-time code, and the decision refers it again (with a proposal to review).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import polars as pl
from live_site import PASSWORD, Site
from sqlalchemy import create_engine, text

from puhui.market import store

SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]
ATTEMPTS = 40


@dataclass(frozen=True)
class Referral:
    application_id: str
    application_no: str


def _staff_token(client: httpx.Client, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _owner_token(client: httpx.Client, site: Site, phone: str) -> dict[str, str]:
    client.post("/api/v1/auth/otp", json={"phone": phone}).raise_for_status()
    answer = client.post(
        "/api/v1/auth/otp/verify", json={"phone": phone, "code": site.sender.last_code(phone)}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _reviewed_before(site: Site) -> list[str]:
    """Enterprises whose application an approver decided in the demo, newest first."""
    engine = create_engine(site.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT uscc FROM origination_applications WHERE reviewed_by IS NOT NULL"
                    " ORDER BY created_at DESC"
                )
            ).all()
    finally:
        engine.dispose()
    return [str(r[0]) for r in rows]


def _market_identity(site: Site, usccs: list[str]) -> dict[str, dict[str, Any]]:
    frame = (
        store.scan(site.market_dir, "applications")
        .join(pl.LazyFrame({"uscc": usccs}).unique(), on="uscc")
        .sort("application_date", descending=True)
        .unique("uscc", keep="first")
        .collect()
    )
    return {str(r["uscc"]): r for r in frame.iter_rows(named=True)}


def make_referral(site: Site) -> Referral:
    """A new application taken by "manager" that the platform refers to an approver."""
    usccs = _reviewed_before(site)
    identities = _market_identity(site, usccs)
    with httpx.Client(base_url=site.base_url, timeout=60) as client:
        manager = _staff_token(client, "manager")
        for uscc in usccs[:ATTEMPTS]:
            who = identities.get(uscc)
            if who is None:
                continue
            created = client.post(
                "/api/v1/applications",
                json={
                    "uscc": uscc,
                    "id_number": who["legal_rep_id_number"],
                    "phone": who["phone"],
                    "requested_amount_fen": int(who["requested_amount_fen"]),
                    "requested_term_months": int(who["requested_term_months"]),
                },
                headers=manager,
            )
            if created.status_code != 201:
                continue
            app_id = created.json()["application_id"]
            owner = _owner_token(client, site, str(who["phone"]))
            client.post(
                f"/api/v1/applications/{app_id}/consents",
                json={"scopes": SCOPES, "purpose": "online MSE credit application"},
                headers=owner,
            ).raise_for_status()
            decided = client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
            body = decided.json()
            proposal = (body.get("decision") or {}).get("limit_fen")
            if body.get("status") == "referred" and proposal:
                return Referral(app_id, str(created.json()["application_no"]))
    raise AssertionError("no enterprise of the demo book was referred again")
