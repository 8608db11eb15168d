"""The advisor's wiring: the strategy's limit rule in force, the market's peers loaded on use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from puhui.decision.engine import CompiledStrategy
from puhui.decision.strategy import load_shipped_strategy
from puhui.services import strategies
from puhui.services.advisor.access import StrategyLimit
from puhui.services.advisor.ports import PeerAnswer, PeerBenchmarks


def limit_of(compiled: CompiledStrategy, label: str) -> StrategyLimit:
    rule = compiled.limit_rule
    grades = tuple(dict.fromkeys(g for item in rule.affordability for g in item.multiple_by_grade))
    return StrategyLimit(rule=rule, label=label, grades=grades)


def strategy_limit(uow: strategies.UowFactory | None, name: str) -> Callable[[], StrategyLimit]:
    """The limit rule of ``name``'s active version (compiled once per version); the shipped
    file, labelled so, while no version is active (a fresh database)."""
    cache: dict[str, StrategyLimit] = {}
    lock = threading.Lock()

    def current() -> StrategyLimit:
        version = strategies.active_version(uow, name) if uow is not None else None
        key = version.label if version is not None else f"{name} (shipped file)"
        with lock:
            found = cache.get(key)
            if found is None:
                compiled = (
                    strategies.load_active(uow, name)
                    if version is not None and uow is not None
                    else load_shipped_strategy(name)
                )
                found = cache[key] = limit_of(compiled, key)
            return found

    return current


class LazyPeers:
    """``PeerBenchmarks`` over a market folder, read on the first report (not at start-up)."""

    def __init__(self, market_dir: Path) -> None:
        self._dir = market_dir
        self._peers: PeerBenchmarks | None = None
        self._lock = threading.Lock()

    def cells(self, industry_group: str, size_band: str, as_of: date) -> PeerAnswer:
        with self._lock:
            if self._peers is None:
                from puhui.adapters.sources.peers import MarketPeers  # noqa: PLC0415 - heavy

                self._peers = MarketPeers(self._dir)
        return self._peers.cells(industry_group, size_band, as_of)
