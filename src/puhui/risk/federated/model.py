"""The bank's part of a federated model: saved once, loaded and scored with the owner's part."""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import numpy as np

from puhui.risk.federated.data import Matrix, Standardiser, with_intercept
from puhui.risk.federated.errors import InvalidFederatedData
from puhui.risk.federated.vertical_lr import sigmoid

MODEL_FILE = "federated_model.json"
FORMAT = "puhui-federated-lr/1"


@dataclass
class FederatedModel:
    """Bank weights (intercept first) and where the owner's weights live (never here)."""

    model_id: str
    owner_url: str
    bank_features: list[str]
    owner_features: list[str]
    weights: list[float]
    standardiser: Standardiser
    metadata: dict[str, Any] = field(default_factory=dict)

    def bank_scores(self, features: Matrix) -> np.ndarray[Any, np.dtype[np.float64]]:
        design = with_intercept(self.standardiser.transform(features))
        scores: np.ndarray[Any, np.dtype[np.float64]] = design @ np.array(self.weights)
        return scores

    def probabilities(
        self, features: Matrix, owner_scores: np.ndarray[Any, np.dtype[np.float64]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """P(default) from the bank's raw features and the owner's partial scores."""
        probabilities: np.ndarray[Any, np.dtype[np.float64]] = sigmoid(
            self.bank_scores(features) + owner_scores
        )
        return probabilities

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model_id": self.model_id,
            "owner_url": self.owner_url,
            "bank_features": self.bank_features,
            "owner_features": self.owner_features,
            "weights": self.weights,
            "standardiser": self.standardiser.to_dict(),
            "metadata": self.metadata,
            "versions": {
                "puhui": package_metadata.version("puhui"),
                "phe": package_metadata.version("phe"),
            },
        }


def intercept_shift(
    logits: np.ndarray[Any, np.dtype[np.float64]], labels: np.ndarray[Any, Any]
) -> float:
    """The shift δ of the intercept that makes the mean of σ(logit + δ) the observed default
    rate (calibration in the large); 0 when the rows hold no default or nothing else.

    Training on the residual expanded in the owner's score ranks like logistic regression
    but leaves the level of the probabilities high (docs/federated.md): the bank refits the
    intercept on the held-out rows, whose owner scores it receives for validation anyway.
    The mean is increasing in δ, so bisection finds it to 1e-10."""
    if len(labels) == 0 or float(np.min(labels)) == float(np.max(labels)):
        return 0.0
    rate = float(np.mean(labels))
    low, high = -30.0, 30.0
    while high - low > 1e-10:
        middle = (low + high) / 2
        if float(np.mean(sigmoid(logits + middle))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def write_model(model: FederatedModel, out: Path) -> None:
    """Write to a temporary sibling and rename: ``out`` exists complete or not at all."""
    if out.exists():
        raise InvalidFederatedData("the model folder exists already", details={"out": str(out)})
    temporary = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    temporary.mkdir(parents=True)
    try:
        (temporary / MODEL_FILE).write_text(json.dumps(model.to_dict(), indent=2), encoding="utf-8")
        temporary.rename(out)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def load_model(folder: Path) -> FederatedModel:
    path = folder / MODEL_FILE
    if not path.is_file():
        raise InvalidFederatedData(
            "no federated model in the folder", details={"folder": str(folder)}
        )
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != FORMAT:
        raise InvalidFederatedData("unknown federated model format")
    return FederatedModel(
        model_id=document["model_id"],
        owner_url=document["owner_url"],
        bank_features=list(document["bank_features"]),
        owner_features=list(document["owner_features"]),
        weights=[float(w) for w in document["weights"]],
        standardiser=Standardiser.from_dict(document["standardiser"]),
        metadata=dict(document["metadata"]),
    )
