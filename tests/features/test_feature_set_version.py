"""The feature set's version follows the definitions, not their comments or layout."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from pathlib import Path
from types import ModuleType

from puhui.risk.enterprise_inputs import definitions_digest, feature_set_version

ORIGINAL = '''
RATE = 0.5


def _helper(x):
    return x * RATE


def defined(x):
    """A definition."""
    return _helper(x) + 1.0
'''
REFORMATTED = '''
RATE = 0.5  # a comment


def _helper(x):
    # Another comment.
    return x * RATE


def defined(x):
    """Another docstring, on two
    lines."""
    return (
        _helper(x)
        + 1.0
    )
'''


def load(tmp_path: Path, folder: str, source: str) -> ModuleType:
    path = tmp_path / folder / "definitions_under_test.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("definitions_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest(module: ModuleType) -> str:
    return definitions_digest((module.defined,), frozenset({module.__name__}))


def test_the_version_is_a_stable_short_hex_digest() -> None:
    first = feature_set_version()
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    feature_set_version.cache_clear()
    assert feature_set_version() == first


def test_comments_docstrings_and_layout_do_not_change_the_digest(tmp_path: Path) -> None:
    assert digest(load(tmp_path, "a", ORIGINAL)) == digest(load(tmp_path, "b", REFORMATTED))


def test_a_changed_helper_or_constant_changes_the_digest(tmp_path: Path) -> None:
    original = digest(load(tmp_path, "a", ORIGINAL))
    other_constant = load(tmp_path, "b", ORIGINAL.replace("RATE = 0.5", "RATE = 0.25"))
    other_helper = load(tmp_path, "c", ORIGINAL.replace("x * RATE", "x / RATE"))
    other_body = load(tmp_path, "d", ORIGINAL.replace("+ 1.0", "+ 2.0"))
    assert len({original, digest(other_constant), digest(other_helper), digest(other_body)}) == 4
