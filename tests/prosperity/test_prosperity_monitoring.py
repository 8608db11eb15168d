"""Post-loan signals from the prosperity indices: a customer's industry crossing below 40 or
its region falling 15 points in three months raises a signal, with the indices as evidence;
a suppressed or missing index raises nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from puhui.adapters.db.post_loan.signals import ServicingSignalSource
from puhui.bootstrap import Platform
from puhui.bootstrap.monitoring import MarketSignalSource
from puhui.decision.triggers import load_shipped_triggers
from puhui.pipelines.monitoring_inputs import open_market
from puhui.pipelines.prosperity.build import ProsperityIndex, write_index
from puhui.pipelines.prosperity.serving import IndustryIndexFile, monitoring_facts
from puhui.services.monitoring.ports import MonitoredCustomer

MONTHS = [date(2025, m, 1) for m in range(1, 7)]
AS_OF = date(2025, 7, 15)  # reads June 2025


def _rows(dimension: str, cell: str, values: list[float | None]) -> list[dict[str, object]]:
    return [
        {
            "dimension": dimension,
            "cell": cell,
            "month": month,
            "component": "composite",
            "enterprises": 5 if value is None else 40,
            "index": value,
            "suppressed": value is None,
        }
        for month, value in zip(MONTHS, values, strict=True)
    ]


def _write(folder: Path, rows: list[dict[str, object]]) -> Path:
    frame = pl.DataFrame(
        rows,
        schema={
            "dimension": pl.String,
            "cell": pl.String,
            "month": pl.Date,
            "component": pl.String,
            "enterprises": pl.Int64,
            "index": pl.Float64,
            "suppressed": pl.Boolean,
        },
    )
    write_index(ProsperityIndex(frame, None, 10), folder)
    return folder


def _enterprises(market: Path) -> pl.DataFrame:
    frame = open_market(market).frames["enterprises"]
    return frame.select("uscc", "industry_code", "region_code", "industry_group").collect()


def test_the_facts_are_the_latest_month_the_one_before_and_the_three_month_change(
    tmp_path: Path,
) -> None:
    folder = _write(
        tmp_path,
        _rows("industry", "manufacturing", [55, 52, 50, 45, 44, 38])
        + _rows("region", "330100", [50, 50, 50, 50, 50, None]),
    )
    customers = pl.DataFrame(
        {
            "uscc": ["a", "b", "c"],
            "industry_code": ["C33", "F51", None],
            "region_code": ["330100", "110100", None],
        }
    )
    facts = monitoring_facts(IndustryIndexFile(folder), customers, MONTHS[-1])
    a, b, c = facts.iter_rows(named=True)
    assert a["industry_prosperity_index"] == 38
    assert a["industry_prosperity_index_previous"] == 44
    assert a["industry_prosperity_change_3m"] == 38 - 50
    assert a["region_prosperity_index"] is None  # suppressed: missing, not a number
    assert a["region_prosperity_index_previous"] == 50
    assert a["region_prosperity_change_3m"] is None
    assert all(value is None for key, value in b.items() if key != "uscc")  # no such cells
    assert all(value is None for key, value in c.items() if key != "uscc")
    # Before the last month: the month asked for is the latest one.
    april = monitoring_facts(IndustryIndexFile(folder), customers, date(2025, 4, 30))
    assert april.row(0, named=True)["industry_prosperity_index"] == 45
    assert april.row(0, named=True)["industry_prosperity_change_3m"] == -10
    nothing = monitoring_facts(None, customers, MONTHS[-1])
    assert nothing.drop("uscc").null_count().row(0) == (3,) * 6
    empty = monitoring_facts(
        IndustryIndexFile(tmp_path / "none", required=False), customers, MONTHS[-1]
    )
    assert empty.drop("uscc").null_count().row(0) == (3,) * 6


def test_a_run_raises_the_downturn_and_fall_signals_with_the_indices_as_evidence(
    prosperity_market: Path, platform: Platform, tmp_path: Path
) -> None:
    enterprises = _enterprises(prosperity_market)
    first = enterprises.row(0, named=True)
    group, region = first["industry_group"], first["region_code"]
    others = enterprises.filter(
        (pl.col("industry_group") != group) & (pl.col("region_code") != region)
    )
    calm = others.row(0, named=True)
    folder = _write(
        tmp_path / "index",
        _rows("industry", group, [55, 52, 50, 45, 44, 38])
        + _rows("region", region, [60, 58, 62, 61, 50, 45])
        + _rows("industry", calm["industry_group"], [30, 30, 30, 30, 30, 30])
        + _rows("region", calm["region_code"], [50, 50, 50, 50, 50, None]),
    )
    triggers = load_shipped_triggers()
    customers = [
        MonitoredCustomer(first["uscc"], (), None, 0, 1_000_000),
        MonitoredCustomer(calm["uscc"], (), None, 0, 1_000_000),
    ]
    servicing = ServicingSignalSource(platform.database.engine)
    source = MarketSignalSource(
        servicing, prosperity_market, model=None, prosperity=IndustryIndexFile(folder)
    )
    hits = source.signals(customers, AS_OF, triggers)
    codes = {(h.hit.customer_id, h.hit.code) for h in hits}
    prosperity_codes = {
        "INDUSTRY_DOWNTURN",
        "INDUSTRY_PROSPERITY_FALL",
        "REGION_DOWNTURN",
        "REGION_PROSPERITY_FALL",
    }
    assert {code for uscc, code in codes if code in prosperity_codes} == {
        "INDUSTRY_DOWNTURN",  # 44 -> 38 crosses 40
        "REGION_PROSPERITY_FALL",  # 61 -> 45 in three months
    }
    assert all(uscc == first["uscc"] for uscc, code in codes if code in prosperity_codes)
    evidence = next(h.evidence for h in hits if h.hit.code == "INDUSTRY_DOWNTURN")
    assert evidence["inputs"]["industry_prosperity_index"] == 38
    assert evidence["inputs"]["industry_prosperity_index_previous"] == 44
    # Without the indices the same run raises none of them.
    without = MarketSignalSource(servicing, prosperity_market, model=None)
    assert not {h.hit.code for h in without.signals(customers, AS_OF, triggers)} & prosperity_codes
