"""The safety rules of run-time generated code: names, literals, syntax, attributes, size."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from puhui import codegen
from puhui.codegen import (
    SAFE_BUILTINS,
    GeneratedCodeRefused,
    GeneratedSourceTooLarge,
    UnsafeGeneratedSource,
    UnsafeIdentifier,
    UnsafeLiteral,
    compile_function,
    identifier,
    literal,
)
from puhui.domain.errors import PuhuiError


class _LoudStr(str):
    def __repr__(self) -> str:
        return "__import__('os').system('false')"


class _LoudInt(int):
    def __repr__(self) -> str:
        return "__import__('os')"


class _LoudFloat(float):
    def __repr__(self) -> str:
        return "open('/etc/passwd')"


@pytest.mark.parametrize(
    "name", ["a b", "1st", "__import__", "__builtins__", "class", "x;y", "x.y", "é", "", "a\n", 3]
)
def test_a_name_that_is_not_a_plain_identifier_is_refused_with_a_code(name: Any) -> None:
    with pytest.raises(UnsafeIdentifier) as refused:
        identifier(name)
    assert isinstance(refused.value, PuhuiError)
    assert refused.value.code == "unsafe_identifier"


@pytest.mark.parametrize("name", ["a", "_x", "c12", "Decision", "limit_fen"])
def test_a_plain_identifier_is_kept(name: str) -> None:
    assert identifier(name) == name


@pytest.mark.parametrize(
    "value",
    [
        "x'); __import__('os').system('false'); ('",
        "a\"b'c\\\n",
        "中文\u2028",
        0,
        -7,
        10**30,
        2.5,
        -0.0,
        1e300,
        None,
        True,
        False,
        ("A", 1, 2.5, None),
        (),
    ],
)
def test_a_literal_reads_back_as_exactly_the_value(value: Any) -> None:
    assert ast.literal_eval(literal(value)) == value
    assert type(ast.literal_eval(literal(value))) is type(value)


def test_a_subclass_cannot_choose_the_text_written_for_it() -> None:
    assert ast.literal_eval(literal(_LoudStr("A"))) == "A"
    assert ast.literal_eval(literal(_LoudInt(5))) == 5
    assert ast.literal_eval(literal(_LoudFloat(0.5))) == 0.5


def test_non_finite_floats_are_written_as_bound_names() -> None:
    low = compile_function(f"def f():\n    return {literal(-math.inf)}\n", "f")
    assert low() == -math.inf
    nan = compile_function(f"def f():\n    return {literal(math.nan)}\n", "f")
    assert math.isnan(nan())


@pytest.mark.parametrize("value", [b"A", ["A"], {"A": 1}, {1}, object(), 1j, len])
def test_a_value_that_is_not_plain_data_is_refused_as_a_literal(value: Any) -> None:
    with pytest.raises(UnsafeLiteral) as refused:
        literal(value)
    assert refused.value.code == "unsafe_literal"


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("def f(x):\n    return open('x')\n", "unknown name"),
        ("def f(x):\n    return __import__('os')\n", "unknown name"),
        ("def f(x):\n    return x.__globals__\n", "dunder attribute"),
        ("def f(x):\n    return x.__class__.__subclasses__()\n", "dunder attribute"),
        ("def f(x):\n    return '{0.__class__}'.format(x)\n", "attribute not allowed"),
        ("import os\ndef f(x):\n    return x\n", "import"),
        ("def f(x):\n    while True:\n        pass\n", "loop"),
        ("def f(x):\n    return lambda: x\n", "lambda"),
        ("def f(x):\n    global y\n    return x\n", "global"),
        ("def f(x):\n    return b'bytes'\n", "bytes constant"),
        ("def f(x):\n    __y = 1\n    return x\n", "dunder name bound"),
        ("class f:\n    pass\n", "class"),
        ("def f(x):\n    try:\n        return x\n    except Exception:\n        return 0\n", "try"),
        ("def f(x) -> int:\n    return x\n", "annotation"),
        ("def f(x:\n", "syntax error"),
        ("K = 1\ndef f(x):\n    return x\n", "a statement outside a function"),
        ("len('runs while compiling')\ndef f(x):\n    return x\n", "a call at the top"),
    ],
)
def test_source_outside_the_rules_is_refused_before_it_runs(source: str, why: str) -> None:
    with pytest.raises(UnsafeGeneratedSource) as refused:
        compile_function(source, "f")
    assert refused.value.code == "unsafe_generated_source", why
    assert isinstance(refused.value, GeneratedCodeRefused)


def test_the_namespace_binds_the_only_other_names_and_its_keys_must_be_identifiers() -> None:
    add = compile_function("def f(x):\n    return K + x\n", "f", namespace={"K": 2})
    assert add(3) == 5
    with pytest.raises(UnsafeIdentifier):
        compile_function("def f(x):\n    return x\n", "f", namespace={"a-b": 1})
    with pytest.raises(UnsafeIdentifier):
        compile_function("def f(x):\n    return x\n", "f", namespace={"__builtins__": {}})


def test_attributes_are_allowed_by_name_and_never_private() -> None:
    source = "def f(x):\n    return x.real\n"
    with pytest.raises(UnsafeGeneratedSource):
        compile_function(source, "f")
    assert compile_function(source, "f", attributes=("real",))(4) == 4
    with pytest.raises(UnsafeIdentifier):
        compile_function(source, "f", attributes=("_private",))


def test_generated_functions_reach_only_the_safe_builtins() -> None:
    builtins = compile_function("def f():\n    return g\n", "f", namespace={"g": 1})
    assert builtins.__globals__["__builtins__"] == dict(SAFE_BUILTINS)
    assert "open" not in builtins.__globals__["__builtins__"]


def test_a_source_over_the_size_limit_is_refused() -> None:
    source = "def f():\n    return 1\n"
    with pytest.raises(GeneratedSourceTooLarge) as refused:
        compile_function(source, "f", max_chars=10)
    assert refused.value.code == "generated_source_too_large"
    assert refused.value.details == {"chars": len(source), "limit": 10}


def test_only_a_function_the_source_defines_is_returned() -> None:
    with pytest.raises(UnsafeGeneratedSource):
        compile_function("def f():\n    return 1\n", "g", namespace={"g": len})


def test_no_module_but_codegen_runs_generated_source() -> None:
    """``exec``/``eval``/builtin ``compile`` appear only in :mod:`puhui.codegen`: every run-time
    function goes through its rules."""
    package = Path(__file__).resolve().parents[2] / "src" / "puhui"
    callers = []
    for path in sorted(package.rglob("*.py")):
        if path.parent.name == "codegen":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("exec", "eval", "compile")
            ):
                callers.append(f"{path.relative_to(package)}:{node.lineno}")
    assert callers == []


def _racing_parse(failures: int, message: str) -> tuple[Callable[..., ast.Module], list[int]]:
    """``ast.parse`` that fails ``failures`` times as CPython 3.11 does when another thread
    builds an AST at the same moment, then parses."""
    calls: list[int] = []
    real = ast.parse

    def parse(*args: Any, **kwargs: Any) -> ast.Module:
        calls.append(1)
        if len(calls) <= failures:
            raise SystemError(message)
        return real(*args, **kwargs)

    return parse, calls


def test_a_parse_that_loses_cpython_3_11s_ast_race_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parse, calls = _racing_parse(
        2, "AST constructor recursion depth mismatch (before=57, after=149)"
    )
    monkeypatch.setattr(codegen.ast, "parse", parse)
    double = codegen.compile_function("def double(x):\n    return 2 * x\n", "double")
    assert double(21) == 42
    assert len(calls) == 3


def test_the_race_lost_every_time_or_another_system_error_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parse, calls = _racing_parse(99, "AST constructor recursion depth mismatch (before=1, after=2)")
    monkeypatch.setattr(codegen.ast, "parse", parse)
    with pytest.raises(SystemError, match="recursion depth mismatch"):
        codegen.compile_function("def f():\n    return 1\n", "f")
    assert len(calls) == codegen.PARSE_ATTEMPTS
    parse, calls = _racing_parse(1, "something else went wrong")
    monkeypatch.setattr(codegen.ast, "parse", parse)
    with pytest.raises(SystemError, match="something else"):
        codegen.compile_function("def f():\n    return 1\n", "f")
    assert len(calls) == 1
