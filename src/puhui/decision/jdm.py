"""GoRules JDM interchange: export a strategy's decision tables, import edited tables back.

The JDM graph is input -> knockouts -> fraud -> grading -> referrals -> output, one
``decisionTableNode`` per table, so that business users can edit the tables in the free GoRules
editor. Limits, pricing and terms are not tables and stay in the strategy document, except the
rules of ``pricing.adjustments``: a strategy that has them gets a ``pricing_adjustments``
collect table (output ``spread_delta``) after grading. Cells are
translated between our syntax and ZEN's unary syntax; in ZEN a comma means OR, so a set is
written ``in [...]`` and a range ``[a..b)``. Import refuses any cell it cannot translate exactly,
naming the node, rule and column.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

from puhui.decision.cells import Cell, CellError, parse_cell
from puhui.decision.document import (
    PricingAdjustmentSpec,
    RuleSpec,
    StrategyDocument,
    TableSpec,
)
from puhui.domain.errors import InvalidInput

TABLES = ("knockouts", "fraud", "grading", "referrals")
PRICING_ADJUSTMENTS = "pricing_adjustments"
"""The node of ``pricing.adjustments`` (only in the graph of a strategy that has them)."""
_SPREAD_DELTA = "spread_delta"
_RULE_ID = "rule_id"
_REASON = "reason"


class JdmError(InvalidInput):
    code = "jdm_invalid"


def _table_of(document: StrategyDocument, name: str) -> TableSpec:
    if name == PRICING_ADJUSTMENTS:
        return TableSpec(
            hit_policy="collect",
            rules=tuple(
                RuleSpec(
                    id=a.id,
                    description=a.description,
                    when=dict(a.when),
                    then={_SPREAD_DELTA: str(a.spread_delta)},
                )
                for a in document.pricing.adjustments
            ),
        )
    return document.grading.table if name == "grading" else getattr(document, name)


def _graph_tables(document: StrategyDocument) -> tuple[str, ...]:
    if not document.pricing.adjustments:
        return TABLES
    at = TABLES.index("grading") + 1
    return (*TABLES[:at], PRICING_ADJUSTMENTS, *TABLES[at:])


def _adjustments_of(table: TableSpec) -> tuple[PricingAdjustmentSpec, ...]:
    adjustments = []
    for rule in table.rules:
        delta = rule.then.get(_SPREAD_DELTA)
        if delta is None or isinstance(delta, bool):
            raise JdmError(
                f"node {PRICING_ADJUSTMENTS!r} rule {rule.id!r}: output {_SPREAD_DELTA!r} "
                "must be a number"
            )
        adjustments.append(
            PricingAdjustmentSpec(
                id=rule.id, description=rule.description, when=dict(rule.when), spread_delta=delta
            )
        )
    return tuple(adjustments)


def _zen_output(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def table_to_node(name: str, table: TableSpec, *, x: int) -> dict[str, Any]:
    columns: list[str] = []
    outputs: list[str] = []
    for rule in table.rules:
        columns += [c for c in rule.when if c not in columns]
        outputs += [o for o in rule.then if o not in outputs]
    output_fields = [_RULE_ID, _REASON, *outputs]
    rules = []
    for rule in table.rules:
        row: dict[str, Any] = {"_id": rule.id, "_description": rule.description}
        for column in columns:
            source = rule.when.get(column)
            row[f"{name}-in-{column}"] = parse_cell(source).to_zen()
        row[f"{name}-out-{_RULE_ID}"] = _zen_output(rule.id)
        row[f"{name}-out-{_REASON}"] = "" if rule.reason is None else _zen_output(rule.reason)
        for output in outputs:
            value = rule.then.get(output)
            row[f"{name}-out-{output}"] = "" if value is None else _zen_output(value)
        rules.append(row)
    return {
        "id": f"node-{name}",
        "name": name,
        "type": "decisionTableNode",
        "position": {"x": x, "y": 100},
        "content": {
            "hitPolicy": table.hit_policy,
            "passThrough": True,
            "inputField": None,
            # Collect tables keep all hits under their own name; the grade table's single
            # output is merged into the context so that the referral table can read `grade`.
            "outputPath": name if table.hit_policy == "collect" else None,
            "executionMode": "single",
            "inputs": [{"id": f"{name}-in-{c}", "name": c, "field": c} for c in columns],
            "outputs": [{"id": f"{name}-out-{o}", "name": o, "field": o} for o in output_fields],
            "rules": rules,
        },
    }


def export_jdm(document: StrategyDocument) -> dict[str, Any]:
    """The strategy's tables as a JDM graph (a JSON-ready dict)."""
    nodes: list[dict[str, Any]] = [
        {"id": "node-input", "name": "request", "type": "inputNode", "position": {"x": 0, "y": 100}}
    ]
    tables = _graph_tables(document)
    for index, name in enumerate(tables, start=1):
        nodes.append(table_to_node(name, _table_of(document, name), x=250 * index))
    nodes.append(
        {
            "id": "node-output",
            "name": "response",
            "type": "outputNode",
            "position": {"x": 250 * (len(tables) + 1), "y": 100},
        }
    )
    edges = [
        {
            "id": f"edge-{source['id']}-{target['id']}",
            "sourceId": source["id"],
            "targetId": target["id"],
            "type": "edge",
        }
        for source, target in pairwise(nodes)
    ]
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": nodes,
        "edges": edges,
        "metadata": {"strategy": document.name, "version": document.version},
    }


