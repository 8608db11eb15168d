"""Hypothesis strategies of applicants: every input the shipped strategy declares, any value."""

from __future__ import annotations

from hypothesis import strategies as st

fen = st.integers(min_value=0, max_value=5_000_000_000)
maybe_fen = st.none() | fen
applicants = st.fixed_dictionaries(
    {
        "requested_amount_fen": fen,
        "requested_term_months": st.none() | st.integers(min_value=1, max_value=60),
        "need_estimate_fen": maybe_fen,
        "verified_monthly_sales_fen": maybe_fen,
        "verified_monthly_tax_fen": maybe_fen,
        "concentration_headroom_fen": maybe_fen,
        "enterprise_age_months": st.integers(min_value=0, max_value=600),
        "owner_age_years": st.integers(min_value=16, max_value=80),
        "tax_grade": st.sampled_from(["A", "B", "M", "C", "D"]),
        "tax_filing_gap_months": st.none() | st.integers(min_value=0, max_value=12),
        "sales_growth_12m": st.none() | st.floats(min_value=-1, max_value=5),
        "overdue_count_24m": st.none() | st.integers(min_value=0, max_value=10),
        "current_overdue_count": st.none() | st.integers(min_value=0, max_value=3),
        "court_cases_open": st.none() | st.integers(min_value=0, max_value=3),
        "blacklisted": st.none() | st.booleans(),
        "industry_restricted": st.none() | st.booleans(),
        "abnormal_operation_listed": st.none() | st.booleans(),
        "shared_contact_count": st.none() | st.integers(min_value=0, max_value=10),
        "applications_30d": st.none() | st.integers(min_value=0, max_value=20),
        "invoice_round_trip_ratio": st.none() | st.floats(min_value=0, max_value=1),
    }
)
