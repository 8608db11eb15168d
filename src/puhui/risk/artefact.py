"""The one way models are saved and loaded: a directory with the model, its table and metadata."""

from __future__ import annotations

import csv
import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from puhui.risk.errors import ModelArtefactInvalid
from puhui.risk.gbm import GbmModel
from puhui.risk.kinds import ModelKind
from puhui.risk.reference_profile import MonitoringDataInvalid, ReferenceProfile
from puhui.risk.scorecard import ScorecardModel

__all__ = [
    "ARTEFACT_FORMAT",
    "ModelArtefact",
    "ModelKind",
    "ModelMetadata",
    "load_artefact",
    "load_reference_profile",
    "save_artefact",
    "save_reference_profile",
]

ARTEFACT_FORMAT = "puhui-risk-model/1"
MODEL_FILE = "model.json"
BOOSTER_FILE = "booster.txt"
POINTS_TABLE_FILE = "points_table.csv"
REFERENCE_FILE = "reference.json"
_LIBRARIES = ("puhui", "numpy", "polars", "scikit-learn", "optbinning", "lightgbm", "numba")


@dataclass(frozen=True)
class ModelMetadata:
    """What a validator needs to reproduce and trust a model."""

    kind: ModelKind
    created_at: str
    target: str
    features: list[dict[str, str]]
    data_hash: str
    n_rows: int
    n_bad: int
    metrics: dict[str, dict[str, float]]
    excluded: dict[str, str] = field(default_factory=dict)
    id_col: str | None = None
    training_window: dict[str, str] | None = None
    library_versions: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    builder: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["kind"] = ModelKind(data["kind"])
        return cls(**known)


@dataclass(frozen=True)
class ModelArtefact:
    model: ScorecardModel | GbmModel
    metadata: ModelMetadata

    @property
    def kind(self) -> ModelKind:
        return ModelKind.SCORECARD if isinstance(self.model, ScorecardModel) else ModelKind.GBM


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(directory: Path | None = None) -> str | None:
    """The commit of the code that trained the model, when run from a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH is the point
            cwd=directory or Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def save_artefact(artefact: ModelArtefact, directory: Path) -> Path:
    """Write the artefact; JSON and LightGBM text only, so loading never executes code."""
    directory.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "format": ARTEFACT_FORMAT,
        "metadata": artefact.metadata.to_dict(),
        "model": artefact.model.to_dict(),
    }
    if isinstance(artefact.model, GbmModel):
        (directory / BOOSTER_FILE).write_text(artefact.model.model_text, encoding="utf-8")
    else:
        rows = artefact.model.points_table()
        with (directory / POINTS_TABLE_FILE).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    path = directory / MODEL_FILE
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def load_artefact(directory: Path) -> ModelArtefact:
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelArtefactInvalid(f"no model found in {directory} (missing {MODEL_FILE})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelArtefactInvalid(f"cannot read {path}: {exc}") from None
    if document.get("format") != ARTEFACT_FORMAT:
        raise ModelArtefactInvalid(f"unknown model format {document.get('format')!r} in {path}")
    kind = document.get("metadata", {}).get("kind")
    if kind not in {k.value for k in ModelKind}:
        raise ModelArtefactInvalid(f"unknown model kind {kind!r} in {path}")
    metadata = ModelMetadata.from_dict(document["metadata"])
    model: ScorecardModel | GbmModel
    if metadata.kind is ModelKind.SCORECARD:
        model = ScorecardModel.from_dict(document["model"])
    else:
        booster = directory / BOOSTER_FILE
        if not booster.is_file():
            raise ModelArtefactInvalid(f"gbm model in {directory} lacks {BOOSTER_FILE}")
        model = GbmModel.from_dict(document["model"], booster.read_text(encoding="utf-8"))
    return ModelArtefact(model, metadata)


def save_reference_profile(profile: ReferenceProfile, directory: Path) -> Path:
    """Write the development profile monitoring compares against, beside the model."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REFERENCE_FILE
    path.write_text(json.dumps(profile.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def load_reference_profile(directory: Path) -> ReferenceProfile | None:
    """The model's development profile; None for a model saved before profiles existed."""
    path = directory / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        return ReferenceProfile.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ModelArtefactInvalid(f"cannot read {path}: {exc}") from None
    except MonitoringDataInvalid as exc:
        raise ModelArtefactInvalid(f"{path}: {exc.message}") from None
