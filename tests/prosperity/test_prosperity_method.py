"""The diffusion method on hand-made frames: exact indices, the festival window, suppression."""

from __future__ import annotations

import random
from datetime import date
from fractions import Fraction

import polars as pl
import pytest

from puhui.pipelines.prosperity.method import cell_indices, enterprise_scores


def _panel(rows: list[tuple[str, date, str, int]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        rows,
        schema={"uscc": pl.String, "month": pl.Date, "component": pl.String, "value": pl.Int64},
        orient="row",
    )


def _cells(*uscc: str, industry: str = "retail", region: str = "330100") -> pl.LazyFrame:
    return pl.LazyFrame({"uscc": list(uscc), "industry": industry, "region": region})


def _index(panel: pl.LazyFrame, cells: pl.LazyFrame, *, min_cell: int = 1) -> pl.DataFrame:
    return cell_indices(enterprise_scores(panel), cells, min_cell=min_cell).collect()


JUNE_23, JUNE_24 = date(2023, 6, 1), date(2024, 6, 1)


def test_diffusion_index_counts_rises_whole_and_unchanged_half() -> None:
    panel = _panel(
        [
            ("a", JUNE_23, "sales", 100),
            ("a", JUNE_24, "sales", 120),
            ("b", JUNE_23, "sales", 100),
            ("b", JUNE_24, "sales", 101),
            ("c", JUNE_23, "sales", 100),
            ("c", JUNE_24, "sales", 100),
            ("d", JUNE_23, "sales", 100),
            ("d", JUNE_24, "sales", 50),
        ]
    )
    out = _index(panel, _cells("a", "b", "c", "d"))
    sales = out.filter((pl.col("dimension") == "industry") & (pl.col("component") == "sales"))
    assert sales.select("cell", "month", "enterprises", "index").rows() == [
        ("retail", JUNE_24, 4, 62.5)
    ]


def test_rising_delinquency_is_bad_news_and_the_composite_weighs_enterprises_equally() -> None:
    panel = _panel(
        [
            # a: sales up, delinquency up (worse) -> composite 0.5
            ("a", JUNE_23, "sales", 100),
            ("a", JUNE_24, "sales", 110),
            ("a", JUNE_23, "delinquency", 0),
            ("a", JUNE_24, "delinquency", 30),
            # b: sales up only -> composite 1.0
            ("b", JUNE_23, "sales", 100),
            ("b", JUNE_24, "sales", 110),
        ]
    )
    out = _index(panel, _cells("a", "b")).filter(pl.col("dimension") == "overall")
    by_component = dict(out.select("component", "index").rows())
    assert by_component == {"sales": 100.0, "delinquency": 0.0, "composite": 75.0}


def test_january_to_march_are_compared_as_one_total_around_the_spring_festival() -> None:
    # January falls year on year (the festival moved from January to February) but the
    # January-March total rises: all three months score a rise.
    rows = [
        ("a", date(2023, 1, 1), "sales", 60),
        ("a", date(2023, 2, 1), "sales", 110),
        ("a", date(2023, 3, 1), "sales", 100),
        ("a", date(2024, 1, 1), "sales", 100),
        ("a", date(2024, 2, 1), "sales", 65),
        ("a", date(2024, 3, 1), "sales", 110),
        ("a", date(2023, 4, 1), "sales", 100),
        ("a", date(2024, 4, 1), "sales", 90),
    ]
    out = _index(_panel(rows), _cells("a")).filter(
        (pl.col("dimension") == "overall") & (pl.col("component") == "sales")
    )
    assert out.select("month", "index").rows() == [
        (date(2024, 1, 1), 100.0),
        (date(2024, 2, 1), 100.0),
        (date(2024, 3, 1), 100.0),
        (date(2024, 4, 1), 0.0),
    ]


def test_an_incomplete_festival_window_is_not_compared() -> None:
    rows = [
        ("a", date(2023, 1, 1), "sales", 60),
        ("a", date(2023, 3, 1), "sales", 100),
        ("a", date(2024, 1, 1), "sales", 100),
        ("a", date(2024, 2, 1), "sales", 65),
        ("a", date(2024, 3, 1), "sales", 110),
    ]
    assert _index(_panel(rows), _cells("a")).is_empty()


@pytest.mark.parametrize(("min_cell", "suppressed"), [(3, True), (2, False)])
def test_a_cell_under_the_minimum_is_suppressed_with_its_count(
    min_cell: int, suppressed: bool
) -> None:
    panel = _panel(
        [(u, m, "sales", v) for u in ("a", "b") for m, v in ((JUNE_23, 100), (JUNE_24, 120))]
    )
    out = _index(panel, _cells("a", "b"), min_cell=min_cell).filter(
        (pl.col("dimension") == "region") & (pl.col("component") == "composite")
    )
    assert out.select("cell", "enterprises", "suppressed").rows() == [("330100", 2, suppressed)]
    assert out.get_column("index").to_list() == [None if suppressed else 100.0]


def test_an_index_is_exact_and_the_same_whatever_order_the_enterprises_arrive_in() -> None:
    # Composite scores are means of up to five half-point scores: thirds, fifths, quarters.
    rng = random.Random(7)
    composites = [Fraction(rng.randint(0, 2 * k), 2 * k) for k in rng.choices(range(1, 6), k=997)]
    scores = [
        (f"e{i:04d}", JUNE_24, "composite", float(score)) for i, score in enumerate(composites)
    ]
    exact = float(100 * sum(composites, Fraction(0)) / len(composites))
    seen = set()
    for _ in range(20):
        rng.shuffle(scores)
        frame = pl.LazyFrame(
            scores,
            schema={
                "uscc": pl.String,
                "month": pl.Date,
                "component": pl.String,
                "score": pl.Float64,
            },
            orient="row",
        )
        cells = _cells(*(uscc for uscc, *_ in scores))
        out = cell_indices(frame, cells, min_cell=1).collect()
        seen.update(out.filter(pl.col("dimension") == "industry").get_column("index").to_list())
    assert seen == {exact}
