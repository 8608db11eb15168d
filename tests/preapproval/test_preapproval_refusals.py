"""What the pre-approval run, its training and the marketing map refuse, and how they say it."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.decision.strategy import StrategyInvalid
from puhui.domain.prospects import NO_PARK
from puhui.pipelines.engines import LocalEngine
from puhui.pipelines.feature_store import build_market_month
from puhui.pipelines.preapproval import run_preapproval, write_prospects
from puhui.pipelines.preapproval_inputs import KNOWN_TABLES, check_sources
from puhui.pipelines.preapproval_models import ProspectModels, train_prospect_models
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.features import FeatureBatch, FeatureSet

runner = CliRunner()
AS_OF = date(2024, 10, 1)
TRAINED_AT = datetime(2024, 11, 1, tzinfo=UTC)
ALLOWED_LINE = (
    "sources_before_consent: [enterprises, owners, court_cases, settlement_monthly, "
    "loan_history, utilities_monthly]"
)
WITH_CONSENTED = (
    "sources_before_consent: [enterprises, owners, court_cases, settlement_monthly, "
    "loan_history, utilities_monthly, tax_monthly, bureau, invoices]"
)


def _copy_without_month(market: Path, out: Path, table: str, month: date) -> Path:
    shutil.copytree(market, out)
    for part in (out / "tables" / table).glob("*.parquet"):
        pl.read_parquet(part).filter(pl.col("month") != month).write_parquet(part)
    return out


def test_the_one_list_of_tables_before_consent_is_the_need_models() -> None:
    assert KNOWN_TABLES == PRE_CONSENT_SOURCES
    with pytest.raises(InvalidTrainingData, match="bureau, invoices, tax_monthly"):
        check_sources([*PRE_CONSENT_SOURCES, "tax_monthly", "bureau", "invoices"])


def test_a_strategy_reading_consented_data_before_consent_is_refused_by_the_run(
    score_market: Path, models: ProspectModels, test_strategy: tuple[str, str]
) -> None:
    source, text = test_strategy
    assert ALLOWED_LINE in text
    copy = (source, text.replace(ALLOWED_LINE, WITH_CONSENTED))
    with pytest.raises(StrategyInvalid) as refused:
        run_preapproval(
            score_market,
            AS_OF,
            engine=LocalEngine(),
            need_model=models.need,
            risk_model=models.pd,
            strategy=copy,
        )
    text_of = "\n".join(str(p) for p in refused.value.problems)
    for table in ("tax_monthly", "bureau", "invoices"):
        assert f"'{table}' may not be read before the enterprise consents" in text_of


def test_training_on_consented_data_is_refused_by_name(train_market: Path) -> None:
    sources = PRE_CONSENT_SOURCES | {"tax_monthly", "bureau"}
    with pytest.raises(InvalidTrainingData, match="bureau, tax_monthly"):
        train_prospect_models(train_market, AS_OF, sources, trained_at=TRAINED_AT)


def test_training_past_the_markets_last_month_is_refused(train_market: Path) -> None:
    # The market ends in 2024-12: snapshots after it would all be labelled "no need".
    with pytest.raises(InvalidTrainingData, match=r"no rows for month 2025-01"):
        train_prospect_models(
            train_market, date(2025, 6, 1), PRE_CONSENT_SOURCES, trained_at=TRAINED_AT
        )


def test_training_on_need_events_that_stop_early_is_refused(
    train_market: Path, tmp_path: Path
) -> None:
    market = tmp_path / "train"
    shutil.copytree(train_market, market)
    events = market / "truth" / "need_events"
    frame = pl.read_parquet(events / "*.parquet")
    shutil.rmtree(events)
    events.mkdir()
    frame.filter(pl.col("month") < date(2024, 6, 1)).write_parquet(events / "part-0.parquet")
    with pytest.raises(InvalidTrainingData, match=r"need_events.* ends in 2024-05.*2024-10"):
        train_prospect_models(market, AS_OF, PRE_CONSENT_SOURCES, trained_at=TRAINED_AT)


def test_the_scored_market_is_checked_before_training_on_train_market(
    score_market: Path, train_market: Path, tmp_path: Path
) -> None:
    scored = _copy_without_month(
        score_market, tmp_path / "score", "settlement_monthly", date(2024, 7, 1)
    )
    # A training market that cannot train: had training come first, this would be the error.
    untrainable = tmp_path / "train"
    shutil.copytree(train_market, untrainable)
    shutil.rmtree(untrainable / "truth" / "need_events")
    out = tmp_path / "list.csv"
    result = runner.invoke(
        app,
        ["prospect", "run", "--market", str(scored), "--as-of", "2024-10", "--out", str(out),
         "--train-market", str(untrainable)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "settlement_monthly" in result.output
    assert "2024-07" in result.output
    assert "need_events" not in result.output
    assert not out.exists()


def test_an_as_of_before_the_market_starts_is_refused_naming_its_first_month(
    score_market: Path, models: ProspectModels, test_strategy: tuple[str, str]
) -> None:
    with pytest.raises(InvalidTrainingData, match="starts in 2023-01"):
        run_preapproval(
            score_market,
            date(2022, 6, 1),
            engine=LocalEngine(),
            need_model=models.need,
            risk_model=models.pd,
            strategy=test_strategy,
        )


class _UntouchedStore:
    """A store the build must refuse to reach (unit test of the refusal's order)."""

    def replace_month(
        self,
        month: date,
        feature_set: FeatureSet,
        *,
        source_month: date,
        computed_at: datetime,
        batches: Iterable[FeatureBatch],
    ) -> int:
        raise AssertionError("the feature store was written from a market missing a month")


def test_the_feature_store_build_refuses_a_market_missing_a_month(
    score_market: Path, tmp_path: Path
) -> None:
    market = _copy_without_month(score_market, tmp_path / "m", "tax_monthly", date(2024, 3, 1))
    with pytest.raises(InvalidTrainingData, match=r"'tax_monthly'.*2024-03"):
        build_market_month(
            market, AS_OF, _UntouchedStore(), engine=LocalEngine(), computed_at=TRAINED_AT
        )


def test_a_malformed_models_manifest_is_refused_naming_the_file(
    models_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "models"
    shutil.copytree(models_dir, broken)
    manifest = broken / "prospect-models.json"
    manifest.write_text('{"format": 1, "as_of": ', encoding="utf-8")
    with pytest.raises(InvalidTrainingData, match=r"prospect-models\.json is not readable JSON"):
        ProspectModels.load(broken)
    manifest.write_text('{"format": 1, "as_of": "2024-10"}', encoding="utf-8")
    with pytest.raises(InvalidTrainingData, match=r"prospect-models\.json is not a manifest"):
        ProspectModels.load(broken)


def test_the_marketing_map_refuses_a_corrupt_parquet_naming_it(
    score_market: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "list.parquet"
    corrupt.write_bytes(b"PAR1 this is not a parquet file PAR1")
    result = runner.invoke(
        app,
        ["prospect", "report", "--prospects", str(corrupt), "--market", str(score_market),
         "--out", str(tmp_path / "map"), "--as-of", "2024-10"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "list.parquet is not a readable parquet prospect file" in result.output
    assert "internal_error" not in result.output


def test_the_marketing_map_counts_as_the_console_does(
    score_market: Path, prospects: pl.DataFrame, tmp_path: Path
) -> None:
    listed = write_prospects(prospects, tmp_path / "list.csv")
    args = ["prospect", "report", "--prospects", str(listed), "--market", str(score_market)]
    out = tmp_path / "map"
    without_month = runner.invoke(app, [*args, "--out", str(out)])
    assert without_month.exit_code == 2  # the file does not carry its month: --as-of is required
    assert "--as-of" in without_month.output
    result = runner.invoke(app, [*args, "--out", str(out), "--as-of", "2024-10"])
    assert result.exit_code == 0, result.output
    not_customers = prospects.filter(~pl.col("is_customer"))
    assert 0 < not_customers.height < prospects.height  # the list holds customers too
    by_park = pl.read_csv(out / "prospects_by_park.csv", schema_overrides={"park": pl.String})
    assert by_park["prospects"].sum() == not_customers.height
    assert by_park["need_amount_fen"].sum() == not_customers["need_amount_fen"].sum()
    assert NO_PARK in by_park["park"].to_list()
    late = runner.invoke(app, [*args, "--out", str(out), "--as-of", "2025-06"])
    assert late.exit_code == 2
    assert "loan_history runs from 2023-01 to 2024-12" in late.output
