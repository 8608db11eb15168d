"""A governed document (strategy, trigger rules, concentration limits) as tables people read.

The YAML is the record; these views only lay it out: each top-level section becomes its facts
(the section's plain values) and its tables (decision rules with one column per condition,
per-grade maps, limits by dimension, reason codes). Works on any of the three kinds, since
they share the shapes. ``section_changes`` compares two versions path by path, naming rules
by their id rather than their position, so inserting a rule shows as one added rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from puhui.web.pages.nav import N_

SECTION_TITLES: dict[str, str] = {
    "inputs": N_("Inputs"),
    "computed": N_("Computed values"),
    "models": N_("Models used"),
    "knockouts": N_("Knock-out rules"),
    "fraud": N_("Anti-fraud rules"),
    "grading": N_("Score bands and grades"),
    "limit": N_("Limit tables"),
    "pricing": N_("Pricing tables"),
    "term": N_("Terms by grade"),
    "referrals": N_("Referral rules"),
    "reasons": N_("Reason codes"),
    "signals": N_("Warning signals"),
    "dimensions": N_("Limits by dimension"),
    "tighten": N_("Tightening on a breach"),
}
HEADER_KEYS = ("schema_version", "name", "version", "description")
"""Shown in the page's header, not as a section."""
EMPTY = "—"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: several times faster than Python's."""


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]
    """Each row's first cell names it (a rule id, a grade, a key): a row header."""


@dataclass
class Section:
    key: str
    title: str
    """An English message (translated where shown) or the section's own key."""
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def parse(text: str) -> dict[str, Any]:
    """The document's data; empty when it does not parse (the raw text is shown instead)."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C if built
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def cell(value: Any) -> str:
    """A value as one table cell: nested maps and lists written compactly."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items()) or EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or EMPTY
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple)


def _rule_table(caption: str, rules: list[Any]) -> Table:
    """Decision rules: the id, one column per condition and per output, the reason."""
    when: list[str] = []
    then: list[str] = []
    other: list[str] = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        for key in rule.get("when") or {}:
            if key not in when:
                when.append(str(key))
        for key in rule.get("then") or {}:
            if key not in then:
                then.append(str(key))
        for key in rule:
            if key not in ("id", "when", "then") and key not in other:
                other.append(str(key))
    columns = ["id", *(f"{k} ?" for k in when), *(f"→ {k}" for k in then), *other]
    rows = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        conditions = rule.get("when") or {}
        outputs = rule.get("then") or {}
        rows.append(
            [
                cell(rule.get("id")),
                *(cell(conditions[k]) if k in conditions else EMPTY for k in when),
                *(cell(outputs[k]) if k in outputs else EMPTY for k in then),
                *(cell(rule.get(k)) for k in other),
            ]
        )
    return Table(caption, columns, rows)


def _records_table(caption: str, records: list[Any]) -> Table:
    """A list of maps (models, affordability bases): one column per key."""
    if any(isinstance(r, Mapping) and ("when" in r or "then" in r) for r in records):
        return _rule_table(caption, records)
    columns: list[str] = []
    for record in records:
        for key in record if isinstance(record, Mapping) else ():
            if key not in columns:
                columns.append(str(key))
    if not columns:
        return Table(caption, ["value"], [[cell(r)] for r in records])
    rows = [
        [cell(r.get(k)) if isinstance(r, Mapping) else cell(r) for k in columns] for r in records
    ]
    return Table(caption, columns, rows)


def _map_table(caption: str, mapping: Mapping[str, Any]) -> Table:
    """A map of maps (inputs, reasons, dimensions) as rows; a plain map as key and value."""
    if all(_is_scalar(v) for v in mapping.values()):
        return Table(caption, ["key", "value"], [[str(k), cell(v)] for k, v in mapping.items()])
    columns: list[str] = []
    for value in mapping.values():
        for key in value if isinstance(value, Mapping) else ():
            if key not in columns:
                columns.append(str(key))
    rows = [
        [str(k), *(cell(v.get(c)) if isinstance(v, Mapping) else cell(v) for c in columns)]
        for k, v in mapping.items()
    ]
    return Table(caption, ["key", *columns], rows)


def _by_grade_table(caption: str, mapping: Mapping[str, Any]) -> Table | None:
    """Several ``*_by_grade`` maps of one section side by side: a row per grade."""
    maps = {k: v for k, v in mapping.items() if k.endswith("_by_grade") and isinstance(v, Mapping)}
    if not maps:
        return None
    grades: list[str] = []
    for values in maps.values():
        for grade in values:
            if str(grade) not in grades:
                grades.append(str(grade))
    rows = [[g, *(cell(values.get(g)) for values in maps.values())] for g in grades]
    return Table(caption, ["grade", *maps], rows)


