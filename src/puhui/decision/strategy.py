"""Load, validate and compile strategy documents; every problem is reported with its location."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from puhui.decision.cells import Cell, CellError, parse_cell
from puhui.decision.document import (
    InputSpec,
    InputType,
    RuleSpec,
    StrategyDocument,
    TableSpec,
)
from puhui.decision.engine import (
    RESERVED_NAMES,
    AffordabilityRule,
    CompiledStrategy,
    InputCheck,
    LimitAdjustment,
    LimitRule,
    TermRule,
)
from puhui.decision.expression import Expression, ExpressionError, parse_expression
from puhui.decision.preapproval_checks import check_preapproval
from puhui.decision.pricing import LegalCap, LprTable, Pricing, load_lpr_table
from puhui.decision.tables import CompiledRule, CompiledTable, compile_matcher
from puhui.domain.errors import InvalidAmount, InvalidInput, NotFound
from puhui.domain.money import parse_yuan

Path_ = tuple[str | int, ...]
_NUMERIC = (InputType.NUMBER, InputType.INTEGER, InputType.FEN)
FRAUD_ACTIONS = frozenset({"decline", "refer"})
MAX_SPREAD_ADJUSTMENT = Decimal("0.05")
"""The largest spread adjustment one ``pricing.adjustments`` rule may make, either way."""
_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document: where (dotted path, YAML line) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "(document)"
        if self.line is not None:
            where = f"line {self.line}: {where}"
        return f"{where}: {self.message}"


class StrategyInvalid(InvalidInput):
    """A strategy document was refused; ``problems`` lists every problem found."""

    code = "strategy_invalid"

    def __init__(self, problems: list[Problem], *, source: str = "strategy") -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{source} is invalid ({len(problems)} problem(s)):\n{listing}",
            details={"problems": [str(p) for p in problems]},
        )


def format_path(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _Lines:
    """YAML node positions by path, so that problems point at a line a risk officer can find."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        self.duplicates: list[tuple[Path_, int]] = []
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: Path_) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    self.duplicates.append(((*path, name), key.start_mark.line + 1))
                seen.add(name)
                self.lines[(*path, name)] = key.start_mark.line + 1
                self._walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None


class _Problems:
    def __init__(self, lines: _Lines | None) -> None:
        self.items: list[Problem] = []
        self.lines = lines

    def add(self, path: Path_, message: str) -> None:
        line = None if self.lines is None else self.lines.line(path)
        self.items.append(Problem(format_path(path), message, line))


