"""GoRules JDM interchange: export, import, and a round trip on the shipped strategies."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from puhui.decision import ModelResult, load_shipped_strategy, shipped_strategies
from puhui.decision.cells import parse_cell
from puhui.decision.document import TableSpec
from puhui.decision.jdm import TABLES, JdmError, export_jdm, import_jdm
from puhui.decision.population import generate_population
from puhui.decision.strategy import compile_strategy, dump_document, load_strategy

AS_OF = dt.date(2026, 3, 2)


SIZE_BANDS = ("micro", "small", "medium", "large")


def with_core_inputs(row: dict[str, Any]) -> dict[str, Any]:
    """A population row with the inputs the supply-chain strategy requires of a core
    enterprise (annual sales, size band), derived from the row so that they vary with it;
    the other strategies ignore inputs they do not declare."""
    annual = (row["verified_monthly_sales_fen"] or 0) * 12 * 40  # cores sell far more than an MSE
    band = SIZE_BANDS[int(row["applicant_id"].removeprefix("app_")) % len(SIZE_BANDS)]
    return {"annual_sales_fen": annual, "monthly_sales_fen": annual // 12, "size_band": band, **row}


def semantic(table: TableSpec) -> list[Any]:
    """A table as meaning: cells compared parsed (``true`` and ``"true"`` are the same cell)."""
    rows: list[Any] = []
    for rule in table.rules:
        cells = {}
        for column, source in rule.when.items():
            cell = parse_cell(source)
            if cell.kind != "any":
                cells[column] = (
                    cell.kind,
                    cell.low,
                    cell.high,
                    cell.low_closed,
                    cell.high_closed,
                    cell.values,
                )
        rows.append((rule.id, rule.description, cells, rule.then, rule.reason))
    return rows


@pytest.mark.parametrize("name", shipped_strategies())
def test_shipped_strategies_round_trip_through_jdm(name: str) -> None:
    original = load_shipped_strategy(name)
    graph = json.loads(json.dumps(export_jdm(original.document)))  # through real JSON
    imported = import_jdm(original.document, graph)
    for table in TABLES:
        before = (
            original.document.grading.table
            if table == "grading"
            else getattr(original.document, table)
        )
        after = imported.grading.table if table == "grading" else getattr(imported, table)
        assert semantic(after) == semantic(before), table
        assert after.hit_policy == before.hit_policy
    # And the imported document decides exactly as the original on a population.
    again = load_strategy("imported.yaml", text=dump_document(imported))
    for row in map(with_core_inputs, generate_population(300, seed=11).to_dicts()):
        model = ModelResult(pd=row["pd"], score=row["score"])
        assert again.evaluate(row, model, as_of=AS_OF, licence_type="bank") == original.evaluate(
            row, model, as_of=AS_OF, licence_type="bank"
        )


def test_the_export_is_a_jdm_graph() -> None:
    graph = export_jdm(load_shipped_strategy("mse-online-credit").document)
    kinds = [node["type"] for node in graph["nodes"]]
    assert kinds == ["inputNode"] + ["decisionTableNode"] * 4 + ["outputNode"]
    assert len(graph["edges"]) == 5
    fraud = graph["nodes"][2]["content"]
    assert fraud["hitPolicy"] == "collect"
    ring = fraud["rules"][0]
    assert ring["_id"] == "FR_RING"
    assert ring["fraud-in-shared_contact_count"] == ">= 5"
    assert ring["fraud-out-action"] == '"decline"'


def test_an_edit_made_in_the_editor_comes_back() -> None:
    original = load_shipped_strategy("mse-online-credit")
    graph = export_jdm(original.document)
    knockouts = graph["nodes"][1]["content"]
    knockouts["rules"][2]["knockouts-in-enterprise_age_months"] = "< 6"
    imported = import_jdm(original.document, graph)
    assert imported.knockouts.rules[2].when["enterprise_age_months"] == "< 6"
    compiled = compile_strategy(imported)
    assert compiled.knockouts.rules[2].cells[0][1].high == 6


def test_a_cell_that_cannot_be_translated_is_refused_with_its_location() -> None:
    original = load_shipped_strategy("mse-online-credit")
    graph = copy.deepcopy(export_jdm(original.document))
    graph["nodes"][2]["content"]["rules"][1]["fraud-in-shared_contact_count"] = ">= 2, < 5"
    with pytest.raises(
        JdmError, match=r"node 'fraud' rule 1 \(FR_SHARED\) column 'shared_contact_count'"
    ):
        import_jdm(original.document, graph)
