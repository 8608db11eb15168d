"""One chunk of enterprise slots simulated month by month into every table of the market.

The stages live in ``puhui.market.simulation``, one module per concern. Each is a function
that takes the values it needs and returns new, immutable ones; this module only wires them
together, so the order below follows the data and nothing else.
"""

from __future__ import annotations

import polars as pl

from puhui.market import schema
from puhui.market.params import MarketParams
from puhui.market.simulation.activity import activity
from puhui.market.simulation.applications import applications
from puhui.market.simulation.bureau import bureau_table, hard_enquiries, other_lenders
from puhui.market.simulation.contagion import contagion, contagion_events_table
from puhui.market.simulation.context import BURN_IN_MONTHS, Calendar, ChunkContext
from puhui.market.simulation.court import court_cases_table
from puhui.market.simulation.demand import demand
from puhui.market.simulation.environment import (
    environment,
    environment_truth_table,
    environmental_penalties_table,
)
from puhui.market.simulation.factors import common_factors
from puhui.market.simulation.frames import empty
from puhui.market.simulation.fund_use import draw_use
from puhui.market.simulation.guarantees import guarantees_table
from puhui.market.simulation.identity import identity, monthly_rows
from puhui.market.simulation.invoices import invoices_table
from puhui.market.simulation.latent import latent_path
from puhui.market.simulation.legacy_loans import legacy_grants, loan_history_table
from puhui.market.simulation.owners import owners_table
from puhui.market.simulation.registry import enterprises_table
from puhui.market.simulation.round_trips import round_trips
from puhui.market.simulation.settlement import account_flows, settlement_table
from puhui.market.simulation.tax import tax_credit_grades, tax_table
from puhui.market.simulation.truth import (
    enterprises_truth_table,
    macro_table,
    monthly_truth_table,
)
from puhui.market.simulation.utilities import utilities_table

__all__ = ["BURN_IN_MONTHS", "Calendar", "simulate_chunk"]


def simulate_chunk(params: MarketParams, first_slot: int, end_slot: int) -> dict[str, pl.DataFrame]:
    """Every table's rows for enterprise slots [first_slot, end_slot). Pure: same inputs,
    same rows."""
    ctx = ChunkContext.for_slots(params, first_slot, end_slot)
    factors = common_factors(params)
    spread = contagion(ctx, factors)
    latent = latent_path(ctx, factors, spread.shock)
    trips = round_trips(ctx, factors)
    ids = identity(ctx)
    rows = monthly_rows(ctx, latent, ids)
    business = activity(ctx, latent)
    grade = tax_credit_grades(ctx, latent)
    flows = account_flows(ctx, latent, business)
    lenders = other_lenders(ctx, latent)
    needs = demand(ctx, latent, ids)
    apps = applications(ctx, latent, ids, needs.applied)
    enquiries = hard_enquiries(ctx, lenders, apps.enterprise, apps.month)
    grants = legacy_grants(ctx, apps=apps, grade=grade, lenders=lenders)
    use = draw_use(
        ctx, latent=latent, ids=ids, apps=apps, grants=grants, flows=flows, lenders=lenders
    )
    env = environment(ctx)
    tables = {
        "enterprises": enterprises_table(ctx, latent, ids),
        "owners": owners_table(ctx, latent.registered),
        "tax_monthly": tax_table(ctx, latent, business, grade, rows),
        "utilities_monthly": utilities_table(ctx, latent, business, rows),
        "settlement_monthly": settlement_table(ctx, business, flows, rows),
        "bureau": bureau_table(lenders, enquiries, rows),
        "need_events": needs.truth,
        "applications": apps.frame,
        "applications_truth": apps.truth,
        "loan_history": loan_history_table(
            ctx,
            latent=latent,
            ids=ids,
            apps=apps,
            grants=grants,
            cash_available_fen=flows.cash_available_fen,
        ),
        "draw_outflows": use.outflows,
        "court_cases": court_cases_table(ctx, latent, ids),
        "invoices": invoices_table(ctx, latent, business, ids, trips),
        "guarantees": guarantees_table(ctx, ids),
        "enterprises_truth": enterprises_truth_table(ctx, latent, ids, trips),
        "contagion_events": contagion_events_table(ctx, latent, spread, ids),
        "draw_use_truth": use.truth,
        "monthly_truth": monthly_truth_table(latent, flows.cash_available_fen, rows),
        # The macro factors are the same for every chunk: the first chunk writes them.
        "macro": macro_table(ctx, factors) if first_slot == 0 else empty(schema.TRUTH_MACRO),
        "environmental_penalties": environmental_penalties_table(ctx, latent, ids, env),
        "environment_truth": environment_truth_table(ctx, latent, ids, env),
    }
    return {
        name: frame.select(schema.TABLES[name].column_names).cast(
            schema.TABLES[name].polars_schema()  # type: ignore[arg-type]
        )
        for name, frame in tables.items()
    }
