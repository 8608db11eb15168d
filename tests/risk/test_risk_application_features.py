"""Application features: what the application says, point in time, identical online and in batch."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_SCHEMA,
    APPLICATIONS,
    FEATURE_LABELS,
    FEATURE_NAMES,
    MarketTables,
    application_features,
    compute_features,
    enterprise_features,
    labelled_dataset,
    one_application_features,
)

FIRM = "F1"
# 1,200,000 yuan of sales in 12 months: 100,000 yuan (10,000,000 fen) a month.
SALES_12M_LOG = math.log1p(1_200_000.0)
MARKET_START = date(2023, 1, 1)
MARKET_AS_OF = date(2025, 1, 1)


def _application(
    application_id: str, day: date, *, amount_fen: int = 30_000_000, term: int = 12
) -> dict[str, object]:
    return {
        "application_id": application_id,
        "uscc": FIRM,
        "month": day.replace(day=1),
        "application_date": day,
        "channel": "branch",
        "requested_amount_fen": amount_fen,
        "requested_term_months": term,
    }


def _frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=APPLICATION_SCHEMA)


EARLIER = _frame(
    _application("A0", date(2023, 1, 20)),  # more than 365 days before: not in the 12 months
    _application("A1", date(2024, 2, 10)),
    _application("A2", date(2024, 3, 5)),
)
CURRENT = _application("A3", date(2024, 6, 18), amount_fen=30_000_000, term=12)
ENTERPRISE = {"sales_12m_log": SALES_12M_LOG}


def test_application_features_read_as_defined() -> None:
    features = one_application_features(CURRENT, EARLIER, ENTERPRISE)
    assert set(features) == set(APPLICATION_FEATURE_NAMES)
    assert features["application_term"] == "12"
    assert features["application_channel"] == "branch"
    # 300,000 yuan asked against 100,000 yuan of monthly sales.
    assert features["application_amount_to_sales"] == pytest.approx(math.log(3.0), abs=1e-5)
    assert features["application_previous_12m"] == 2.0
    assert features["application_months_since_previous"] == 3.0  # March to June


def test_records_of_the_same_day_or_later_change_nothing() -> None:
    later = pl.concat(
        [
            EARLIER,
            _frame(
                _application("A4", date(2024, 6, 18)),  # the same day
                _application("A5", date(2024, 9, 1)),
            ),
        ]
    )
    assert one_application_features(CURRENT, later, ENTERPRISE) == one_application_features(
        CURRENT, EARLIER, ENTERPRISE
    )


def test_a_first_application_has_no_previous_one() -> None:
    features = one_application_features(CURRENT, EARLIER.clear(), ENTERPRISE)
    assert features["application_previous_12m"] == 0.0
    assert features["application_months_since_previous"] is None


def test_an_application_missing_a_field_is_refused() -> None:
    incomplete = {k: v for k, v in CURRENT.items() if k != "requested_term_months"}
    with pytest.raises(InvalidTrainingData, match="requested_term_months"):
        one_application_features(incomplete, EARLIER, ENTERPRISE)


def test_every_application_feature_has_customer_text_and_is_not_an_enterprise_feature() -> None:
    for name in APPLICATION_FEATURE_NAMES:
        assert FEATURE_LABELS[name].zh
        assert FEATURE_LABELS[name].en
        assert name not in FEATURE_NAMES


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "m"
    generate_market(MarketParams(enterprises=1500, months=24, start=MARKET_START, seed=5), out)
    return out


@pytest.fixture(scope="module")
def labelled(market: Path) -> pl.DataFrame:
    return labelled_dataset(MarketTables.from_dir(market), MARKET_AS_OF, with_applications=True)


def test_the_default_sample_has_no_application_features(market: Path) -> None:
    plain = labelled_dataset(MarketTables.from_dir(market), MARKET_AS_OF)
    assert not set(APPLICATION_FEATURE_NAMES) & set(plain.columns)


def test_each_loan_carries_the_features_of_the_application_it_was_granted_on(
    market: Path, labelled: pl.DataFrame
) -> None:
    assert labelled.height > 20
    assert labelled.get_column("application_term").null_count() == 0
    tables = MarketTables.from_dir(market)
    applications = tables[APPLICATIONS].collect()
    links = tables["loan_history"].select("uscc", "origination_month", "application_id").collect()
    for row in labelled.head(5).iter_rows(named=True):
        granted = (
            links.filter(
                (pl.col("uscc") == row["uscc"])
                & (pl.col("origination_month") == row["origination_month"])
            )
            .join(applications.drop("uscc"), on="application_id")
            .sort("application_date", "application_id")
            .row(0, named=True)
        )
        # Online: the enterprise's features, then the application's, from its own records.
        enterprise = enterprise_features(tables, row["uscc"], row["origination_month"])
        earlier = applications.filter(pl.col("uscc") == row["uscc"])
        online = one_application_features(granted, earlier, enterprise)
        # Equal up to the last digit: the enterprise's 12-month sales, summed one enterprise
        # at a time or for the cohort at once, can differ in floating-point summation order.
        assert online.keys() == set(APPLICATION_FEATURE_NAMES)
        for name, value in online.items():
            if isinstance(value, float):
                assert value == pytest.approx(row[name], rel=1e-12), name
            else:
                assert value == row[name], name


def test_batch_application_features_equal_one_by_one(market: Path) -> None:
    tables = MarketTables.from_dir(market)
    month = date(2024, 3, 1)
    applications = tables[APPLICATIONS].filter(pl.col("month") == month).collect().head(30)
    enterprises = tables.for_enterprises(applications.get_column("uscc").to_list())
    features = compute_features(enterprises, month)
    batch = application_features(applications, tables[APPLICATIONS], features)
    assert batch.height == applications.height
    for application in applications.iter_rows(named=True):
        row = features.filter(pl.col("uscc") == application["uscc"]).row(0, named=True)
        earlier = tables[APPLICATIONS].filter(pl.col("uscc") == application["uscc"]).collect()
        online = one_application_features(application, earlier, row)
        expected = batch.filter(pl.col("application_id") == application["application_id"])
        assert online == {name: expected.get_column(name)[0] for name in APPLICATION_FEATURE_NAMES}


def test_application_features_without_the_applications_table_are_refused(market: Path) -> None:
    tables = MarketTables.from_dir(market)
    without = MarketTables({k: v for k, v in tables.frames.items() if k != APPLICATIONS})
    with pytest.raises(InvalidTrainingData, match="applications"):
        labelled_dataset(without, MARKET_AS_OF, with_applications=True)


@pytest.mark.slow
def test_train_market_with_applications_builds_a_model_that_evaluate_market_scores_with_them(
    market: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from puhui.cli.model import app as model_app
    from puhui.risk.artefact import load_artefact

    out = tmp_path / "gbm"
    trained = CliRunner().invoke(
        model_app,
        [
            "train-market",
            "--market",
            str(market),
            "--as-of",
            "2025-01",
            "--kind",
            "gbm",
            "--with-applications",
            "--out",
            str(out),
        ],
    )
    assert trained.exit_code == 0, trained.output
    names = set(load_artefact(out).model.feature_names)
    assert names & set(APPLICATION_FEATURE_NAMES)
    evaluated = CliRunner().invoke(
        model_app,
        ["evaluate-market", "--model", str(out), "--market", str(market), "--as-of", "2025-01"],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "oracle" in evaluated.output.lower()
