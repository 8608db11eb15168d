"""Graph features for the default model: point in time, on hand-made data and on a small
generated market, and the market training path with them (``augment``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.graph.distress import contagion
from puhui.graph.features import (
    GRAPH_FEATURE_NAMES,
    GRAPH_MONOTONE_RISK,
    graph_features,
    month_facts,
    with_graph_features,
)
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.artefact import ModelKind
from puhui.risk.features import MarketTables, labelled_dataset
from puhui.risk.market_training import train_on_market
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame

MAY, JUNE, JULY = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)


def hand_made() -> dict[str, pl.LazyFrame]:
    """A circle A -> B -> C -> A (each guarantees the next), D guaranteeing A from outside;
    E selling 80 % to F and 20 % to G. C goes 95 days past due elsewhere in June; F is listed
    as a dishonest debtor in June."""
    guarantees = pl.DataFrame(
        {
            "guarantor_uscc": ["A", "B", "C", "D"],
            "borrower_uscc": ["B", "C", "A", "A"],
            "start_month": [date(2023, 1, 1)] * 4,
            "amount_fen": [100_000_000, 100_000_000, 100_000_000, 50_000_000],
        }
    )
    invoices = pl.DataFrame(
        {
            "seller_uscc": ["E", "E", "E"],
            "buyer_uscc": ["F", "G", "F"],
            "month": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 4, 1)],
            "amount_fen": [400_000, 200_000, 400_000],
        }
    )
    bureau = pl.DataFrame(
        {
            "uscc": ["C", "C", "C"],
            "month": [MAY, JUNE, JULY],
            "max_days_past_due": [0, 95, 125],
            "overdue_loans": [0, 1, 1],
        }
    )
    court = pl.DataFrame(
        {"uscc": ["F"], "month": [JUNE], "event": ["dishonest_listed"], "role": ["defendant"]}
    )
    return {
        "guarantees": guarantees.lazy(),
        "invoices": invoices.lazy(),
        "bureau": bureau.lazy(),
        "court_cases": court.lazy(),
    }


def facts_of(frames: dict[str, pl.LazyFrame], month: date) -> dict[str, dict[str, object]]:
    return {row["uscc"]: row for row in month_facts(frames, month).iter_rows(named=True)}


def test_a_guarantors_default_reaches_its_borrower_and_the_firm_that_guarantees_it() -> None:
    june = facts_of(hand_made(), JUNE)
    assert june["C"]["in_default"] is True
    assert june["A"]["guarantor_in_default"] is True  # C guarantees A
    assert june["A"]["guarantors_in_distress"] == 1
    assert june["B"]["guaranteed_defaulted"] is True  # B guarantees C: it may be called
    assert june["D"]["guaranteed_defaulted"] is False  # D guarantees A, who is fine


def test_the_circle_is_the_strongly_connected_part_with_its_exposure() -> None:
    june = facts_of(hand_made(), JUNE)
    assert {u: june[u]["guarantee_circle"] for u in "ABCD"} == {
        "A": "A",
        "B": "A",
        "C": "A",
        "D": None,
    }
    assert june["A"]["circle_size"] == 3
    assert june["A"]["circle_exposure_fen"] == 300_000_000  # D's guarantee is outside
    # The other members' distress: C's own default is not contagion for C.
    assert june["A"]["circle_distressed_share"] == 0.5
    assert june["C"]["circle_distressed_share"] == 0.0


def test_a_main_buyers_default_is_an_event_of_its_month() -> None:
    frames = hand_made()
    june, july = facts_of(frames, JUNE), facts_of(frames, JULY)
    assert june["E"]["buyers_distressed_share"] == pytest.approx(0.8)
    assert june["E"]["main_partner_defaulted"] is True
    # In July F is still listed (in default) but no longer newly so.
    assert july["E"]["main_partner_in_default"] is True
    assert july["E"]["main_partner_defaulted"] is False
    assert june["G"]["main_partner_defaulted"] is False  # G trades with E only


def test_contagion_passes_on_halved_for_three_rounds() -> None:
    # X distressed; Y takes 0.4 of X's distress, Z 0.5 of Y's: Y = 0.4, Z = 0.5 * (0.4 / 2).
    edges = pl.DataFrame({"u": ["X", "Y"], "v": ["Y", "Z"], "w": [0.4, 0.5]})
    scores = dict(contagion(edges, pl.Series(["X"])).iter_rows())
    assert scores == pytest.approx({"Y": 0.4, "Z": 0.1})


def test_the_contagion_score_reaches_guarantee_and_trade_partners_and_stays_in_bounds() -> None:
    june = facts_of(hand_made(), JUNE)
    # A guarantor without sales would pay the whole guarantee: B takes all of C's distress.
    assert june["B"]["contagion_score"] == pytest.approx(1.0, abs=1e-5)
    assert june["E"]["contagion_score"] >= 0.8  # F takes 80 % of E's sales  # type: ignore[operator]
    assert 0.3 <= june["A"]["contagion_score"] < 1.0  # type: ignore[operator]
    assert all(0.0 <= row["contagion_score"] <= 1.0 for row in june.values())  # type: ignore[operator]


def test_the_facts_of_a_month_ignore_the_month_after() -> None:
    may = facts_of(hand_made(), MAY)
    assert may["A"]["guarantor_in_default"] is False
    assert may["A"]["circle_distressed_share"] == 0.0
    assert may["E"]["main_partner_distressed"] is False
    assert may["A"]["contagion_score"] == 0.0


def test_a_sample_takes_the_graph_of_the_month_before_origination() -> None:
    sample = pl.DataFrame(
        {"uscc": ["A", "A", "Z"], "origination_month": [JUNE, JULY, JULY], "bad": [0, 1, 0]}
    )
    joined = with_graph_features(hand_made(), sample).sort("origination_month", "uscc")
    rows = joined.select("uscc", "origination_month", "graph_guarantors_distressed").rows()
    # June's loan reads May's graph (C not yet in default), July's reads June's.
    assert rows == [("A", JUNE, 0.0), ("A", JULY, 1.0), ("Z", JULY, 0.0)]
    assert joined.select(pl.col(GRAPH_FEATURE_NAMES).null_count().sum()).row(0) == (0,) * len(
        GRAPH_FEATURE_NAMES
    )


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graph-market") / "market"
    generate_market(MarketParams(enterprises=2500, months=30, start=date(2022, 1, 1), seed=5), out)
    return out


def _cut(frames: dict[str, pl.LazyFrame], month: date) -> dict[str, pl.LazyFrame]:
    """The tables as they stood at the end of ``month``."""
    cut: dict[str, pl.LazyFrame] = {}
    for name, frame in frames.items():
        column = "start_month" if name == "guarantees" else "month"
        if column in frame.collect_schema().names():
            cut[name] = frame.filter(pl.col(column) <= month)
        else:
            cut[name] = frame
    return cut


def test_graph_features_of_a_month_read_nothing_after_it(market: Path) -> None:
    frames = dict(MarketTables.from_dir(market, optional=("guarantees",)).frames)
    month = date(2023, 6, 1)
    full = graph_features(frames, [month])
    assert full.height > 1000
    assert full.equals(graph_features(_cut(frames, month), [month]))
    # ... and the check could fail: the month before cuts data the month reads.
    assert not full.equals(graph_features(_cut(frames, date(2023, 5, 1)), [month]))


def test_the_default_model_trains_and_scores_with_graph_features(market: Path) -> None:
    tables = MarketTables.from_dir(market, optional=("guarantees",))
    as_of = date(2024, 6, 1)
    trained = train_on_market(
        market,
        as_of,
        ModelKind.GBM,
        trained_at=datetime(2026, 1, 1, tzinfo=UTC),
        augment=lambda sample: with_graph_features(tables.frames, sample),
        augment_monotone=GRAPH_MONOTONE_RISK,
    )
    assert set(GRAPH_FEATURE_NAMES) <= set(trained.sample.columns)
    used = set(trained.artefact.model.feature_names) & set(GRAPH_FEATURE_NAMES)
    assert "graph_partners" in used
    held_out = with_graph_features(tables.frames, labelled_dataset(tables, as_of))
    scorer = scorer_for(trained.artefact.model)
    pd = scorer.predict_pd(scorer.matrix(scoring_frame(trained.artefact, held_out)))
    assert len(pd) == held_out.height
    assert ((pd > 0.0) & (pd < 1.0)).all()
