"""`puhui model monitor` over a fake decision history, a real registry and a SQLite audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from puhui.bootstrap import Platform, Settings, build_platform
from puhui.cli.model_monitor import DEVELOPMENT_SAMPLE, monitor_command
from puhui.risk.artefact import (
    ModelArtefact,
    ModelKind,
    ModelMetadata,
    save_artefact,
    save_reference_profile,
)
from puhui.risk.dataset import TrainingData
from puhui.risk.monitoring import build_reference_profile
from puhui.risk.registry import ModelRegistry
from puhui.risk.scorecard import ScorecardModel
from puhui.risk.scorer import scorer_for
from puhui.services.model_monitoring import ALERT_ACTION

runner = CliRunner()
AT = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class FakeDecisionHistory:
    scored: pl.DataFrame
    booked: pl.DataFrame

    def scored_applications(
        self, model_version: str, first_month: date, last_month: date
    ) -> pl.DataFrame:
        return self.scored

    def booked_outcomes(self, model_version: str, as_of: date) -> pl.DataFrame:
        return self.booked


def _app(history: FakeDecisionHistory) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def group() -> None:
        """Models (test group)."""

    app.command(name="monitor")(monitor_command(lambda platform: history))
    return app


def _scored(model: ScorecardModel, features: pl.DataFrame) -> pl.DataFrame:
    assessed = scorer_for(model).assess_frame(features)
    return features.with_columns(
        month=pl.lit("2026-01"),
        score=assessed.get_column("score"),
        pd=assessed.get_column("pd"),
        outcome=pl.lit("approve"),
    )


NO_OUTCOMES = pl.DataFrame(
    {"booking_month": [], "pd": [], "months_on_book": [], "bad": [], "months_to_bad": []},
    schema={
        "booking_month": pl.String,
        "pd": pl.Float64,
        "months_on_book": pl.Int64,
        "bad": pl.Int64,
        "months_to_bad": pl.Int64,
    },
)


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    monkeypatch.setenv("PUHUI_MODEL_REGISTRY_DIR", str(tmp_path / "registry"))
    built = build_platform(Settings(database_url=sqlite_url, environment="test", _env_file=None))  # type: ignore[call-arg]
    built.database.upgrade()
    try:
        yield built
    finally:
        built.close()


def _register(
    tmp_path: Path, name: str, model: ScorecardModel, data: TrainingData, *, how: str
) -> str:
    """Register a scorecard saved with a reference, with a development sample, or with neither."""
    metadata = ModelMetadata(
        kind=ModelKind.SCORECARD,
        created_at=AT.isoformat(),
        target="bad",
        features=[],
        data_hash="test",
        n_rows=data.n_rows,
        n_bad=int(data.target.sum()),
        metrics={"development": {"auc": 0.8}},
    )
    folder = tmp_path / name
    save_artefact(ModelArtefact(model, metadata), folder)
    if how == "reference":
        save_reference_profile(build_reference_profile(model, data.features, data.target), folder)
    elif how == "sample":
        data.features.with_columns(bad=pl.Series(data.target)).write_parquet(
            folder / DEVELOPMENT_SAMPLE
        )
    registry = ModelRegistry(tmp_path / "registry")
    return registry.register(folder, name="mse_pd", builder="builder", at=AT).version


def _audit_actions(platform: Platform) -> list[tuple[str, str]]:
    with platform.uow() as uow:
        return [(e.action, e.entity_id) for e in uow.audit.events()]


def test_monitor_prints_json_writes_the_report_and_audits_the_alerts(
    env: Platform,
    tmp_path: Path,
    scorecard: ScorecardModel,
    training_data: TrainingData,
    holdout_data: TrainingData,
) -> None:
    version = _register(tmp_path, "with_reference", scorecard, training_data, how="reference")
    # The population moved: every applicant now has two more late payments.
    moved = holdout_data.features.with_columns(pl.col("late_30_59") + 2)
    history = FakeDecisionHistory(_scored(scorecard, moved), NO_OUTCOMES)
    result = runner.invoke(
        _app(history),
        ["monitor", "--model", version, "--from", "2026-01", "--to", "2026-01",
         "--report", str(tmp_path / "report"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["has_reference"] is True
    codes = {a["code"] for a in document["alerts"]}
    assert {"score_psi_shifted", "input_psi_shifted"} <= codes
    assert document["characteristics"][0]["name"] == "late_30_59"
    assert (tmp_path / "report" / "report.md").is_file()
    assert (tmp_path / "report" / "score_psi.png").is_file()
    actions = _audit_actions(env)
    assert actions.count((ALERT_ACTION, version)) == len(document["alerts"])


def test_monitor_of_a_stable_model_prints_a_summary_and_records_nothing(
    env: Platform, tmp_path: Path, scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    version = _register(tmp_path, "stable", scorecard, training_data, how="reference")
    history = FakeDecisionHistory(_scored(scorecard, training_data.features), NO_OUTCOMES)
    result = runner.invoke(
        _app(history), ["monitor", "--model", version, "--from", "2026-01", "--to", "2026-01"]
    )
    assert result.exit_code == 0, result.output
    assert "score PSI 0.0000 (stable)" in result.stdout
    assert "no alerts" in result.stdout
    assert (ALERT_ACTION, version) not in _audit_actions(env)


def test_a_model_without_a_reference_is_reported_plainly(
    env: Platform, tmp_path: Path, scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    version = _register(tmp_path, "bare", scorecard, training_data, how="none")
    history = FakeDecisionHistory(_scored(scorecard, training_data.features), NO_OUTCOMES)
    result = runner.invoke(
        _app(history), ["monitor", "--model", version, "--from", "2026-01", "--to", "2026-01"]
    )
    assert result.exit_code == 0, result.output
    assert "saved without a reference profile" in result.stdout
    assert "score PSI" not in result.stdout


def test_a_model_with_a_development_sample_gets_its_reference_rebuilt(
    env: Platform, tmp_path: Path, scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    version = _register(tmp_path, "sampled", scorecard, training_data, how="sample")
    history = FakeDecisionHistory(_scored(scorecard, training_data.features), NO_OUTCOMES)
    result = runner.invoke(
        _app(history),
        ["monitor", "--model", version, "--from", "2026-01", "--to", "2026-01", "--json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["has_reference"] is True
    assert document["score_psi"] == 0.0
    assert document["notes"][0].startswith("no reference.json: the reference was rebuilt")


def test_an_unknown_model_or_a_malformed_month_exits_2_with_its_code(
    env: Platform, tmp_path: Path, scorecard: ScorecardModel, training_data: TrainingData
) -> None:
    history = FakeDecisionHistory(_scored(scorecard, training_data.features[:10]), NO_OUTCOMES)
    unknown = runner.invoke(
        _app(history), ["monitor", "--model", "model_nope", "--from", "2026-01", "--to", "2026-01"]
    )
    assert unknown.exit_code == 2
    assert "model_version_not_found" in unknown.output
    version = _register(tmp_path, "dates", scorecard, training_data, how="none")
    malformed = runner.invoke(
        _app(history), ["monitor", "--model", version, "--from", "2026-1", "--to", "2026-01"]
    )
    assert malformed.exit_code == 2
    assert "invalid_date" in malformed.output
