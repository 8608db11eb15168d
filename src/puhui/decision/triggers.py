"""Post-loan trigger rules (贷后预警): signal documents, versioned and compiled like strategies.

A trigger document declares typed ``inputs`` (one customer's monitoring data), optional
``computed`` values (the strategy expression language) and ``signals``: each a table row in the
strategy cell language, with a stable code, a severity and zh-CN/en texts. It is parsed and
checked by the strategy machinery (:func:`puhui.decision.strategy.parse_model`,
:class:`puhui.decision.strategy.RuleCompiler`), so problems come back with their YAML line; the
signals become one ``collect`` table compiled by :mod:`puhui.decision.tables` into one
generated function. :meth:`CompiledTriggers.evaluate` reads one customer;
:meth:`CompiledTriggers.evaluate_frame` reads a Polars frame of customers through the same
function, so batch and online cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from puhui.decision.document import CellText, Code, InputSpec, InputType, Name, RuleSpec, TableSpec
from puhui.decision.engine import RESERVED_NAMES, InputCheck, compile_input_check
from puhui.decision.expression import Expression
from puhui.decision.strategy import (
    DocumentLines,
    Problem,
    Problems,
    RuleCompiler,
    StrategyInvalid,
    parse_model,
)
from puhui.decision.tables import CompiledTable
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.monitoring.alerts import Hit, Severity

SHIPPED_TRIGGERS = "mse-post-loan"
"""The trigger rules shipped with the package (``decision/triggers/mse-post-loan.yaml``)."""

MONITORING_INPUTS: tuple[str, ...] = (
    "declared_sales_yoy_change",
    "tax_grade",
    "tax_grade_previous",
    "tax_late_filings_12m",
    "tax_arrears_fen",
    "court_cases_new_as_defendant",
    "enforcement_listed",
    "overdue_accounts_other_lenders",
    "credit_enquiries_other_lenders_90d",
    "electricity_yoy_change",
    "settlement_inflow_change_3m",
    "guarantor_in_default",
    "guarantee_circle_members_in_default",
    "guaranteed_party_defaulted",
    "main_trade_partner_defaulted",
    "guarantee_circle_distressed_share",
    "guarantee_circle_exposure_fen",
    "contagion_score",
    "behavioural_pd",
    "origination_pd",
    "days_past_due",
    "fund_use_diverted_share",
    "industry_prosperity_index",
    "industry_prosperity_index_previous",
    "industry_prosperity_change_3m",
    "region_prosperity_index",
    "region_prosperity_index_previous",
    "region_prosperity_change_3m",
)
"""The inputs the shipped trigger rules read, per customer, on the run date. The monitoring run
feeds them from the feature store (tax, invoices, utilities, settlement, court, bureau), the
relationship graph (guarantors, circles, trade partners, contagion: ``puhui.graph.features``),
the behavioural model, servicing (DPD), the
fund-use detector over the customer's recent draws (``puhui.risk.fund_use``) and the platform's
prosperity indices of the customer's industry and region (docs/prosperity.md; missing without
a build)."""


class TriggersInvalid(StrategyInvalid):
    """A trigger-rules document was refused; ``problems`` lists every problem found."""

    code = "triggers_invalid"


class MonitoringInputsRefused(InvalidInput):
    """Monitoring inputs of the wrong type or missing; every problem is named."""

    code = "monitoring_inputs_refused"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalText(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class SignalSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    code: Code
    """The stable code of the signal: alerts, tasks and reports carry it."""
    description: str = ""
    when: dict[str, CellText] = Field(min_length=1)
    """Column -> cell, as in strategy tables; every cell must match."""
    severity: Severity
    text: SignalText


class TriggerDocument(_Strict):
    schema_version: Literal[1] = 1
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
    version: int = Field(ge=1)
    description: str = ""
    inputs: dict[Name, InputSpec] = Field(min_length=1)
    computed: dict[Name, str] = Field(default_factory=dict)
    signals: tuple[SignalSpec, ...] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of trigger-rules documents."""
    schema = TriggerDocument.model_json_schema()
    schema["$id"] = "https://puhui.dev/schemas/triggers-v1.json"
    schema["title"] = "Puhui post-loan trigger rules"
    return schema