_LITERAL = r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false'
_LIST = re.compile(rf"^\s*(?:{_LITERAL})(?:\s*,\s*(?:{_LITERAL}))*\s*$")
_IN = re.compile(r"^in\s*\[(.*)\]$", re.DOTALL)
_NOT_IN = re.compile(
    r"^(?:\$\s*!=\s*null\s+and\s+not\s*\(\s*\$\s+in\s*\[(.*)\]\s*\)|not\s+in\s*\[(.*)\])$"
)


def _literals(text: str) -> list[str | float | int | bool]:
    values: list[str | float | int | bool] = []
    for match in re.finditer(_LITERAL, text):
        token = match.group(0)
        values.append(json.loads(token))
    return values


def _our_item(value: str | float | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value + "'"
    return str(value)


def cell_from_zen(text: str) -> str | None:  # noqa: PLR0911
    """A ZEN unary cell in our syntax; :class:`CellError` for anything not translatable."""
    text = text.strip()
    if text == "":
        return None
    if text == "$ == null":
        return "null"
    if text == "$ != null":
        return "not null"
    not_in = _NOT_IN.match(text)
    if not_in:
        body = not_in.group(1) if not_in.group(1) is not None else not_in.group(2)
        return "not in {" + ", ".join(_our_item(v) for v in _literals(body)) + "}"
    in_list = _IN.match(text)
    if in_list:
        return "in {" + ", ".join(_our_item(v) for v in _literals(in_list.group(1))) + "}"
    if _LIST.match(text):
        values = _literals(text)
        if len(values) == 1:
            return _our_item(values[0])
        return "in {" + ", ".join(_our_item(v) for v in values) + "}"
    # Comparisons and intervals are written the same way in both syntaxes.
    cell: Cell = parse_cell(text)
    return cell.source


def _zen_value(text: str, where: str) -> Any:
    if text.strip() == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise JdmError(f"{where}: output {text!r} is not a literal value") from None


def node_to_table(node: dict[str, Any], *, description: str = "") -> TableSpec:
    name = node.get("name", "?")
    content = node.get("content") or {}
    hit_policy = content.get("hitPolicy")
    if hit_policy not in ("first", "collect"):
        raise JdmError(f"node {name!r}: hit policy {hit_policy!r} is not first or collect")
    inputs = {column["id"]: column["field"] for column in content.get("inputs", [])}
    outputs = {column["id"]: column["field"] for column in content.get("outputs", [])}
    rules = []
    for index, row in enumerate(content.get("rules", [])):
        where = f"node {name!r} rule {index} ({row.get('_id', '?')})"
        when: dict[str, Any] = {}
        for column_id, field in inputs.items():
            cell_text = row.get(column_id, "")
            try:
                cell = cell_from_zen(str(cell_text))
            except CellError as exc:
                raise JdmError(f"{where} column {field!r}: {exc}") from None
            if cell is not None:
                when[field] = cell
        then: dict[str, Any] = {}
        rule_id = str(row.get("_id", f"rule-{index}"))
        reason = None
        for column_id, field in outputs.items():
            value = _zen_value(str(row.get(column_id, "")), f"{where} output {field!r}")
            if field == _RULE_ID:
                rule_id = str(value) if value is not None else rule_id
            elif field == _REASON:
                reason = value
            elif value is not None:
                then[field] = value
        rules.append(
            RuleSpec(
                id=rule_id,
                description=str(row.get("_description") or ""),
                when=when,
                then=then,
                reason=reason,
            )
        )
    return TableSpec(hit_policy=hit_policy, description=description, rules=tuple(rules))


def import_jdm(document: StrategyDocument, graph: dict[str, Any]) -> StrategyDocument:
    """A copy of ``document`` whose tables are replaced by the graph's tables of the same name.

    The result is a new document (still to be validated and versioned); tables absent from the
    graph are kept as they were.
    """
    nodes = {
        node.get("name"): node
        for node in graph.get("nodes", [])
        if node.get("type") == "decisionTableNode"
    }
    tables = _graph_tables(document)
    unknown = sorted(set(nodes) - set(tables))
    if unknown:
        raise JdmError(f"the graph has tables this strategy does not: {unknown}")
    update: dict[str, Any] = {}
    for name in tables:
        if name not in nodes:
            continue
        current = _table_of(document, name)
        table = node_to_table(nodes[name], description=current.description)
        if name == PRICING_ADJUSTMENTS:
            adjustments = _adjustments_of(table)
            update["pricing"] = document.pricing.model_copy(update={"adjustments": adjustments})
        elif name == "grading":
            update["grading"] = document.grading.model_copy(update={"table": table})
        else:
            update[name] = table
    return document.model_copy(update=update)
