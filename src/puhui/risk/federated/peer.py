"""The port through which the bank talks to a data owner, and an in-process implementation."""

from __future__ import annotations

from typing import Protocol

from puhui.risk.federated.owner import OwnerParty
from puhui.risk.federated.psi import OwnerPsiAnswer
from puhui.risk.federated.scoring import ScoringConsent


class OwnerPeer(Protocol):
    """What the bank asks of a data owner; the HTTP client in adapters is the real one."""

    @property
    def bytes_exchanged(self) -> int: ...

    def psi(self, bank_blinded: list[bytes]) -> tuple[str, OwnerPsiAnswer]: ...

    def align(self, session_id: str, positions: list[int]) -> int: ...

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
    ) -> tuple[int, list[str]]: ...

    def gradient(
        self,
        training_id: str,
        ids: list[str],
        encrypted_intercepts: list[int],
        encrypted_slopes: list[int],
    ) -> tuple[list[int], list[int]]:
        """Step 2 for one batch: the owner's masked gradient and its encrypted scores."""
        ...

    def update(
        self, training_id: str, masked_gradient: list[int], encrypted_cross: list[int]
    ) -> list[int]: ...

    def end_epoch(self, training_id: str, epoch: int) -> None: ...

    def commit(self, training_id: str, model_id: str) -> None: ...

    def assessment_scores(self, model_id: str, consents: list[ScoringConsent]) -> list[float]:
        """The owner's partial scores of applicants, each under its authorisation."""
        ...

    def validation_scores(self, model_id: str, ids: list[str]) -> list[float]:
        """The owner's partial scores of the model's held-out PSI intersection."""
        ...


class InProcessOwner:
    """The owner called directly (unit tests, the benchmark's protocol-only timing)."""

    bytes_exchanged = 0

    def __init__(self, party: OwnerParty) -> None:
        self.party = party

    def psi(self, bank_blinded: list[bytes]) -> tuple[str, OwnerPsiAnswer]:
        return self.party.psi_answer(bank_blinded)

    def align(self, session_id: str, positions: list[int]) -> int:
        return self.party.align(session_id, positions)

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
        return self.party.open_training(
            training_id=training_id,
            session_id=session_id,
            train_ids=train_ids,
            bank_key_n=bank_key_n,
            key_bits=key_bits,
            learning_rate=learning_rate,
            l2=l2,
            resume_epoch=resume_epoch,
        )

    def gradient(
        self,
        training_id: str,
        ids: list[str],
        encrypted_intercepts: list[int],
        encrypted_slopes: list[int],
    ) -> tuple[list[int], list[int]]:
        return self.party.gradient(training_id, ids, encrypted_intercepts, encrypted_slopes)

    def update(
        self, training_id: str, masked_gradient: list[int], encrypted_cross: list[int]
    ) -> list[int]:
        return self.party.update(training_id, masked_gradient, encrypted_cross)

    def end_epoch(self, training_id: str, epoch: int) -> None:
        self.party.end_epoch(training_id, epoch)

    def commit(self, training_id: str, model_id: str) -> None:
        self.party.commit(training_id, model_id)

    def assessment_scores(self, model_id: str, consents: list[ScoringConsent]) -> list[float]:
        return self.party.assessment_scores(model_id, consents)

    def validation_scores(self, model_id: str, ids: list[str]) -> list[float]:
        return self.party.validation_scores(model_id, ids)