@dataclass(frozen=True, slots=True)
class SignalInfo:
    code: str
    severity: Severity
    text_zh: str
    text_en: str


class _SignalProblems(Problems):
    """The table checks name ``signals.rules[i]``; the document's path is ``signals[i]``."""

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        if path[:2] == ("signals", "rules"):
            path = ("signals", *path[2:])
        super().add(path, message)


@dataclass(frozen=True, slots=True)
class CompiledTriggers:
    """Trigger rules compiled once; ``evaluate`` never looks at the document."""

    document: TriggerDocument
    content_hash: str
    checks: tuple[InputCheck, ...]
    computed: tuple[tuple[str, Expression], ...]
    table: CompiledTable
    signals: Mapping[str, SignalInfo]
    """Signal id -> code, severity and texts."""
    _valid: Callable[[tuple[Any, ...]], bool]
    _single: tuple[Callable[[tuple[Any, ...]], bool], ...]

    @property
    def version_label(self) -> str:
        return f"{self.document.name}@{self.document.version}"

    def problems(self, inputs: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``inputs`` (empty when they may be evaluated)."""
        values = tuple(inputs.get(c.name) for c in self.checks)
        if self._valid(values):
            return []
        found = []
        for check, valid, value in zip(self.checks, self._single, values, strict=True):
            if valid((value,)):
                continue
            if value is None:
                found.append(f"{check.name}: required")
            else:
                found.append(f"{check.name}: expected {check.type.value}, got {value!r}")
        return found

    def _env(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        env = {c.name: inputs.get(c.name) for c in self.checks}
        for name, expression in self.computed:
            env[name] = expression.evaluate(env)
        return env

    def evaluate(self, inputs: Mapping[str, Any]) -> list[SignalInfo]:
        """The signals that fire for one customer's monitoring inputs, in document order."""
        problems = self.problems(inputs)
        if problems:
            raise MonitoringInputsRefused(
                f"monitoring inputs refused by {self.version_label}: " + "; ".join(problems),
                details={"problems": problems},
            )
        return [self.signals[rule.id] for rule in self.table.collect(self._env(inputs))]

    def hits(self, customer_id: str, inputs: Mapping[str, Any]) -> list[Hit]:
        """:meth:`evaluate` as the hits the alert rules take."""
        return [
            Hit(customer_id, s.code, s.severity, s.text_zh, s.text_en)
            for s in self.evaluate(inputs)
        ]

    def evaluate_frame(self, frame: pl.DataFrame, *, key: str = "customer_id") -> pl.DataFrame:
        """Every customer of ``frame`` (one row each, one column per input; a column left out
        is missing for all) -> one row per hit: ``key``, ``signal_id``, ``code``, ``severity``.

        Rows with refused inputs are collected and reported together, nothing is evaluated.
        """
        if key not in frame.columns:
            raise MonitoringInputsRefused(f"the frame has no key column {key!r}")
        columns = [key, *(c.name for c in self.checks if c.name in frame.columns)]
        rows = list(frame.select(columns).iter_rows(named=True))
        refused = []
        for row in rows:
            problems = self.problems(row)
            if problems:
                refused.append(f"{row[key]}: " + "; ".join(problems))
        if refused:
            raise MonitoringInputsRefused(
                f"{len(refused)} row(s) refused by {self.version_label}:\n  "
                + "\n  ".join(refused[:20]),
                details={"rows": refused},
            )
        out: dict[str, list[Any]] = {key: [], "signal_id": [], "code": [], "severity": []}
        collect = self.table.collect
        for row in rows:
            for rule in collect(self._env(row)):
                info = self.signals[rule.id]
                out[key].append(row[key])
                out["signal_id"].append(rule.id)
                out["code"].append(info.code)
                out["severity"].append(info.severity.value)
        return pl.DataFrame(
            out,
            schema={
                key: frame.schema[key],
                "signal_id": pl.String,
                "code": pl.String,
                "severity": pl.String,
            },
        )


def content_hash(document: TriggerDocument) -> str:
    """SHA-256 of the canonical JSON of the document: the identity of its content."""
    canonical = json.dumps(
        document.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_triggers(text: str, *, source: str = "triggers") -> tuple[TriggerDocument, DocumentLines]:
    return parse_model(
        text, TriggerDocument, source=source, invalid=TriggersInvalid, kind="trigger document"
    )


def compile_triggers(
    document: TriggerDocument, *, lines: DocumentLines | None = None, source: str = "triggers"
) -> CompiledTriggers:
    """Check everything the schema cannot (names, cells, types, duplicate ids and codes)."""
    problems = _SignalProblems(lines)
    for name, spec in document.inputs.items():
        if name in RESERVED_NAMES:
            problems.add(("inputs", name), f"{name!r} is reserved for the engine")
        if spec.allowed is not None and spec.type is not InputType.STRING:
            problems.add(("inputs", name, "allowed"), "only string inputs list values")
    compiler = RuleCompiler(document.inputs, document.computed, problems)
    computed = compiler.compile_computed()
    known = set(document.inputs) | set(document.computed)
    seen_codes: dict[str, str] = {}
    for index, signal in enumerate(document.signals):
        if signal.code in seen_codes:
            problems.add(
                ("signals", index, "code"),
                f"code {signal.code!r} is already used by signal {seen_codes[signal.code]!r}",
            )
        seen_codes.setdefault(signal.code, signal.id)
    rows = tuple(
        RuleSpec(id=s.id, description=s.description, when=s.when, reason=s.code)
        for s in document.signals
    )
    table = compiler.compile_table(
        ("signals",), TableSpec(hit_policy="collect", rules=rows), known, need_reason=True
    )
    if problems.items:
        raise TriggersInvalid(problems.items, source=source)
    checks = tuple(
        InputCheck(n, s.type, s.required, None if s.allowed is None else frozenset(s.allowed))
        for n, s in document.inputs.items()
    )
    return CompiledTriggers(
        document=document,
        content_hash=content_hash(document),
        checks=checks,
        computed=computed,
        table=table,
        signals={
            s.id: SignalInfo(s.code, s.severity, s.text.zh.strip(), s.text.en.strip())
            for s in document.signals
        },
        _valid=compile_input_check(checks),
        _single=tuple(compile_input_check((c,)) for c in checks),
    )


def load_triggers(source: str | Path, *, text: str | None = None) -> CompiledTriggers:
    """Read, validate and compile a trigger-rules file (or ``text`` named ``source``)."""
    if text is None:
        text = Path(source).read_text(encoding="utf-8")
    document, lines = parse_triggers(text, source=str(source))
    return compile_triggers(document, lines=lines, source=str(source))


def shipped_triggers_text(name: str = SHIPPED_TRIGGERS) -> str:
    resource = resources.files("puhui.decision").joinpath("triggers", f"{name}.yaml")
    if not resource.is_file():
        raise NotFound(f"no shipped trigger rules named {name!r}")
    return resource.read_text(encoding="utf-8")


def load_shipped_triggers(name: str = SHIPPED_TRIGGERS) -> CompiledTriggers:
    return load_triggers(f"{name}.yaml", text=shipped_triggers_text(name))


def validate_triggers_text(text: str, *, source: str = "triggers") -> list[Problem]:
    """Every problem of a trigger document (empty when it is valid)."""
    try:
        load_triggers(source, text=text)
    except TriggersInvalid as exc:
        return exc.problems
    return []


__all__ = [
    "MONITORING_INPUTS",
    "SHIPPED_TRIGGERS",
    "CompiledTriggers",
    "MonitoringInputsRefused",
    "SignalInfo",
    "SignalSpec",
    "TriggerDocument",
    "TriggersInvalid",
    "compile_triggers",
    "content_hash",
    "json_schema",
    "load_shipped_triggers",
    "load_triggers",
    "parse_triggers",
    "shipped_triggers_text",
    "validate_triggers_text",
]
