"""Screen every enterprise of a market as of a month: catalogue category, energy intensity
against division peers, environmental penalties -> a green label with its evidence.

The evidence is gathered for all enterprises at once with Polars; the label of each is then
given by ``puhui.risk.green.label.green_label``, the same rule the online assessment uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from puhui.domain.lending.schedule import add_months
from puhui.market import store
from puhui.market.errors import MarketTableMissing
from puhui.risk.green.catalogue import LABELS, GreenCatalogue
from puhui.risk.green.errors import EnterpriseNotScreened, InvalidGreenScreen
from puhui.risk.green.label import GreenEvidence, green_label

SCREEN_FILE = "screen.parquet"
REPORT_FILE = "report.json"
FEN_PER_10K_YUAN = 1_000_000


@dataclass(frozen=True, slots=True)
class GreenScreen:
    as_of: date
    catalogue: GreenCatalogue
    frame: pl.DataFrame
    """One row per enterprise registered by the month (see ``SCREEN_COLUMNS``)."""
    measure: dict[str, Any] | None
    """Precision and recall against ``truth/environment_truth`` when the market has it."""

    def report(self) -> dict[str, Any]:
        counts = dict(self.frame.group_by("label").len().iter_rows())
        by_category = (
            self.frame.filter(pl.col("label") == "green")
            .group_by("category")
            .len()
            .sort("category")
        )
        return {
            "as_of": self.as_of.isoformat()[:7],
            "catalogue_version": self.catalogue.version,
            "enterprises": self.frame.height,
            "labels": {label: int(counts.get(label, 0)) for label in LABELS},
            "green_by_category": {str(c): int(n) for c, n in by_category.iter_rows()},
            "candidates": int(self.frame.get_column("category").is_not_null().sum()),
            "rules": {
                "penalty_lookback_months": self.catalogue.rules.penalty_lookback_months,
                "energy_window_months": self.catalogue.rules.energy_window_months,
                "min_energy_months": self.catalogue.rules.min_energy_months,
                "max_energy_percentile": self.catalogue.rules.max_energy_percentile,
            },
            "measure": self.measure,
        }


def _month_range(market: Path) -> tuple[date, date]:
    params = store.read_parameters(market)
    return params.start, add_months(params.start, params.months - 1)


def energy_evidence(market: Path, as_of: date, catalogue: GreenCatalogue) -> pl.LazyFrame:
    """Per enterprise: kWh and declared sales over the window, months with both, intensity
    (kWh per 10,000 yuan) and its percentile among the division's peers."""
    rules = catalogue.rules
    first = add_months(as_of, 1 - rules.energy_window_months)
    window = (pl.col("month") >= first) & (pl.col("month") <= as_of)
    use = (
        store.scan(market, "utilities_monthly")
        .filter(window)
        .select("uscc", "month", "electricity_kwh")
    )
    sales = (
        store.scan(market, "tax_monthly")
        .filter(window)
        .select("uscc", "month", "declared_sales_fen")
    )
    per = (
        use.join(sales, on=["uscc", "month"], how="inner")
        .group_by("uscc")
        .agg(
            energy_kwh=pl.col("electricity_kwh").sum(),
            sales_fen=pl.col("declared_sales_fen").sum(),
            energy_months=pl.len().cast(pl.Int32),
        )
    )
    known = (pl.col("energy_months") >= rules.min_energy_months) & (pl.col("sales_fen") > 0)
    return per.with_columns(
        energy_intensity=pl.when(known).then(
            pl.col("energy_kwh").cast(pl.Float64)
            * FEN_PER_10K_YUAN
            / pl.col("sales_fen").cast(pl.Float64)
        )
    )


def penalty_evidence(market: Path, as_of: date, catalogue: GreenCatalogue) -> pl.LazyFrame:
    first = add_months(as_of, 1 - catalogue.rules.penalty_lookback_months)
    return (
        store.scan(market, "environmental_penalties")
        .filter((pl.col("month") >= first) & (pl.col("month") <= as_of))
        .group_by("uscc")
        .agg(
            penalties=pl.len().cast(pl.Int32),
            serious_penalties=(pl.col("severity") == "serious").sum().cast(pl.Int32),
        )
    )


