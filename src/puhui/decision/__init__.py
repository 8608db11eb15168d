"""Credit decision engine: versioned strategy documents compiled into pure decision functions."""

from puhui.decision.champion import Arm, Experiment, RoutedDecision, bucket
from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import Decision, ModelResult, Outcome, Scorer, Trace, TraceStep
from puhui.decision.strategy import (
    Problem,
    StrategyInvalid,
    compile_strategy,
    content_hash,
    load_shipped_strategy,
    load_strategy,
    parse_document,
    shipped_strategies,
    validate_text,
)

__all__ = [
    "Arm",
    "CompiledStrategy",
    "Decision",
    "Experiment",
    "ModelResult",
    "Outcome",
    "Problem",
    "RoutedDecision",
    "Scorer",
    "StrategyInvalid",
    "Trace",
    "TraceStep",
    "bucket",
    "compile_strategy",
    "content_hash",
    "load_shipped_strategy",
    "load_strategy",
    "parse_document",
    "shipped_strategies",
    "validate_text",
]