def _graded_records(caption: str, records: list[Any]) -> Table | None:
    """Records that each hold one ``*_by_grade`` map (affordability bases): a row per grade,
    a column per record, named by its first plain value."""
    named: list[tuple[str, Mapping[str, Any]]] = []
    for record in records:
        if not isinstance(record, Mapping):
            return None
        maps = [v for k, v in record.items() if str(k).endswith("_by_grade")]
        if len(maps) != 1 or not isinstance(maps[0], Mapping):
            return None
        label = next((cell(v) for v in record.values() if _is_scalar(v)), str(len(named) + 1))
        named.append((label, maps[0]))
    grades: list[str] = []
    for _, values in named:
        grades += [str(g) for g in values if str(g) not in grades]
    rows = [[g, *(cell(values.get(g)) for _, values in named)] for g in grades]
    return Table(caption, ["grade", *(label for label, _ in named)], rows)


def _section(key: str, value: Any) -> Section:
    section = Section(key, SECTION_TITLES.get(key, key))
    if _is_scalar(value):
        section.facts.append((key, cell(value)))
    elif isinstance(value, list | tuple):
        section.tables.append(_records_table(key, list(value)))
    elif "rules" in value and isinstance(value["rules"], list):
        section.facts += [(str(k), cell(v)) for k, v in value.items() if _is_scalar(v)]
        section.tables.append(_rule_table(key, value["rules"]))
    elif all(isinstance(v, Mapping) for v in value.values()) and value:
        section.tables.append(_map_table(key, value))
    else:
        _mixed(section, key, value)
    return section


def _mixed(section: Section, key: str, value: Mapping[str, Any]) -> None:
    """A section of plain values, maps and lists (limit, pricing, grading, term)."""
    section.facts += [(str(k), cell(v)) for k, v in value.items() if _is_scalar(v)]
    by_grade = _by_grade_table(f"{key}: by grade", value)
    if by_grade is not None:
        section.tables.append(by_grade)
    for name, part in value.items():
        caption = f"{key}.{name}"
        if isinstance(part, Mapping) and not str(name).endswith("_by_grade"):
            if "rules" in part and isinstance(part["rules"], list):
                section.facts += [
                    (f"{name}.{k}", cell(v)) for k, v in part.items() if _is_scalar(v)
                ]
                section.tables.append(_rule_table(caption, part["rules"]))
            elif part:
                section.tables.append(_map_table(caption, part))
        elif isinstance(part, list | tuple) and part and not all(_is_scalar(p) for p in part):
            graded = _graded_records(caption, list(part))
            section.tables.append(graded or _records_table(caption, list(part)))
        elif isinstance(part, list | tuple):
            section.facts.append((str(name), cell(part)))


def sections(data: Mapping[str, Any]) -> list[Section]:
    """The document's sections in the order it writes them."""
    return [_section(str(k), v) for k, v in data.items() if k not in HEADER_KEYS]


# --- changes between two versions ----------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Every leaf of the document by its path; list items with an ``id`` are named by it."""
    leaves: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, part in value.items():
            leaves.update(flatten(part, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
        for index, part in enumerate(value):
            name = part.get("id") if isinstance(part, Mapping) else None
            leaves.update(flatten(part, f"{prefix}[{name or index + 1}]"))
    else:
        leaves[prefix] = cell(value)
    return leaves


@dataclass(frozen=True)
class Change:
    section: str
    path: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


def section_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What changed from ``old`` to ``new``, leaf by leaf, in the new document's order."""
    before, after = flatten(old), flatten(new)
    paths = list(after) + [p for p in before if p not in after]
    changes = []
    for path in paths:
        if before.get(path) == after.get(path):
            continue
        section = path.split(".", 1)[0].split("[", 1)[0]
        changes.append(Change(section, path, before.get(path), after.get(path)))
    return changes


@dataclass(frozen=True)
class DiffLine:
    text: str
    kind: str
    """``add``, ``del``, ``hunk``, ``file`` or ``same``."""


def diff_lines(diff: str) -> list[DiffLine]:
    """A unified diff's lines, each with its kind (for colouring and for screen readers)."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append(DiffLine(line, kind))
    return lines
