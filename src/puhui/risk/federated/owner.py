"""The data owner's side: PSI answers, its half of each training step, checkpoints, scoring.

The owner keeps its features, its weights and its masks; it accepts only ids the PSI matched,
batches of at least ``MIN_BATCH_ROWS`` rows, and writes its weights after every epoch so a run
can resume after either side restarts. It scores an applicant only under the applicant's
authorisation and within its per-minute limit, and records every id it scored
(``<folder>/queries/YYYY-MM.jsonl``, see ``scoring``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from puhui.domain.clock import Clock, SystemClock
from puhui.risk.federated import psi
from puhui.risk.federated.data import Matrix, PartyData, Standardiser, read_party
from puhui.risk.federated.errors import (
    FederatedRecordUnknown,
    FederatedSessionUnknown,
    InvalidFederatedData,
)
from puhui.risk.federated.paillier import KeyPair, PublicKey
from puhui.risk.federated.scoring import (
    ScoringConsent,
    ScoringPurpose,
    ScoringQuota,
    check_consents,
)
from puhui.risk.federated.vertical_lr import Vector, owner_gradient, step, unmask

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _token(value: str, what: str) -> str:
    # Tokens become file names under the owner's folder: nothing but a plain word.
    if not _TOKEN.fullmatch(value):
        raise InvalidFederatedData(f"the {what} is not a token", details={"field": what})
    return value


@dataclass
class _Pending:
    rows: list[int]
    masks: list[int]


@dataclass
class _Training:
    training_id: str
    session_id: str
    ids: list[str]
    features: Matrix
    standardiser: Standardiser
    weights: Vector
    learning_rate: float
    l2: float
    bank_key: PublicKey
    keys: KeyPair
    row_of: dict[str, int] = field(default_factory=dict)
    pending: _Pending | None = None


def _queries_path(folder: Path, month: date) -> Path:
    return folder / "queries" / f"{month:%Y-%m}.jsonl"


def read_queries(folder: Path, month: date) -> list[dict[str, Any]]:
    """The owner's query record of one month (any day of it names it), oldest first."""
    path = _queries_path(folder, month)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