def parse_model(
    text: str,
    model: type[_Model],
    *,
    source: str,
    invalid: type[StrategyInvalid] = StrategyInvalid,
    kind: str = "strategy",
) -> tuple[_Model, _Lines]:
    """YAML (or JSON) text to a schema-checked ``model``; structural problems are refused.

    Shared by every versioned decision document (strategies, trigger rules, concentration
    limits): ``invalid`` is the error raised, ``kind`` names the document in messages.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise invalid([Problem("", f"not valid YAML: {exc}", line)], source=source) from None
    lines = _Lines(text)
    problems = _Problems(lines)
    for path, _line in lines.duplicates:
        problems.add(path, "duplicate key (YAML would silently keep only the last one)")
    if not isinstance(data, dict):
        raise invalid([Problem("", f"a {kind} must be a mapping")], source=source)
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if p != "[key]")
            problems.add(path, error["msg"])
        raise invalid(problems.items, source=source) from None
    if problems.items:
        raise invalid(problems.items, source=source)
    return document, lines


def parse_document(text: str, *, source: str = "strategy") -> tuple[StrategyDocument, _Lines]:
    """YAML (or JSON) text to a schema-checked document; structural problems are refused."""
    return parse_model(text, StrategyDocument, source=source)


def load_strategy(
    source: str | Path,
    *,
    text: str | None = None,
    lpr_tables: Mapping[str, LprTable] | None = None,
    preapproval_sources: frozenset[str] | None = None,
) -> CompiledStrategy:
    """Read, validate and compile a strategy file (or ``text`` named ``source``).

    ``preapproval_sources``: the tables a ``preapproval:`` section may list before consent
    (the caller's authority, ``risk.need.PRE_CONSENT_SOURCES``: this layer may not import it);
    ``None`` leaves the section's sources unchecked (a strategy used for applications only).
    """
    if text is None:
        text = Path(source).read_text(encoding="utf-8")
    document, lines = parse_document(text, source=str(source))
    return compile_strategy(
        document,
        lines=lines,
        source=str(source),
        lpr_tables=lpr_tables,
        preapproval_sources=preapproval_sources,
    )


def shipped_strategies() -> list[str]:
    """Names of the strategies shipped with the package."""
    folder = resources.files("puhui.decision").joinpath("strategies")
    return sorted(
        item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml")
    )


def shipped_strategy_text(name: str) -> str:
    resource = resources.files("puhui.decision").joinpath("strategies", f"{name}.yaml")
    if not resource.is_file():
        raise NotFound(f"no shipped strategy named {name!r} (shipped: {shipped_strategies()})")
    return resource.read_text(encoding="utf-8")


def load_shipped_strategy(name: str) -> CompiledStrategy:
    return load_strategy(f"{name}.yaml", text=shipped_strategy_text(name))


def content_hash(document: StrategyDocument) -> str:
    """SHA-256 of the canonical JSON of the document: the identity of its content."""
    canonical = json.dumps(
        document.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_text(text: str, *, source: str = "strategy") -> list[Problem]:
    """Every problem of a document (empty when it is valid)."""
    try:
        load_strategy(source, text=text)
    except StrategyInvalid as exc:
        return exc.problems
    return []


def _fraction(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


class _Compiler:
    def __init__(
        self,
        document: StrategyDocument,
        problems: _Problems,
        lpr_tables: Mapping[str, LprTable] | None,
    ) -> None:
        self.doc = document
        self.inputs: Mapping[str, InputSpec] = document.inputs
        self.computed_sources: Mapping[str, str] = document.computed
        self.problems = problems
        self.lpr_tables = lpr_tables or {}
        self.types: dict[str, InputType] = {n: s.type for n, s in document.inputs.items()}
        self.used_reasons: list[tuple[Path_, str]] = []
        self.preapproval_sources: frozenset[str] | None = None

    def compile(self, source_hash: str) -> CompiledStrategy | None:
        doc = self.doc
        for name in doc.inputs:
            if name in RESERVED_NAMES:
                self.problems.add(("inputs", name), f"{name!r} is reserved for the engine")
            spec = doc.inputs[name]
            if spec.allowed is not None and spec.type is not InputType.STRING:
                self.problems.add(("inputs", name, "allowed"), "only string inputs list values")
        computed = self.compile_computed()
        base = set(doc.inputs) | set(doc.computed) | {"pd", "score"}
        knockouts = self.compile_table(("knockouts",), doc.knockouts, base, need_reason=True)
        fraud = self.compile_table(("fraud",), doc.fraud, base, need_reason=True)
        for index, rule in enumerate(doc.fraud.rules):
            if rule.then.get("action") not in FRAUD_ACTIONS:
                self.problems.add(
                    ("fraud", "rules", index, "then", "action"),
                    "a fraud rule sets then.action to decline or refer",
                )
        grading = self.compile_table(("grading", "table"), doc.grading.table, base)
        grades = self.check_grades()
        limit_rule = self.compile_limit(grades)
        pricing = self.compile_pricing(grades)
        adjustments, deltas = self.compile_pricing_adjustments(base | {"grade", "limit_fen"})
        term_rule = self.compile_term(grades)
        check_preapproval(self, grades)
        referrals = self.compile_table(
            ("referrals",), doc.referrals, base | {"grade", "limit_fen"}, need_reason=True
        )
        self.used_reasons.append((("grading", "unmatched_reason"), doc.grading.unmatched_reason))
        self.used_reasons.append(
            (("limit", "below_minimum_reason"), doc.limit.below_minimum_reason)
        )
        for path, code in self.used_reasons:
            if code not in doc.reasons:
                self.problems.add(
                    path, f"reason code {code!r} has no text: add it under `reasons` (zh and en)"
                )
        if self.problems.items or limit_rule is None or pricing is None:
            return None
        return CompiledStrategy(
            document=doc,
            content_hash=source_hash,
            inputs=tuple(
                InputCheck(
                    n,
                    s.type,
                    s.required,
                    None if s.allowed is None else frozenset(s.allowed),
                )
                for n, s in doc.inputs.items()
            ),
            computed=computed,
            knockouts=knockouts,
            fraud=fraud,
            grading=grading,
            declined_grades=frozenset(doc.grading.declined_grades),
            unmatched_reason=doc.grading.unmatched_reason,
            limit_rule=limit_rule,
            pricing=pricing,
            term_rule=term_rule,
            referrals=referrals,
            reasons={c: (r.zh.strip(), r.en.strip(), r.adverse) for c, r in doc.reasons.items()},
            pricing_adjustments=adjustments,
            spread_deltas=deltas,
        )

    def compile_computed(self) -> tuple[tuple[str, Expression], ...]:
        known = set(self.inputs)
        compiled = []
        for name, text in self.computed_sources.items():
            path = ("computed", name)
            if name in known or name in RESERVED_NAMES:
                self.problems.add(path, f"{name!r} is already an input or a reserved name")
            try:
                expression = parse_expression(text, known_names=frozenset(known))
            except ExpressionError as exc:
                self.problems.add(path, f"expression does not parse: {exc}")
                known.add(name)
                continue
            compiled.append((name, expression))
            self.types[name] = InputType.NUMBER
            known.add(name)
        return tuple(compiled)

    def compile_table(
        self, path: Path_, table: TableSpec, known: set[str], *, need_reason: bool = False
    ) -> CompiledTable:
        rules: list[CompiledRule] = []
        parsed_rows: list[dict[str, Cell]] = []
        seen_ids: set[str] = set()
        for index, rule in enumerate(table.rules):
            rule_path = (*path, "rules", index)
            if rule.id in seen_ids:
                self.problems.add((*rule_path, "id"), f"rule id {rule.id!r} is used twice")
            seen_ids.add(rule.id)
            if rule.reason is not None:
                self.used_reasons.append(((*rule_path, "reason"), rule.reason))
            elif need_reason:
                self.problems.add(rule_path, "this rule needs a reason code")
            cells: dict[str, Cell] = {}
            for column, source in rule.when.items():
                cell_path = (*rule_path, "when", column)
                if column not in known:
                    self.problems.add(
                        cell_path, f"unknown input {column!r} (declare it under `inputs`)"
                    )
                    continue
                try:
                    cell = parse_cell(source)
                except CellError as exc:
                    self.problems.add(cell_path, str(exc))
                    continue
                self.check_cell_type(cell_path, column, cell)
                cells[column] = cell
            parsed_rows.append(cells)
            constraining = tuple((n, c) for n, c in cells.items() if c.kind != "any")
            rules.append(
                CompiledRule(
                    id=rule.id,
                    cells=constraining,
                    matches=compile_matcher(constraining),
                    then=dict(rule.then),
                    reason=rule.reason,
                )
            )
        if table.hit_policy == "first":
            self.check_shadowing(path, table, parsed_rows)
        return CompiledTable(format_path(path), table.hit_policy, tuple(rules))

    def check_cell_type(self, path: Path_, column: str, cell: Cell) -> None:
        kind = self.types.get(column, InputType.NUMBER)
        if column == "grade":
            kind = InputType.STRING
        numeric = kind in _NUMERIC
        if cell.kind == "interval" and not numeric:
            self.problems.add(path, f"{column!r} is a {kind.value}: a range cannot apply to it")
        if cell.kind in ("set", "not_set"):
            for value in cell.values:
                is_number = isinstance(value, int | float) and not isinstance(value, bool)
                if numeric and not is_number:
                    self.problems.add(path, f"{column!r} is a number; {value!r} is not")
                elif kind is InputType.STRING and not isinstance(value, str):
                    self.problems.add(path, f"{column!r} is text; quote {value!r}")
                elif kind is InputType.BOOLEAN and not isinstance(value, bool):
                    self.problems.add(path, f"{column!r} is true/false; {value!r} is not")
                allowed = self.inputs[column].allowed if column in self.inputs else None
                if allowed is not None and isinstance(value, str) and value not in allowed:
                    self.problems.add(
                        path, f"{value!r} is not an allowed value of {column!r}: {list(allowed)}"
                    )

    def check_shadowing(self, path: Path_, table: TableSpec, rows: list[dict[str, Cell]]) -> None:
        any_cell = parse_cell("-")
        for later in range(len(rows)):
            for earlier in range(later):
                columns = set(rows[earlier]) | set(rows[later])
                if all(
                    rows[earlier].get(c, any_cell).contains(rows[later].get(c, any_cell))
                    for c in columns
                ):
                    self.problems.add(
                        (*path, "rules", later),
                        f"rule {table.rules[later].id!r} can never match: rule "
                        f"{table.rules[earlier].id!r} above it matches everything it matches "
                        "(hit policy first)",
                    )
                    break

    def check_grades(self) -> list[str]:
        grades: list[str] = []
        for index, rule in enumerate(self.doc.grading.table.rules):
            grade = rule.then.get("grade")
            if not isinstance(grade, str) or not grade:
                self.problems.add(
                    ("grading", "table", "rules", index, "then"), "a grading rule sets then.grade"
                )
                continue
            if grade not in grades:
                grades.append(grade)
            if grade in self.doc.grading.declined_grades and rule.reason is None:
                self.problems.add(
                    ("grading", "table", "rules", index),
                    f"grade {grade!r} is declined: the rule needs a reason code",
                )
        if self.doc.grading.table.hit_policy != "first":
            self.problems.add(("grading", "table", "hit_policy"), "the grade table is `first`")
        for index, grade in enumerate(self.doc.grading.declined_grades):
            if grade not in grades:
                self.problems.add(
                    ("grading", "declined_grades", index), f"no rule sets grade {grade!r}"
                )
        return grades

    def require_grades(
        self, path: Path_, mapping: Mapping[str, Any], grades: list[str], *, lending: bool
    ) -> None:
        declined = set(self.doc.grading.declined_grades)
        for grade in grades:
            if lending and grade in declined:
                continue
            if grade not in mapping:
                self.problems.add(path, f"no value for grade {grade!r}")
        for grade in mapping:
            if grade not in grades:
                self.problems.add((*path, grade), f"{grade!r} is not a grade of the grade table")

    def fen_input(self, path: Path_, name: str | None) -> None:
        if name is None:
            return
        if name not in self.doc.inputs:
            self.problems.add(path, f"unknown input {name!r} (declare it under `inputs`)")
        elif self.doc.inputs[name].type is not InputType.FEN:
            self.problems.add(path, f"{name!r} must be a `fen` input")

    def yuan(self, path: Path_, value: Decimal) -> int:
        try:
            amount = parse_yuan(str(value))
        except InvalidAmount as exc:
            self.problems.add(path, exc.message)
            return 0
        if amount < 0:
            self.problems.add(path, "must not be negative")
        return int(amount)

    def compile_limit(self, grades: list[str]) -> LimitRule | None:
        spec = self.doc.limit
        self.fen_input(("limit", "requested"), spec.requested)
        if spec.requested in self.doc.inputs and not self.doc.inputs[spec.requested].required:
            self.problems.add(("limit", "requested"), f"{spec.requested!r} must be required")
        self.fen_input(("limit", "need"), spec.need)
        self.fen_input(("limit", "headroom"), spec.headroom)
        rules = []
        for index, item in enumerate(spec.affordability):
            path: Path_ = ("limit", "affordability", index)
            self.fen_input((*path, "basis"), item.basis)
            self.require_grades(
                (*path, "multiple_by_grade"), item.multiple_by_grade, grades, lending=True
            )
            for grade, multiple in item.multiple_by_grade.items():
                if multiple < 0:
                    self.problems.add((*path, "multiple_by_grade", grade), "must not be negative")
            rules.append(
                AffordabilityRule(
                    item.basis, {g: _fraction(m) for g, m in item.multiple_by_grade.items()}
                )
            )
        cap = self.yuan(("limit", "product_cap_yuan"), spec.product_cap_yuan)
        step = self.yuan(("limit", "step_yuan"), spec.step_yuan)
        minimum = self.yuan(("limit", "minimum_yuan"), spec.minimum_yuan)
        if step <= 0:
            self.problems.add(("limit", "step_yuan"), "must be positive")
            return None
        if minimum > cap:
            self.problems.add(("limit", "minimum_yuan"), "is above the product cap")
        multipliers = []
        for dimension, spec_m in spec.cluster_limit_multiplier.items():
            path = ("limit", "cluster_limit_multiplier", dimension)
            declared = self.doc.inputs.get(spec_m.input)
            if declared is None:
                self.problems.add(
                    (*path, "input"), f"unknown input {spec_m.input!r} (declare it under `inputs`)"
                )
            elif declared.type is not InputType.STRING:
                self.problems.add((*path, "input"), f"{spec_m.input!r} must be a `string` input")
            for cluster, value in spec_m.by_cluster.items():
                if not Decimal(0) <= value <= Decimal(1):
                    self.problems.add(
                        (*path, "by_cluster", cluster),
                        "a multiplier tightens: between 0 (no new lending) and 1",
                    )
            multipliers.append(
                (spec_m.input, {c: _fraction(v) for c, v in spec_m.by_cluster.items()})
            )
        return LimitRule(
            requested=spec.requested,
            need=spec.need,
            headroom=spec.headroom,
            affordability=tuple(rules),
            product_cap_fen=cap,
            step_fen=step,
            minimum_fen=minimum,
            below_minimum_reason=spec.below_minimum_reason,
            cluster_multipliers=tuple(multipliers),
            adjustments=self.compile_limit_adjustments(),
        )

    def compile_limit_adjustments(self) -> tuple[LimitAdjustment, ...]:
        """``limit.adjustments``: cells checked as in the tables, over the inputs, computed
        values, the model's ``pd`` and ``score`` and the ``grade``; multipliers only tighten."""
        known = set(self.doc.inputs) | set(self.doc.computed) | {"pd", "score", "grade"}
        compiled = []
        seen_ids: set[str] = set()
        for index, item in enumerate(self.doc.limit.adjustments):
            path: Path_ = ("limit", "adjustments", index)
            if item.id in seen_ids:
                self.problems.add((*path, "id"), f"rule id {item.id!r} is used twice")
            seen_ids.add(item.id)
            self.used_reasons.append(((*path, "reason"), item.reason))
            if not Decimal(0) <= item.multiplier <= Decimal(1):
                self.problems.add(
                    (*path, "multiplier"), "a multiplier tightens: between 0 (no new lending) and 1"
                )
            cells: dict[str, Cell] = {}
            for column, source in item.when.items():
                cell_path = (*path, "when", column)
                if column not in known:
                    self.problems.add(
                        cell_path, f"unknown input {column!r} (declare it under `inputs`)"
                    )
                    continue
                try:
                    cell = parse_cell(source)
                except CellError as exc:
                    self.problems.add(cell_path, str(exc))
                    continue
                self.check_cell_type(cell_path, column, cell)
                cells[column] = cell
            constraining = tuple((n, c) for n, c in cells.items() if c.kind != "any")
            if not constraining:
                self.problems.add(
                    (*path, "when"),
                    "an adjustment needs a condition (to cut every limit, lower the caps)",
                )
            rule = CompiledRule(
                id=item.id,
                cells=constraining,
                matches=compile_matcher(constraining),
                then={"multiplier": str(item.multiplier)},
                reason=item.reason,
            )
            compiled.append(LimitAdjustment(rule, _fraction(item.multiplier)))
        return tuple(compiled)

    def compile_pricing(self, grades: list[str]) -> Pricing | None:
        spec = self.doc.pricing
        if isinstance(spec.lpr, str):
            try:
                table = self.lpr_tables.get(spec.lpr) or load_lpr_table(spec.lpr)
            except NotFound as exc:
                self.problems.add(("pricing", "lpr"), exc.message)
                return None
        else:
            points = sorted(spec.lpr, key=lambda p: p.effective_from)
            try:
                table = LprTable(
                    "inline",
                    tuple(p.effective_from for p in points),
                    tuple(p.rate for p in points),
                )
            except ValueError as exc:
                self.problems.add(("pricing", "lpr"), str(exc))
                return None
        rates: list[tuple[Path_, Decimal]] = [
            (("pricing", "floor"), spec.floor),
            (("pricing", "cap"), spec.cap),
        ]
        rates += [(("pricing", "spread_by_grade", g), s) for g, s in spec.spread_by_grade.items()]
        for path, rate in rates:
            if not Decimal(0) <= rate <= Decimal(1):
                self.problems.add(path, "a rate is a fraction between 0 and 1 (0.05 = 5%)")
        self.require_grades(
            ("pricing", "spread_by_grade"), spec.spread_by_grade, grades, lending=True
        )
        if spec.floor > spec.cap:
            self.problems.add(("pricing", "floor"), "the floor is above the cap")
        caps: dict[str, LegalCap] = {}
        for licence, cap_spec in spec.legal_caps.items():
            cap_path: Path_ = ("pricing", "legal_caps", licence)
            if cap_spec.fixed is None and cap_spec.lpr_multiple is None:
                self.problems.add(cap_path, "set `fixed` or `lpr_multiple` (or both)")
                continue
            cap = LegalCap(cap_spec.fixed, cap_spec.lpr_multiple)
            lowest = min(cap.on(rate) for rate in table.rates)
            if spec.floor > lowest:
                self.problems.add(
                    cap_path, f"the legal cap can fall to {lowest}, below the pricing floor"
                )
            caps[licence] = cap
        return Pricing(table, dict(spec.spread_by_grade), spec.floor, spec.cap, caps)

    def compile_pricing_adjustments(
        self, known: set[str]
    ) -> tuple[CompiledTable | None, tuple[Decimal, ...]]:
        """``pricing.adjustments`` as a collect table over the inputs, computed values, grade
        and limit; each spread delta within +/- MAX_SPREAD_ADJUSTMENT."""
        specs = self.doc.pricing.adjustments
        if not specs:
            return None, ()
        path: Path_ = ("pricing", "adjustments")
        for index, spec in enumerate(specs):
            if abs(spec.spread_delta) > MAX_SPREAD_ADJUSTMENT:
                self.problems.add(
                    (*path, index, "spread_delta"),
                    f"a spread adjustment is a fraction between -{MAX_SPREAD_ADJUSTMENT} and "
                    f"{MAX_SPREAD_ADJUSTMENT} (-0.003 = 0.3 points lower)",
                )
        table = TableSpec(
            hit_policy="collect",
            rules=tuple(
                RuleSpec(id=s.id, description=s.description, when=dict(s.when)) for s in specs
            ),
        )
        return self.compile_table(path, table, known), tuple(s.spread_delta for s in specs)

    def compile_term(self, grades: list[str]) -> TermRule:
        spec = self.doc.term
        if spec.requested is not None:
            if spec.requested not in self.doc.inputs:
                self.problems.add(("term", "requested"), f"unknown input {spec.requested!r}")
            elif self.doc.inputs[spec.requested].type is not InputType.INTEGER:
                self.problems.add(("term", "requested"), "must be an `integer` input")
        allowed = tuple(sorted(set(spec.allowed_months)))
        if any(m <= 0 for m in allowed):
            self.problems.add(("term", "allowed_months"), "terms are positive numbers of months")
        self.require_grades(("term", "max_by_grade"), spec.max_by_grade, grades, lending=True)
        for grade, months in spec.max_by_grade.items():
            if months not in allowed:
                self.problems.add(("term", "max_by_grade", grade), "is not an allowed term")
        return TermRule(spec.requested, spec.default_months, dict(spec.max_by_grade), allowed)


class RuleCompiler(_Compiler):
    """The checks of computed values and decision tables, for documents other than strategies.

    Trigger rules (and any document with ``inputs``, ``computed`` and tables of rules) use
    :meth:`compile_computed` and :meth:`compile_table` with the strategies' own checks, so the
    cell and expression language has one set of rules; the strategy-only steps (grades, limit,
    price, term) are not for it.
    """

    def __init__(
        self, inputs: Mapping[str, InputSpec], computed: Mapping[str, str], problems: _Problems
    ) -> None:
        self.inputs = inputs
        self.computed_sources = computed
        self.problems = problems
        self.lpr_tables = {}
        self.types = {n: s.type for n, s in inputs.items()}
        self.used_reasons = []


def compile_strategy(
    document: StrategyDocument,
    *,
    lines: _Lines | None = None,
    source: str = "strategy",
    lpr_tables: Mapping[str, LprTable] | None = None,
    preapproval_sources: frozenset[str] | None = None,
) -> CompiledStrategy:
    """Check everything that the schema cannot, then build the closures."""
    problems = _Problems(lines)
    compiler = _Compiler(document, problems, lpr_tables)
    compiler.preapproval_sources = preapproval_sources
    compiled = compiler.compile(content_hash(document))
    if compiled is None or problems.items:
        raise StrategyInvalid(problems.items, source=source)
    return compiled


Problems = _Problems
"""The collector of located problems, for the other decision documents."""
DocumentLines = _Lines
"""YAML line numbers by path, for the other decision documents."""


def dump_document(document: StrategyDocument) -> str:
    """The document as YAML (rates and amounts as strings, so no float creeps in)."""
    data = document.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


__all__ = [
    "DocumentLines",
    "Problem",
    "Problems",
    "RuleCompiler",
    "StrategyInvalid",
    "compile_strategy",
    "content_hash",
    "dump_document",
    "load_shipped_strategy",
    "load_strategy",
    "parse_document",
    "parse_model",
    "shipped_strategies",
    "shipped_strategy_text",
    "validate_text",
]