def screen_market(market: Path, as_of: date, catalogue: GreenCatalogue) -> GreenScreen:
    """The screen of every enterprise registered by ``as_of`` (a month of the market)."""
    market = Path(market)
    start, last = _month_range(market)
    if not start <= as_of <= last:
        raise InvalidGreenScreen(
            f"month {as_of.isoformat()[:7]} is outside the market "
            f"({start.isoformat()[:7]} to {last.isoformat()[:7]})",
            details={"as_of": as_of.isoformat()[:7]},
        )
    try:
        penalties = penalty_evidence(market, as_of, catalogue)
        penalties.collect_schema()
        store.scan(market, "environmental_penalties").select("uscc").head(0).collect()
    except MarketTableMissing:
        raise InvalidGreenScreen(
            f"the market in {market} has no environmental_penalties table "
            "(generated before schema 1.3): generate it again"
        ) from None
    enterprises = (
        store.scan(market, "enterprises")
        .filter(pl.col("registration_date") < add_months(as_of, 1))
        .select("uscc", "industry_code", "industry_group")
    )
    evidence = (
        enterprises.join(energy_evidence(market, as_of, catalogue), on="uscc", how="left")
        .join(penalties, on="uscc", how="left")
        .with_columns(
            pl.col("energy_months", "penalties", "serious_penalties").fill_null(0),
            pl.col("energy_kwh", "sales_fen").fill_null(0),
        )
        .with_columns(
            energy_percentile=pl.when(pl.col("energy_intensity").is_not_null()).then(
                pl.col("energy_intensity").rank("max").over("industry_code")
                / pl.col("energy_intensity").count().over("industry_code")
            )
        )
        .sort("uscc")
        .collect()
    )
    labels = [
        green_label(
            GreenEvidence(
                industry_code=row["industry_code"],
                energy_intensity=row["energy_intensity"],
                energy_percentile=row["energy_percentile"],
                energy_months=row["energy_months"],
                penalties=row["penalties"],
                serious_penalties=row["serious_penalties"],
            ),
            catalogue,
        )
        for row in evidence.iter_rows(named=True)
    ]
    frame = evidence.with_columns(
        pl.Series("label", [x.label for x in labels], dtype=pl.String),
        pl.Series("category", [x.category for x in labels], dtype=pl.String),
        pl.Series("category_name", [x.category_name for x in labels], dtype=pl.String),
        pl.Series("evidence", [list(x.evidence) for x in labels], dtype=pl.List(pl.String)),
        pl.lit(catalogue.version).alias("catalogue_version"),
        pl.lit(as_of).alias("as_of"),
    )
    return GreenScreen(
        as_of=as_of, catalogue=catalogue, frame=frame, measure=measure(market, frame)
    )


def measure(market: Path, frame: pl.DataFrame) -> dict[str, Any] | None:
    """Precision and recall of the label against the market's truth (None without truth)."""
    try:
        truth = store.read(market, "environment_truth")
    except MarketTableMissing:
        return None
    joined = frame.select("uscc", "label", "category").join(truth, on="uscc", how="inner")
    predicted = joined.get_column("label") == "green"
    actual = joined.get_column("is_green")
    candidate = joined.get_column("category").is_not_null()
    excluded = joined.get_column("label") == "excluded_penalty"
    polluter = joined.get_column("is_polluter")

    def ratio(num: int, den: int) -> float | None:
        return None if den == 0 else round(num / den, 4)

    tp = int((predicted & actual).sum())
    return {
        "enterprises": joined.height,
        "truly_green": int(actual.sum()),
        "labelled_green": int(predicted.sum()),
        "precision": ratio(tp, int(predicted.sum())),
        "recall": ratio(tp, int(actual.sum())),
        "precision_catalogue_only": ratio(int((candidate & actual).sum()), int(candidate.sum())),
        "recall_catalogue_only": ratio(int((candidate & actual).sum()), int(actual.sum())),
        "excluded_penalty_are_polluters": ratio(
            int((excluded & polluter).sum()), int(excluded.sum())
        ),
        "polluters_excluded": ratio(int((excluded & polluter).sum()), int(polluter.sum())),
        "polluters_labelled_green": int((predicted & polluter).sum()),
    }


def write_screen(screen: GreenScreen, out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / SCREEN_FILE
    report = out / REPORT_FILE
    tmp_table = out / f".{SCREEN_FILE}.tmp"
    tmp_report = out / f".{REPORT_FILE}.tmp"
    screen.frame.write_parquet(tmp_table)
    tmp_report.write_text(
        json.dumps(
            {**screen.report(), "catalogue": screen.catalogue.describe()},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    tmp_table.replace(table)
    tmp_report.replace(report)
    return [table, report]


def read_screen_row(screen_dir: Path, uscc: str) -> dict[str, Any]:
    """One enterprise's row of a written screen, or a clear error (no screen, not in it)."""
    path = Path(screen_dir) / SCREEN_FILE
    if not path.is_file():
        raise InvalidGreenScreen(
            f"no green screen in {screen_dir} (expected {SCREEN_FILE}; "
            "write one with `puhui green screen --out`)"
        )
    found = pl.scan_parquet(path).filter(pl.col("uscc") == uscc).collect()
    if found.is_empty():
        raise EnterpriseNotScreened(
            f"enterprise {uscc} is not in the screen in {screen_dir}", details={"uscc": uscc}
        )
    return found.row(0, named=True)
