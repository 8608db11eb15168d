"""What a decision returns: outcome, offer, reasons, versions and the trace of every rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, overload

Value = float | int | str | bool | None


class Outcome(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REFER = "refer"


@dataclass(frozen=True, slots=True)
class ModelResult:
    """What the scorer returns for one applicant. PD and score are floats: they are model
    outputs, not money (tiny probabilities must not underflow a decimal type)."""

    pd: float | None
    score: float | None
    reasons: tuple[str, ...] = ()
    """Model reason codes, most adverse first (points lost against the baseline)."""
    model_versions: Mapping[str, str] = field(default_factory=dict)
    reason_texts: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Model reason code -> (zh-CN, en) customer text, for codes the strategy does not list."""


class Scorer(Protocol):
    """The port to the online scorer: features in, PD, score and reasons out."""

    def score(self, features: Mapping[str, Value]) -> ModelResult: ...


class TraceStep(NamedTuple):
    """One rule evaluated: where it is, the values it read, whether it matched, what it set.

    A named tuple rather than a frozen dataclass: it is as immutable and four times cheaper
    to build, which keeps tracing within the engine's budget.
    """

    section: str
    rule_id: str
    read: Mapping[str, Value]
    matched: bool
    output: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "rule_id": self.rule_id,
            "read": dict(self.read),
            "matched": self.matched,
            "output": None if self.output is None else _jsonable(dict(self.output)),
        }


class TracedRule(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def then(self) -> Mapping[str, Any]: ...


class Trace(Sequence[TraceStep]):
    """The steps of one decision, recorded cheaply and expanded on first read.

    During evaluation a table row costs one small tuple (section, rule, matched); the values a
    rule read come from a snapshot of the decision's environment, which only ever gains names,
    so the snapshot holds exactly what each rule saw.
    """

    __slots__ = ("_entries", "_env", "_steps")

    def __init__(
        self,
        entries: list[TraceStep | tuple[str, TracedRule, bool]],
        env: Mapping[str, Value],
    ) -> None:
        self._entries = entries
        self._env = env
        self._steps: tuple[TraceStep, ...] | None = None

    def steps(self) -> tuple[TraceStep, ...]:
        if self._steps is None:
            env = self._env
            expanded = []
            for entry in self._entries:
                if isinstance(entry, TraceStep):
                    expanded.append(entry)
                    continue
                section, rule, matched = entry
                expanded.append(
                    TraceStep(
                        section,
                        rule.id,
                        {name: env.get(name) for name in rule.columns},
                        matched,
                        rule.then if matched else None,
                    )
                )
            self._steps = tuple(expanded)
        return self._steps

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> TraceStep: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[TraceStep, ...]: ...

    def __getitem__(self, index: int | slice) -> TraceStep | tuple[TraceStep, ...]:
        return self.steps()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace):
            return self.steps() == other.steps()
        if isinstance(other, tuple):
            return self.steps() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.steps())

    def __repr__(self) -> str:
        return f"Trace({list(self.steps())!r})"


class Decision(NamedTuple):
    """The outcome of one decision; immutable, and cheap to build (a named tuple)."""

    outcome: Outcome
    limit_fen: int
    annual_rate: Decimal | None
    term_months: int | None
    grade: str | None
    pd: float | None
    score: float | None
    reasons: tuple[str, ...]
    strategy_version: str
    model_versions: Mapping[str, str]
    trace: Sequence[TraceStep] = ()

    def to_dict(self, *, with_trace: bool = True) -> dict[str, Any]:
        """A JSON-ready record (rates as strings, amounts as integer fen)."""
        record: dict[str, Any] = {
            "outcome": self.outcome.value,
            "limit_fen": self.limit_fen,
            "annual_rate": None if self.annual_rate is None else str(self.annual_rate),
            "term_months": self.term_months,
            "grade": self.grade,
            "pd": self.pd,
            "score": self.score,
            "reasons": list(self.reasons),
            "strategy_version": self.strategy_version,
            "model_versions": dict(self.model_versions),
        }
        if with_trace:
            record["trace"] = [step.to_dict() for step in self.trace]
        return record


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
