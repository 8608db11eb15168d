"""Every third-party module the code imports is installed by ``pip install .``: a runtime
dependency in pyproject.toml, or one of theirs. The tests install the dev extras too, so an
import of a dev-only package would pass every test and fail ``make demo`` on a clean machine
(it did once: httpx, session 23). Optional engines (the Spark extra) are imported lazily and
named here."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL = {"spark"}
"""Extras whose packages the code may import where that engine is chosen."""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` install, with their own requirements (extras left out)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(_name(r) for r in requires if "extra ==" not in r)
    return seen


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_of_the_code_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    for extra in OPTIONAL:
        declared |= {_name(r) for r in project["optional-dependencies"][extra]}
    installed = _closure(declared)
    providers = metadata.packages_distributions()
    missing: dict[str, list[str]] = {}
    for path in sorted((ROOT / "src").rglob("*.py")):
        for module in _imported(path):
            if module in sys.stdlib_module_names or module in {"puhui", "__future__"}:
                continue
            dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
            if not dists & installed:
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert missing == {}, f"imported but not installed by `pip install .`: {missing}"
