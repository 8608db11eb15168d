"""What decides right now: the active strategy version, its challenger and the champion model.

Live decisions use only what governance approved: the strategy version activated with four
eyes (stored in the database) and the model the registry names champion. Every assessment
asks :class:`LiveDecisioning` for the current setup; it compares two cheap stamps (one
query for the strategy, one ``stat`` of the registry index) and reloads only what changed, so
an activation or a promotion takes effect for the next application in every worker without a
restart. A version that fails to load never leaves a worker with nothing: the last good one
stays in use and the failure is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from puhui.decision.engine import CompiledStrategy
from puhui.decision.strategy import load_strategy
from puhui.domain.errors import PuhuiError
from puhui.risk.artefact import ModelArtefact
from puhui.risk.features import FEATURE_LABELS
from puhui.risk.registry import RegistryEntry
from puhui.risk.scorer import OnlineScorer, scorer_for
from puhui.services.strategies import (
    ChallengerMode,
    ChallengerSetting,
    LiveStamp,
    StrategyVersion,
)

logger = logging.getLogger(__name__)


class ModelSource(Protocol):
    """The model registry as live decisions see it (``risk.registry.ModelRegistry``)."""

    def stamp(self) -> object: ...

    def champion(self, name: str) -> RegistryEntry | None: ...

    def load(self, version: str) -> ModelArtefact: ...


@dataclass(frozen=True, slots=True)
class LiveStrategy:
    name: str
    version: int
    content_hash: str
    compiled: CompiledStrategy

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class LiveChallenger:
    strategy: LiveStrategy
    mode: ChallengerMode
    share_bp: int
    salt: str


@dataclass(frozen=True, slots=True)
class LiveModel:
    name: str
    version: str
    kind: str
    scorer: OnlineScorer


@dataclass(frozen=True, slots=True)
class LiveSetup:
    """One consistent view of what decides: used whole for one application."""

    champion: LiveStrategy | None
    challenger: LiveChallenger | None
    model: LiveModel | None


def _scorer(artefact: ModelArtefact) -> OnlineScorer:
    return scorer_for(artefact.model, FEATURE_LABELS)


class SetupSource(Protocol):
    """Where an assessor learns what decides now (``LiveDecisioning``, or a fixed setup)."""

    def current(self) -> LiveSetup: ...


@dataclass(frozen=True, slots=True)
class FixedSetup:
    """Always the same setup: tests, benchmarks and replays of one configuration."""

    setup: LiveSetup

    def current(self) -> LiveSetup:
        return self.setup


class LiveDecisioning:
    """Keeps the governed setup current for one process; safe to share between threads."""

    def __init__(
        self,
        *,
        strategy_name: str,
        model_name: str,
        stamp: Callable[[str], LiveStamp],
        load_version: Callable[[str, int], StrategyVersion],
        models: ModelSource,
        make_scorer: Callable[[ModelArtefact], OnlineScorer] | None = None,
    ) -> None:
        self.strategy_name = strategy_name
        self.model_name = model_name
        self._stamp = stamp
        self._load_version = load_version
        self._models = models
        self._make_scorer = make_scorer or _scorer
        self._lock = threading.Lock()
        self._strategy_stamp: LiveStamp | None = None
        self._model_stamp: object = None
        self._model_checked = False
        self._setup = LiveSetup(None, None, None)
        self._compiled: dict[tuple[int, str], LiveStrategy] = {}

    def current(self) -> LiveSetup:
        """The setup to decide with now, reloading whatever governance changed."""
        stamp = self._read_stamp()
        model_stamp = self._models.stamp()
        if (
            stamp == self._strategy_stamp
            and model_stamp == self._model_stamp
            and self._model_checked
        ):
            return self._setup
        with self._lock:
            setup = self._setup
            if stamp is not None and stamp != self._strategy_stamp:
                setup = self._reload_strategies(setup, stamp)
            if model_stamp != self._model_stamp or not self._model_checked:
                setup = self._reload_model(setup, model_stamp)
            self._setup = setup
            return setup

    def _read_stamp(self) -> LiveStamp | None:
        try:
            return self._stamp(self.strategy_name)
        except PuhuiError:
            logger.exception("cannot read the active strategy of %s", self.strategy_name)
            return None

    def _strategy(self, version: int, content_hash: str) -> LiveStrategy:
        key = (version, content_hash)
        cached = self._compiled.get(key)
        if cached is None:
            stored = self._load_version(self.strategy_name, version)
            compiled = load_strategy(stored.label, text=stored.document)
            cached = LiveStrategy(self.strategy_name, version, stored.content_hash, compiled)
            self._compiled[key] = cached
        return cached

    def _reload_strategies(self, setup: LiveSetup, stamp: LiveStamp) -> LiveSetup:
        champion = setup.champion
        challenger = setup.challenger
        try:
            if stamp.active_version is None or stamp.active_hash is None:
                champion = None
                logger.error("strategy %s has no active version", self.strategy_name)
            else:
                champion = self._strategy(stamp.active_version, stamp.active_hash)
            challenger = self._challenger(stamp.challenger)
        except PuhuiError:
            # Keep deciding with the last good versions until governance changes again
            # (not retried on every application: the stored document will not heal itself).
            self._strategy_stamp = stamp
            logger.exception(
                "cannot load strategy %s as stored; keeping %s",
                self.strategy_name,
                setup.champion.label if setup.champion else "nothing (applications referred)",
            )
            return setup
        self._strategy_stamp = stamp
        if champion is not None and (setup.champion is None or champion != setup.champion):
            logger.info("deciding with strategy %s", champion.label)
        return LiveSetup(champion, challenger, setup.model)

    def _challenger(self, challenger: ChallengerSetting | None) -> LiveChallenger | None:
        if challenger is None:
            return None
        stored = self._load_version(challenger.name, challenger.version)
        strategy = self._strategy(challenger.version, stored.content_hash)
        return LiveChallenger(strategy, challenger.mode, challenger.share_bp, challenger.salt)

    def _reload_model(self, setup: LiveSetup, model_stamp: object) -> LiveSetup:
        try:
            entry = self._models.champion(self.model_name)
            if entry is None:
                model = None
                logger.error("no champion model %r in the registry", self.model_name)
            elif setup.model is not None and setup.model.version == entry.version:
                model = setup.model
            else:
                artefact = self._models.load(entry.version)
                model = LiveModel(
                    name=self.model_name,
                    version=entry.version,
                    kind=entry.kind,
                    scorer=self._make_scorer(artefact),
                )
                logger.info("deciding with model %s (%s)", entry.version, entry.kind)
        except (PuhuiError, OSError):
            self._model_stamp = model_stamp
            self._model_checked = True
            logger.exception(
                "cannot load the champion model %r; keeping %s",
                self.model_name,
                setup.model.version if setup.model else "none (applications referred)",
            )
            return setup
        self._model_stamp = model_stamp
        self._model_checked = True
        return LiveSetup(setup.champion, setup.challenger, model)
