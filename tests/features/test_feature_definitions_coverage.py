"""The feature set's version covers every module of the features package that computes a value."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

from puhui.risk import enterprise_inputs
from puhui.risk import features as risk_features
from puhui.risk.enterprise_inputs import definitions_digest

# The modules whose code computes a stored feature: the source builders, the shared windows,
# the assembly and the tables (which counterparties are core enterprises).
STORED_VALUE_MODULES = (
    "tables",
    "windows",
    "tax",
    "invoices",
    "utilities",
    "settlement",
    "court",
    "bureau",
    "profile",
    "assembly",
)
# Functions of those modules that compute no stored value (cohort months, the online wrapper).
NOT_STORED = {"month_start_plus", "enterprise_features"}


def _reached() -> set[str]:
    return {
        key
        for key, _ in enterprise_inputs._definitions(
            enterprise_inputs._DEFINITION_ROOTS, enterprise_inputs._DEFINITION_MODULES
        )
    }


def _functions(module: types.ModuleType) -> list[str]:
    return [
        f"{module.__name__}.{name}"
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and name not in NOT_STORED
    ]


def test_every_module_of_the_package_is_a_definition_module() -> None:
    modules = enterprise_inputs._DEFINITION_MODULES
    for name in STORED_VALUE_MODULES:
        assert f"{risk_features.__name__}.{name}" in modules


@pytest.mark.parametrize("name", STORED_VALUE_MODULES)
def test_every_function_that_computes_a_stored_value_is_hashed(name: str) -> None:
    module = importlib.import_module(f"{risk_features.__name__}.{name}")
    functions = _functions(module)
    assert functions, f"{name} defines no function"
    assert set(functions) <= _reached()


# Modules holding a root (``compute_features``, ``core_enterprises``): a root is always hashed.
ROOT_MODULES = {"assembly", "tables"}


@pytest.mark.parametrize("name", sorted(set(STORED_VALUE_MODULES) - ROOT_MODULES))
def test_each_module_contributes_to_the_digest(name: str) -> None:
    """Left out of the walk, a module changes the digest: its definitions are in it."""
    roots = enterprise_inputs._DEFINITION_ROOTS
    modules = enterprise_inputs._DEFINITION_MODULES
    without = modules - {f"{risk_features.__name__}.{name}"}
    assert definitions_digest(roots, without) != definitions_digest(roots, modules)


def test_the_modules_holding_roots_are_hashed_from_their_roots() -> None:
    root_modules = {root.__module__ for root in enterprise_inputs._DEFINITION_ROOTS}
    assert {f"{risk_features.__name__}.{name}" for name in ROOT_MODULES} <= root_modules


def test_the_constants_the_builders_read_are_hashed() -> None:
    reached = _reached()
    for constant in (
        "tax.HISTORY_MONTHS",
        "settlement.HEAVY_RELATED_SHARE",
        "windows.FEN_SMOOTHING",
    ):
        assert f"{risk_features.__name__}.{constant}" in reached
    assert f"{risk_features.__name__}.assembly.FEATURE_NAMES" in reached
