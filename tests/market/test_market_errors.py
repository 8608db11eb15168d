"""Market errors carry stable codes, refine the platform's generic errors, and are never bare."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest

from puhui.domain.errors import Conflict, InvalidInput, NotFound, PuhuiError
from puhui.market import errors, store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

MARKET_SOURCE = Path(store.__file__).parent


def test_every_market_error_has_its_own_code_and_a_generic_parent() -> None:
    kinds = [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, PuhuiError)
        and value.__module__ == errors.__name__
    ]
    assert len(kinds) >= 8
    codes = [kind.code for kind in kinds]
    assert len(set(codes)) == len(codes)
    for kind in kinds:
        assert issubclass(kind, InvalidInput | NotFound | Conflict), kind
        assert kind.code not in {"invalid_input", "not_found", "conflict", "puhui_error"}


def test_a_parameter_out_of_range_names_its_field() -> None:
    with pytest.raises(errors.InvalidMarketParameter) as caught:
        MarketParams(enterprises=10, months=0, start=date(2023, 1, 1), seed=1)
    assert caught.value.code == "invalid_market_parameter"
    assert caught.value.details == {"field": "months"}


def test_a_folder_without_a_market_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(errors.MarketNotFound):
        store.read_manifest(tmp_path)


def test_a_corrupt_manifest_is_reported_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / store.MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(errors.MarketManifestUnreadable):
        store.read_manifest(tmp_path)
    (tmp_path / store.MANIFEST).write_text(
        json.dumps({"status": "complete", "parameters": {"months": 3}}), encoding="utf-8"
    )
    with pytest.raises(errors.MarketManifestUnreadable):
        store.read_parameters(tmp_path)


def test_unknown_and_missing_tables_are_told_apart(tmp_path: Path) -> None:
    out = tmp_path / "m"
    generate_market(MarketParams(20, 2, date(2023, 1, 1), 1), out)
    with pytest.raises(errors.UnknownMarketTable):
        store.read(out, "no_such_table")
    (out / "tables" / "invoices").rename(out / "moved")
    with pytest.raises(errors.MarketTableMissing):
        store.read(out, "invoices")


def test_market_code_raises_no_bare_builtin_errors_and_asserts_nothing() -> None:
    builtin = {"ValueError", "TypeError", "KeyError", "RuntimeError", "Exception", "AssertionError"}
    offences = []
    for path in sorted(MARKET_SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert):
                offences.append(f"{path.name}:{node.lineno} assert")
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(target, ast.Name) and target.id in builtin:
                    offences.append(f"{path.name}:{node.lineno} raise {target.id}")
    assert offences == []
