"""Champion/challenger: arms chosen by a deterministic hash of the applicant id, shadow runs."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from puhui.decision.engine import CompiledStrategy
from puhui.decision.errors import InvalidExperiment
from puhui.decision.outcome import Decision, ModelResult

BUCKETS = 10_000
"""Shares are in basis points of traffic: 10,000 buckets."""


@dataclass(frozen=True, slots=True)
class Arm:
    name: str
    strategy: CompiledStrategy
    share_bp: int
    """Share of live traffic in basis points (0 for a shadow-only arm)."""
    mode: Literal["live", "shadow"] = "live"


@dataclass(frozen=True, slots=True)
class RoutedDecision:
    arm: str
    decision: Decision
    """The decision acted on."""
    shadow: Mapping[str, Decision]
    """Decisions of shadow arms: recorded, never acted on."""


def bucket(applicant_id: str, salt: str) -> int:
    """A stable bucket in [0, 10000) for an applicant: the same id always lands in the same arm.

    A hash, not a random draw, so that a re-application or a replay meets the same strategy,
    and so that the assignment can be recomputed by an auditor from the id and the salt.
    """
    digest = hashlib.blake2b(f"{salt}:{applicant_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class Experiment:
    """Live arms split traffic by share; shadow arms see every applicant and act on none."""

    def __init__(self, arms: Sequence[Arm], *, salt: str) -> None:
        live = [arm for arm in arms if arm.mode == "live"]
        if not live:
            raise InvalidExperiment("an experiment needs at least one live arm")
        if sum(arm.share_bp for arm in live) != BUCKETS:
            raise InvalidExperiment(f"live shares must add up to {BUCKETS} basis points")
        if any(arm.share_bp < 0 for arm in arms):
            raise InvalidExperiment("shares must not be negative")
        if any(arm.share_bp for arm in arms if arm.mode == "shadow"):
            raise InvalidExperiment("a shadow arm takes no live share")
        if len({arm.name for arm in arms}) != len(arms):
            raise InvalidExperiment("arm names must be unique")
        if not salt:
            raise InvalidExperiment("an experiment needs a salt (its name)")
        self.salt = salt
        self.live = tuple(live)
        self.shadow = tuple(arm for arm in arms if arm.mode == "shadow")
        bounds, total = [], 0
        for arm in live:
            total += arm.share_bp
            bounds.append(total)
        self._bounds = tuple(bounds)

    def assign(self, applicant_id: str) -> Arm:
        slot = bucket(applicant_id, self.salt)
        for bound, arm in zip(self._bounds, self.live, strict=True):
            if slot < bound:
                return arm
        return self.live[-1]

    def evaluate(
        self,
        applicant_id: str,
        inputs: Mapping[str, Any],
        model: ModelResult,
        *,
        as_of: dt.date,
        licence_type: str,
        trace: bool = False,
    ) -> RoutedDecision:
        arm = self.assign(applicant_id)
        decision = arm.strategy.evaluate(
            inputs, model, as_of=as_of, licence_type=licence_type, trace=trace
        )
        shadow = {
            s.name: s.strategy.evaluate(
                inputs, model, as_of=as_of, licence_type=licence_type, trace=trace
            )
            for s in self.shadow
        }
        return RoutedDecision(arm=arm.name, decision=decision, shadow=shadow)
