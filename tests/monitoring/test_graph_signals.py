"""The relationship graph's monitoring signals on hand-made data: the graph inputs of a month
and the shipped trigger rules over them."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.decision.triggers import load_shipped_triggers
from puhui.pipelines.monitoring_inputs import INPUT_SCHEMA, graph_inputs
from puhui.risk.features import MarketTables

MAY, JUNE, JULY = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)


def tables() -> MarketTables:
    """A circle A -> B -> C -> A (each guarantees the next, 1 million yuan each); E sells 80 %
    to F and 20 % to G; H sells to F 10 % of its sales. C goes 95 days past due at another
    lender in June, F is listed as a dishonest debtor in June."""
    return MarketTables(
        {
            "guarantees": pl.DataFrame(
                {
                    "guarantor_uscc": ["A", "B", "C"],
                    "borrower_uscc": ["B", "C", "A"],
                    "start_month": [date(2023, 1, 1)] * 3,
                    "amount_fen": [100_000_000] * 3,
                }
            ).lazy(),
            "invoices": pl.DataFrame(
                {
                    "seller_uscc": ["E", "E", "H", "H"],
                    "buyer_uscc": ["F", "G", "F", "G"],
                    "month": [date(2024, 3, 1)] * 4,
                    "amount_fen": [800_000, 200_000, 100_000, 900_000],
                }
            ).lazy(),
            "bureau": pl.DataFrame(
                {
                    "uscc": ["C", "C", "C"],
                    "month": [MAY, JUNE, JULY],
                    "max_days_past_due": [0, 95, 125],
                    "overdue_loans": [0, 1, 1],
                }
            ).lazy(),
            "court_cases": pl.DataFrame(
                {
                    "uscc": ["F"],
                    "month": [JUNE],
                    "event": ["dishonest_listed"],
                    "role": ["defendant"],
                }
            ).lazy(),
        }
    )


def signals(month: date, behavioural_pd: float) -> dict[str, list[str]]:
    inputs = graph_inputs(tables(), month).with_columns(
        pl.lit(behavioural_pd).alias("behavioural_pd")
    )
    hits = load_shipped_triggers().evaluate_frame(inputs)
    grouped = hits.group_by("customer_id", maintain_order=True).agg("code")
    return dict(grouped.iter_rows())


def test_graph_inputs_are_typed_as_the_trigger_document_declares() -> None:
    frame = graph_inputs(tables(), JUNE)
    assert frame.columns[0] == "customer_id"
    assert {c: frame.schema[c] for c in frame.columns[1:]} == {
        c: INPUT_SCHEMA[c] for c in frame.columns[1:]
    }


def test_a_defaulting_neighbour_raises_the_graph_signals_in_its_month() -> None:
    fired = signals(JUNE, behavioural_pd=0.03)
    assert fired["B"] == ["GUARANTEE_CALLED", "CIRCLE_UNDER_STRESS", "CONTAGION_HIGH"]
    assert fired["A"] == ["CIRCLE_UNDER_STRESS", "CONTAGION_HIGH"]
    assert fired["E"] == ["TRADE_PARTNER_DEFAULT", "CONTAGION_HIGH"]
    assert "H" not in fired  # F buys only 10 % of H's sales: not a main partner
    assert "C" not in fired  # its own default is not contagion (other rules see it)


def test_the_corroborated_graph_signals_wait_for_the_behavioural_pd() -> None:
    fired = signals(JUNE, behavioural_pd=0.01)
    assert fired["B"] == ["GUARANTEE_CALLED", "CIRCLE_UNDER_STRESS"]
    assert fired["A"] == ["CIRCLE_UNDER_STRESS"]
    assert "E" not in fired


def test_a_default_is_an_event_once_and_nothing_fires_before_it() -> None:
    assert signals(MAY, behavioural_pd=0.15) == {}
    july = signals(JULY, behavioural_pd=0.03)
    # The circle stays under stress while C is in default; the default itself is June's news.
    assert july["B"] == ["CIRCLE_UNDER_STRESS", "CONTAGION_HIGH"]
    assert july["E"] == ["CONTAGION_HIGH"]
