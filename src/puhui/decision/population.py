"""A small synthetic population of stored decision inputs, for backtests, tests and benchmarks.

Not the market simulator: just enough structure (a latent risk that drives the PD and the
observable inputs together) for a backtest to show sensible differences between strategies.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import polars as pl

SEGMENTS = ("manufacturing", "wholesale_retail", "services", "agriculture", "construction")
_SEGMENT_RISK = {
    "manufacturing": 0.0,
    "wholesale_retail": 0.15,
    "services": 0.1,
    "agriculture": 0.3,
    "construction": 0.45,
}
_TAX_GRADES = ("A", "B", "M", "C", "D")


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def generate_applicant(rng: random.Random, index: int) -> dict[str, Any]:
    """One applicant's stored inputs, model outputs and segment."""
    segment = rng.choice(SEGMENTS)
    risk = rng.gauss(0.0, 1.0) + _SEGMENT_RISK[segment]
    monthly_sales_yuan = math.exp(rng.gauss(11.8, 1.0))  # median ~130k yuan a month
    sales_fen = int(monthly_sales_yuan * 100)
    has_tax = rng.random() < 0.9
    tax_fen = int(sales_fen * rng.uniform(0.01, 0.04)) if has_tax else None
    requested_fen = int(monthly_sales_yuan * rng.uniform(0.5, 6.0)) * 100 // 100_000 * 100_000
    requested_fen = max(requested_fen, 1_000_000)
    grade_draw = rng.random() + 0.12 * risk
    tax_grade = _TAX_GRADES[
        0
        if grade_draw < 0.35
        else 1
        if grade_draw < 0.8
        else 2
        if grade_draw < 0.9
        else 3
        if grade_draw < 0.97
        else 4
    ]
    pd = min(0.95, _logistic(-4.2 + 1.1 * risk + (0.3 if tax_grade in "CD" else 0.0)))
    score = round(600 - 50 * math.log2(pd / (1 - pd) / (1 / 50)), 1)  # 600 points at 1:50 odds
    return {
        "applicant_id": f"app_{index:08d}",
        "segment": segment,
        "requested_amount_fen": requested_fen,
        "requested_term_months": rng.choice((6, 12, 12, 12, 24, 36)),
        "need_estimate_fen": (
            int(requested_fen * rng.uniform(0.6, 1.5)) // 100 * 100 if rng.random() < 0.6 else None
        ),
        "verified_monthly_sales_fen": sales_fen if rng.random() < 0.95 else None,
        "verified_monthly_tax_fen": tax_fen,
        "concentration_headroom_fen": rng.choice((None, None, 50_000_000_000, 20_000_000)),
        "enterprise_age_months": max(1, int(rng.expovariate(1 / 60))),
        "owner_age_years": int(rng.uniform(20, 70)),
        "tax_grade": tax_grade,
        "tax_filing_gap_months": max(0, int(rng.expovariate(1.5) + 0.5 * max(risk, 0))),
        "sales_growth_12m": round(rng.gauss(0.05 - 0.1 * risk, 0.2), 4),
        "overdue_count_24m": int(max(0.0, rng.gauss(0.4 * (risk + 0.5), 1.0))),
        "current_overdue_count": 1 if rng.random() < _logistic(-4 + risk) else 0,
        "court_cases_open": 1 if rng.random() < _logistic(-3.5 + 0.5 * risk) else 0,
        "blacklisted": rng.random() < 0.01,
        "industry_restricted": rng.random() < 0.03,
        "abnormal_operation_listed": rng.random() < _logistic(-4 + 0.7 * risk),
        "shared_contact_count": int(rng.expovariate(1.2)),
        "applications_30d": int(rng.expovariate(0.5)),
        "invoice_round_trip_ratio": round(min(1.0, rng.expovariate(25)), 4),
        "pd": round(pd, 6),
        "score": score,
        "model_version": "mse_pd:synthetic-1",
    }


def generate_population(size: int, *, seed: int = 42) -> pl.DataFrame:
    """``size`` applicants, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    rows = [generate_applicant(rng, i) for i in range(size)]
    schema = {
        "applicant_id": pl.Utf8,
        "segment": pl.Utf8,
        "requested_amount_fen": pl.Int64,
        "requested_term_months": pl.Int64,
        "need_estimate_fen": pl.Int64,
        "verified_monthly_sales_fen": pl.Int64,
        "verified_monthly_tax_fen": pl.Int64,
        "concentration_headroom_fen": pl.Int64,
        "enterprise_age_months": pl.Int64,
        "owner_age_years": pl.Int64,
        "tax_grade": pl.Utf8,
        "tax_filing_gap_months": pl.Int64,
        "sales_growth_12m": pl.Float64,
        "overdue_count_24m": pl.Int64,
        "current_overdue_count": pl.Int64,
        "court_cases_open": pl.Int64,
        "blacklisted": pl.Boolean,
        "industry_restricted": pl.Boolean,
        "abnormal_operation_listed": pl.Boolean,
        "shared_contact_count": pl.Int64,
        "applications_30d": pl.Int64,
        "invoice_round_trip_ratio": pl.Float64,
        "pd": pl.Float64,
        "score": pl.Float64,
        "model_version": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def write_population(path: Path, size: int, *, seed: int = 42) -> Path:
    generate_population(size, seed=seed).write_parquet(path)
    return path
