"""A small random book written straight into the tables, and the figures computed from it in
Python: what the reporting aggregates must equal."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert

from puhui.adapters.db.origination.tables import applications, decision_records
from puhui.adapters.db.servicing.tables import (
    category_history,
    credit_lines,
    eod_runs,
    loan_products,
    loans,
)
from puhui.domain.clock import BANK_ZONE

PRODUCTS = ("prod_a", "prod_b")


def category_of(dpd: int) -> str:
    if dpd > 360:
        return "loss"
    if dpd > 270:
        return "doubtful"
    if dpd > 90:
        return "substandard"
    if dpd > 0:
        return "special-mention"
    return "pass"


def bucket_of(dpd: int) -> str:
    for upper, name in ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90")):
        if dpd <= upper:
            return name
    return "90+"


def month_key(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass
class Book:
    as_of: date
    lines: list[dict[str, Any]] = field(default_factory=list)
    loans: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)


def _loan(rng: random.Random, i: int, line: dict[str, Any], as_of: date) -> dict[str, Any]:
    disbursed = as_of - timedelta(days=rng.randrange(0, 800))
    status = rng.choices(["active", "closed", "written_off"], [85, 10, 5])[0]
    dpd = 0 if rng.random() < 0.55 else rng.randrange(1, 420)
    dpd = min(dpd, (as_of - disbursed).days)
    principal = rng.randrange(10_000_00, 500_000_00)
    outstanding = 0 if status != "active" else rng.randrange(1, principal)
    non_accrual = dpd > 90
    # Accrued figures the end of day can price on from: past 90 DPD they sit in the memo.
    accrued = 0 if non_accrual else 1
    return {
        "loan_id": f"rcpt_{i:06d}",
        "line_id": line["line_id"],
        "product_id": line["product_id"],
        "enterprise_id": line["enterprise_id"],
        "annual_rate": "0.06",
        "rate_e8": 6_000_000,
        "penalty_rate_e8": 9_000_000,
        "year_days": 360,
        "half_even": False,
        "grace_days": 0,
        "settlement_day": 20,
        "non_accrual_days": 90,
        "disbursed_on": disbursed,
        "maturity_date": as_of + timedelta(days=rng.randrange(30, 300)),
        "principal_fen": principal,
        "kind": "receipt",
        "method": "daily-revolving",
        "current_period": 0,
        "next_due_date": None,
        "period_interest_fen": 0,
        "period_principal_fen": 0,
        "period_days": 1,
        "period_days_elapsed": 0,
        "billed_principal_fen": 0,
        "status": status,
        "outstanding_principal_fen": outstanding,
        "overdue_principal_fen": outstanding if dpd > 0 else 0,
        "interest_accum_fen_days": 0,
        "interest_accrued_fen": accrued * rng.randrange(0, 5_000),
        "penalty_accum_fen_days": 0,
        "penalty_accrued_fen": accrued * rng.randrange(0, 2_000),
        "compound_accum_fen_days": 0,
        "compound_accrued_fen": accrued * rng.randrange(0, 500),
        "interest_billed_fen": 0,
        "penalty_billed_fen": 0,
        "compound_billed_fen": 0,
        "billed_due_on": None,
        "overdue_interest_fen": 0,
        "memo_interest_fen": rng.randrange(0, 3_000) if non_accrual else 0,
        "memo_penalty_fen": rng.randrange(0, 1_000) if non_accrual else 0,
        "overdue_since": as_of - timedelta(days=dpd - 1) if dpd else None,
        "days_past_due": dpd,
        "category": category_of(dpd),
        "non_accrual": non_accrual,
        "accrued_through": as_of,
        "written_off_fen": 0,
        "recovered_fen": 0,
        "closed_on": None,
        "version": 1,
    }


def make_book(as_of: date, seed: int = 11) -> Book:
    rng = random.Random(seed)
    book = Book(as_of=as_of)
    for i in range(40):
        limit = rng.randrange(100_000_00, 2_000_000_00)
        book.lines.append(
            {
                "line_id": f"line_{i:04d}",
                "enterprise_id": f"E{i:05d}",
                "product_id": PRODUCTS[i % 2],
                "annual_rate": "0.06",
                "limit_fen": limit,
                "drawn_fen": rng.randrange(0, limit + 200_000_00),
                "opened_on": as_of - timedelta(days=900),
                "expiry_date": as_of + timedelta(days=rng.randrange(-60, 300)),
                "status": "frozen" if rng.random() < 0.15 else "active",
                "version": 1,
            }
        )
    for i in range(90):
        book.loans.append(_loan(rng, i, book.lines[i % len(book.lines)], as_of))
    # Cured episodes: loans once 次级 or worse, now current, known from history alone.
    for loan in rng.sample([x for x in book.loans if x["days_past_due"] == 0], 6):
        earliest = loan["disbursed_on"] + timedelta(days=95)
        if earliest < as_of:
            changed = earliest + timedelta(days=rng.randrange(0, (as_of - earliest).days + 1))
            book.history.append(
                {
                    "loan_id": loan["loan_id"],
                    "changed_on": changed,
                    "from_category": "special-mention",
                    "to_category": "substandard",
                    "days_past_due": 91,
                }
            )
    day_start = datetime.combine(as_of, time(), BANK_ZONE).astimezone(UTC)
    for i in range(70):
        # Around both ends of the business day, so the zone's midnight matters.
        created = day_start + timedelta(minutes=rng.randrange(-600, 24 * 60 + 600))
        line = book.lines[i] if i < len(book.lines) else None
        book.applications.append(
            {
                "application_id": f"app_{i:05d}",
                "application_no": f"NO{i:08d}",
                "uscc": f"9135010000000{i:05d}",
                "open_uscc": None,
                "id_number_enc": "x",
                "id_number_index": "x",
                "phone_enc": "x",
                "phone_index": "x",
                "status": "declined",
                "partner_id": "p1" if rng.random() < 0.3 else None,
                "account_manager_id": "am1" if rng.random() < 0.4 else None,
                "credit_line_id": None if line is None else line["line_id"],
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        if line is not None or rng.random() < 0.6:
            pd = None if rng.random() < 0.1 else f"0.{rng.randrange(1, 2000):04d}"
            book.decisions.append(
                {
                    "application_id": f"app_{i:05d}",
                    "decided_at": created,
                    "as_of": as_of + timedelta(days=rng.randrange(-1, 2)),
                    "strategy_name": "s",
                    "strategy_version": 1,
                    "arm": "champion",
                    "outcome": rng.choice(["approve", "decline", "refer"]),
                    "feature_source": "online",
                    "record_json": json.dumps({"pd": pd, "outcome": "x"}),
                }
            )
    return book


def write_book(engine: Engine, book: Book) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for product_id in PRODUCTS:
            connection.execute(
                insert(loan_products).values(
                    product_id=product_id,
                    code=product_id.upper(),
                    name=product_id,
                    method="daily-revolving",
                    min_annual_rate="0.03",
                    max_annual_rate="0.18",
                    min_term_months=1,
                    max_term_months=12,
                    min_amount_fen=100_00,
                    max_amount_fen=10_000_000_00,
                    basis="act/360",
                    rounding="half-up",
                    penalty_uplift="0.5",
                    grace_days=0,
                    waterfall="penalty,compound,interest,principal",
                    settlement_day=20,
                    early_repayment="reduce-instalment",
                    created_at=now,
                )
            )
        connection.execute(insert(credit_lines), book.lines)
        connection.execute(insert(loans), book.loans)
        if book.history:
            connection.execute(insert(category_history), book.history)
        connection.execute(insert(applications), book.applications)
        connection.execute(insert(decision_records), book.decisions)


def close_day(engine: Engine, day: date) -> None:
    """Record the day's end of day as completed (the book above is that day's)."""
    at = datetime.combine(day, time(20), UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(eod_runs).values(as_of=day, status="completed", started_at=at, finished_at=at)
        )


# --- the figures, computed directly ------------------------------------------------------


def expected_products(book: Book) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(Counter)  # type: ignore[arg-type]
    for loan in book.loans:
        if loan["status"] != "active":
            continue
        p = out[loan["product_id"]]
        p["loans_active"] += 1
        p["outstanding_principal_fen"] += loan["outstanding_principal_fen"]
        p["overdue_principal_fen"] += loan["overdue_principal_fen"]
        p["interest_receivable_fen"] += loan["interest_accrued_fen"] + loan["interest_billed_fen"]
        p["penalty_receivable_fen"] += (
            loan["penalty_accrued_fen"]
            + loan["penalty_billed_fen"]
            + loan["compound_accrued_fen"]
            + loan["compound_billed_fen"]
        )
        if loan["non_accrual"]:
            p["non_accrual_interest_fen"] += loan["memo_interest_fen"] + loan["memo_penalty_fen"]
    for line in book.lines:
        p = out[line["product_id"]]
        p["drawn_fen"] += line["drawn_fen"]
        if line["expiry_date"] >= book.as_of:
            p["lines_open"] += 1
            p["limit_fen"] += line["limit_fen"]
            if line["status"] == "frozen":
                p["lines_frozen"] += 1
            else:
                p["available_fen"] += max(0, line["limit_fen"] - line["drawn_fen"])
    return {k: dict(v) for k, v in out.items()}


def expected_split(book: Book, key: Any) -> dict[str, tuple[int, int]]:
    split: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for loan in book.loans:
        if loan["status"] == "active":
            cell = split[key(loan)]
            cell[0] += 1
            cell[1] += loan["outstanding_principal_fen"]
    return {k: (v[0], v[1]) for k, v in split.items()}


def first_bad(book: Book) -> dict[str, tuple[date | None, date | None]]:
    """When each loan was first more than 30 and more than 90 days past due."""
    first90: dict[str, date] = {}
    for h in book.history:
        if h["to_category"] in ("substandard", "doubtful", "loss"):
            known = first90.get(h["loan_id"])
            first90[h["loan_id"]] = min(h["changed_on"], known or h["changed_on"])
    out: dict[str, tuple[date | None, date | None]] = {}
    for loan in book.loans:
        lid, dpd, since = loan["loan_id"], loan["days_past_due"], loan["overdue_since"]
        if lid in first90:
            out[lid] = (first90[lid] - timedelta(days=60), first90[lid])
        elif dpd > 30:
            out[lid] = (
                since + timedelta(days=30),
                since + timedelta(days=90) if dpd > 90 else None,
            )
    return out


def expected_vintages(book: Book) -> dict[date, dict[str, Any]]:
    bad = first_bad(book)
    line_pd: dict[str, int] = {}
    by_app = {d["application_id"]: d for d in book.decisions}
    for app in book.applications:
        decision = by_app.get(app["application_id"])
        if app["credit_line_id"] and decision:
            pd = json.loads(decision["record_json"])["pd"]
            if pd is not None:
                line_pd[app["credit_line_id"]] = int(Decimal(pd) * 1_000_000)
    last = month_key(book.as_of)
    vintages: dict[date, dict[str, Any]] = {}
    for loan in book.loans:
        key = month_key(loan["disbursed_on"])
        if key < last - 35:
            continue
        v = vintages.setdefault(
            date(key // 12, key % 12 + 1, 1),
            {"loans": [], "pds": [], "max_mob": last - key},
        )
        v["loans"].append(loan)
        if loan["line_id"] in line_pd:
            v["pds"].append(line_pd[loan["line_id"]])
    for v in vintages.values():
        curve = []
        for mob in range(v["max_mob"] + 1):
            counts = [0, 0, 0, 0]
            for loan in v["loans"]:
                b30, b90 = bad.get(loan["loan_id"], (None, None))
                vintage_key = month_key(loan["disbursed_on"])
                for i, on in ((0, b30), (2, b90)):
                    if on is not None and month_key(on) - vintage_key <= mob:
                        counts[i] += 1
                        counts[i + 1] += loan["principal_fen"]
            curve.append(tuple(counts))
        v["curve"] = curve
    return vintages


def derived_channel(app: dict[str, Any]) -> str:
    if app["partner_id"] is not None:
        return "partner"
    if app["account_manager_id"] is not None:
        return "branch"
    return "qr"


def expected_origination(book: Book, day: date, group: Any) -> dict[str, Counter[str]]:
    start = datetime.combine(day, time(), BANK_ZONE)
    end = start + timedelta(days=1)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    by_id = {a["application_id"]: a for a in book.applications}
    for app in book.applications:
        if start <= app["created_at"] < end:
            out[group(app)]["applications"] += 1
    outcome_name = {"approve": "approved", "decline": "declined", "refer": "referred"}
    for d in book.decisions:
        if d["as_of"] == day:
            cell = out[group(by_id[d["application_id"]])]
            cell["decided"] += 1
            cell[outcome_name[d["outcome"]]] += 1
    return out