class OwnerParty:
    """One data owner serving one bank (sessions in memory, checkpoints and models on disk)."""

    DEFAULT_SCORE_LIMIT = 600
    """Applicants scored online a minute, unless the owner sets its own (``--score-limit``)."""

    def __init__(
        self,
        folder: Path,
        *,
        clock: Clock | None = None,
        quota: ScoringQuota | None = None,
    ) -> None:
        self.folder = folder
        self._clock = clock or SystemClock()
        self.quota = quota or ScoringQuota(self.DEFAULT_SCORE_LIMIT)
        self.data: PartyData = read_party(folder, with_labels=False)
        self._row = {identifier: i for i, identifier in enumerate(self.data.ids)}
        self._psi_orders: dict[str, list[str]] = {}
        self._trainings: dict[str, _Training] = {}
        self._lock = threading.Lock()

    # -- private set intersection ------------------------------------------------------------

    def psi_answer(self, bank_blinded: list[bytes]) -> tuple[str, psi.OwnerPsiAnswer]:
        session_id = secrets.token_hex(12)
        answer, order = psi.owner_answer(psi.PsiKey(), bank_blinded, self.data.ids)
        with self._lock:
            self._psi_orders[session_id] = order
        return session_id, answer

    def align(self, session_id: str, positions: list[int]) -> int:
        """Record the intersection the bank found (positions in the owner's shuffled list)."""
        with self._lock:
            order = self._psi_orders.pop(_token(session_id, "session id"), None)
        if order is None:
            raise FederatedSessionUnknown("no PSI session of that id")
        if any(not 0 <= p < len(order) for p in positions):
            raise InvalidFederatedData("a PSI position is outside the owner's list")
        shared = sorted({order[p] for p in positions})
        self._write(self._session_dir(session_id) / "aligned.json", {"ids": shared})
        return len(shared)

    def _aligned(self, session_id: str) -> set[str]:
        path = self._session_dir(_token(session_id, "session id")) / "aligned.json"
        if not path.is_file():
            raise FederatedSessionUnknown("no aligned PSI session of that id")
        return set(json.loads(path.read_text(encoding="utf-8"))["ids"])

    # -- training ----------------------------------------------------------------------------

    def open_training(
        self,
        *,
        training_id: str,
        session_id: str,
        train_ids: list[str],
        bank_key_n: int,
        key_bits: int,
        learning_rate: float,
        l2: float,
        resume_epoch: int,
    ) -> tuple[int, list[str]]:
        """Start or resume a run: the owner's public key and feature names."""
        run_dir = self._run_dir(training_id)
        aligned = self._aligned(session_id)
        if not set(train_ids) <= aligned:
            raise FederatedRecordUnknown("a training id is not in the PSI intersection")
        rows = np.array([self._row[i] for i in train_ids], dtype=np.int64)
        raw = self.data.features[rows]
        standardiser = Standardiser.fit(raw)
        weights = np.zeros(raw.shape[1])
        if resume_epoch > 0:
            checkpoint = run_dir / f"epoch-{resume_epoch}.json"
            if not checkpoint.is_file():
                raise FederatedSessionUnknown(
                    "the owner has no checkpoint of that epoch", details={"epoch": resume_epoch}
                )
            weights = np.array(json.loads(checkpoint.read_text(encoding="utf-8"))["weights"])
        training = _Training(
            training_id=training_id,
            session_id=session_id,
            ids=list(train_ids),
            features=standardiser.transform(raw),
            standardiser=standardiser,
            weights=weights,
            learning_rate=learning_rate,
            l2=l2,
            bank_key=PublicKey(bank_key_n),
            keys=KeyPair(key_bits),
            row_of={identifier: i for i, identifier in enumerate(train_ids)},
        )
        with self._lock:
            self._trainings[training_id] = training
        return training.keys.public.n, list(self.data.feature_names)

    def _training(self, training_id: str) -> _Training:
        with self._lock:
            training = self._trainings.get(training_id)
        if training is None:
            raise FederatedSessionUnknown("no open training run of that id")
        return training

    def gradient(
        self,
        training_id: str,
        ids: list[str],
        encrypted_intercepts: list[int],
        encrypted_slopes: list[int],
    ) -> tuple[list[int], list[int]]:
        training = self._training(training_id)
        try:
            rows = [training.row_of[i] for i in ids]
        except KeyError:
            raise FederatedRecordUnknown("a batch id is not in the training set") from None
        masked, scores, masks = owner_gradient(
            training.bank_key,
            encrypted_intercepts,
            encrypted_slopes,
            training.features[rows],
            training.weights,
            owner_keys=training.keys,
        )
        training.pending = _Pending(rows, masks)
        return masked, scores

    def update(
        self, training_id: str, masked_gradient: list[int], encrypted_cross: list[int]
    ) -> list[int]:
        training = self._training(training_id)
        pending = training.pending
        if pending is None:
            raise InvalidFederatedData("an update without a gradient before it")
        if len(masked_gradient) != len(pending.masks):
            raise InvalidFederatedData("one masked gradient value per owner feature")
        gradient = unmask(masked_gradient, pending.masks, len(pending.rows))
        training.weights = step(
            training.weights, gradient, training.learning_rate, training.l2, intercept=False
        )
        training.pending = None
        return [training.keys.decrypt(c) for c in encrypted_cross]

    def end_epoch(self, training_id: str, epoch: int) -> None:
        training = self._training(training_id)
        self._write(
            self._run_dir(training_id) / f"epoch-{epoch}.json",
            {"epoch": epoch, "weights": [float(w) for w in training.weights]},
        )

    def commit(self, training_id: str, model_id: str) -> None:
        """Keep the trained weights as the owner's part of a model (see ``assessment_scores``)."""
        training = self._training(training_id)
        self._write(
            self.folder / "models" / f"{_token(model_id, 'model id')}.json",
            {
                "model_id": model_id,
                "session_id": training.session_id,
                "features": self.data.feature_names,
                "weights": [float(w) for w in training.weights],
                "standardiser": training.standardiser.to_dict(),
                "data_hash": self.data.data_hash,
            },
        )
        with self._lock:
            self._trainings.pop(training_id, None)

    # -- online scoring ----------------------------------------------------------------------

    def assessment_scores(self, model_id: str, consents: list[ScoringConsent]) -> list[float]:
        """Partial scores of applicants, each under its authorisation, within the limit.

        Checked in this order, each refusing the whole request: every id has an authorisation
        in force; the limit a minute has room; the model exists; every id is held. The ids are
        recorded before the scores leave."""
        check_consents(consents, today=self._clock.today())
        self.quota.take(len(consents))
        ids = [c.enterprise_id for c in consents]
        scores = self._scores(self._model(model_id), ids)
        at = self._clock.now().isoformat()
        self._record(
            [
                {
                    "at": at,
                    "purpose": ScoringPurpose.ASSESSMENT.value,
                    "model_id": model_id,
                    "id": c.enterprise_id,
                    "consent_ref": c.reference,
                    "consent_expires_on": c.expires_on.isoformat(),
                }
                for c in consents
            ]
        )
        return scores

    def validation_scores(self, model_id: str, ids: list[str]) -> list[float]:
        """Partial scores of ids inside the model's own PSI intersection (the bank's test rows
        after training); the training agreement covers them, so no authorisation each."""
        model = self._model(model_id)
        session_id = model.get("session_id")
        if not isinstance(session_id, str):
            raise FederatedSessionUnknown(
                "the model does not name its PSI session (committed by an older owner); "
                "validate it with authorisations per enterprise instead"
            )
        if not set(ids) <= self._aligned(session_id):
            raise FederatedRecordUnknown("an id is outside the model's PSI intersection")
        scores = self._scores(model, ids)
        self._record(
            [
                {
                    "at": self._clock.now().isoformat(),
                    "purpose": ScoringPurpose.VALIDATION.value,
                    "model_id": model_id,
                    "ids": len(ids),
                }
            ]
        )
        return scores

    def _model(self, model_id: str) -> dict[str, Any]:
        path = self.folder / "models" / f"{_token(model_id, 'model id')}.json"
        if not path.is_file():
            raise FederatedSessionUnknown("the owner has no model of that id")
        model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return model

    def _scores(self, model: dict[str, Any], ids: list[str]) -> list[float]:
        try:
            rows = np.array([self._row[i] for i in ids], dtype=np.int64)
        except KeyError:
            raise FederatedRecordUnknown("the owner has no record of an id asked for") from None
        features = Standardiser.from_dict(model["standardiser"]).transform(self.data.features[rows])
        return [float(s) for s in features @ np.array(model["weights"])]

    def _record(self, entries: list[dict[str, Any]]) -> None:
        # Appended and synced before the answer leaves: an id scored is an id on record.
        path = _queries_path(self.folder, self._clock.today())
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries)
        with self._lock, path.open("a", encoding="utf-8") as log:
            log.write(text)
            log.flush()
            os.fsync(log.fileno())

    # -- files -------------------------------------------------------------------------------

    def _session_dir(self, session_id: str) -> Path:
        return self.folder / "sessions" / session_id

    def _run_dir(self, training_id: str) -> Path:
        return self.folder / "trainings" / _token(training_id, "training id")

    @staticmethod
    def _write(path: Path, document: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document), encoding="utf-8")
        temporary.replace(path)
