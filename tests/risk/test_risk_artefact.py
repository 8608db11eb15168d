"""Saving and loading models, and the registry's statuses and four-eyes rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from puhui.risk.artefact import ModelKind, load_artefact, save_artefact
from puhui.risk.dataset import TrainingData
from puhui.risk.errors import (
    ApproverIsBuilder,
    InvalidModelTransition,
    ModelArtefactInvalid,
    ModelVersionNotFound,
)
from puhui.risk.metrics import auc
from puhui.risk.registry import ModelRegistry, ModelStatus
from puhui.risk.scorer import scorer_for
from puhui.risk.training import train_model

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def saved_models(
    tmp_path_factory: pytest.TempPathFactory, training_data: TrainingData
) -> dict[ModelKind, Path]:
    root = tmp_path_factory.mktemp("models")
    paths = {}
    for kind in ModelKind:
        artefact = train_model(
            training_data,
            kind,
            trained_at=AT,
            target="bad",
            id_col="id",
            training_window={"start": "2024-01", "end": "2024-12"},
        )
        paths[kind] = root / kind.value
        save_artefact(artefact, paths[kind])
    return paths


def test_saved_models_load_and_predict_the_same(
    saved_models: dict[ModelKind, Path], training_data: TrainingData
) -> None:
    for kind, path in saved_models.items():
        loaded = load_artefact(path)
        assert loaded.kind is kind
        scorer = scorer_for(loaded.model)
        pd = scorer.predict_pd(scorer.matrix(training_data.features))
        assert auc(training_data.target, pd) == pytest.approx(
            loaded.metadata.metrics["development"]["auc"], abs=1e-12
        )


def test_metadata_records_features_window_hash_metrics_and_versions(
    saved_models: dict[ModelKind, Path],
) -> None:
    document = json.loads((saved_models[ModelKind.SCORECARD] / "model.json").read_text())
    metadata = document["metadata"]
    assert metadata["training_window"] == {"start": "2024-01", "end": "2024-12"}
    assert {"name", "kind", "dtype"} <= set(metadata["features"][0])
    assert {"python", "numpy", "lightgbm", "optbinning", "scikit-learn"} <= set(
        metadata["library_versions"]
    )
    assert set(metadata["metrics"]["development"]) == {"auc", "ks", "gini", "brier", "n"}
    assert metadata["created_at"] == AT.isoformat()
    assert (
        (saved_models[ModelKind.SCORECARD] / "points_table.csv")
        .read_text()
        .startswith("characteristic,bin,count,bads,bad_rate,woe,iv,points")
    )
    assert (saved_models[ModelKind.GBM] / "booster.txt").is_file()


def test_loading_a_folder_without_a_model_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ModelArtefactInvalid, match=r"missing model\.json"):
        load_artefact(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(ModelArtefactInvalid, match="unknown model format"):
        load_artefact(tmp_path)


def test_registry_moves_candidate_to_approved_to_champion_with_four_eyes(
    tmp_path: Path, saved_models: dict[ModelKind, Path]
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    first = registry.register(saved_models[ModelKind.SCORECARD], name="sme", builder="li", at=AT)
    assert first.status is ModelStatus.CANDIDATE
    with pytest.raises(ApproverIsBuilder):
        registry.approve(first.version, approver="LI", at=AT)
    with pytest.raises(InvalidModelTransition):
        registry.promote(first.version, actor="wang", at=AT)
    registry.approve(first.version, approver="wang", at=AT)
    registry.promote(first.version, actor="wang", at=AT)
    assert registry.champion("sme") == registry.get(first.version)

    second = registry.register(saved_models[ModelKind.GBM], name="sme", builder="zhao", at=AT)
    registry.approve(second.version, approver="li", at=AT)
    registry.promote(second.version, actor="li", at=AT)
    assert registry.get(first.version).status is ModelStatus.RETIRED
    champion = registry.champion("sme")
    assert champion is not None
    assert champion.version == second.version
    assert registry.load(second.version).kind is ModelKind.GBM
    with pytest.raises(InvalidModelTransition):
        registry.approve(second.version, approver="qian", at=AT)
    with pytest.raises(ModelVersionNotFound):
        registry.get("model_nope")
    assert np.isfinite(champion.metrics["development"]["auc"])
